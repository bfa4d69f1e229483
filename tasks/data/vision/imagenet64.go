package vision

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fob-go/fob/internal/atomicfile"
	"github.com/fob-go/fob/tasks/data"
)

// The official downsampled ImageNet 64×64 files (Chrabaszcz, Loshchilov & Hutter 2017, from
// image-net.org after login): pickled dicts {'data': uint8 [N, 12288] (R, G, B planes of
// 64×64), 'labels': N ints 1..1000, 'mean' (train only)}.
var (
	// Imagenet64TrainFiles are the ten training batches (1,281,167 images).
	Imagenet64TrainFiles = []string{"train_data_batch_1", "train_data_batch_2", "train_data_batch_3",
		"train_data_batch_4", "train_data_batch_5", "train_data_batch_6", "train_data_batch_7",
		"train_data_batch_8", "train_data_batch_9", "train_data_batch_10"}
	// Imagenet64ValFile is the validation batch (50,000 images).
	Imagenet64ValFile = "val_data"
	// Imagenet64Zips are the archives image-net.org serves, and the batch files inside each.
	Imagenet64Zips = map[string][]string{
		"Imagenet64_train_part1.zip": Imagenet64TrainFiles[:5],
		"Imagenet64_train_part2.zip": Imagenet64TrainFiles[5:],
		"Imagenet64_val.zip":         {Imagenet64ValFile},
	}
)

// Imagenet64Size is the side of the images.
const Imagenet64Size = 64

// Imagenet64 is a Source over memory-mapped batch files: 15.7 GB of training pixels stay on
// disk and in the page cache, never on the heap.
type Imagenet64 struct {
	files  []string
	pix    [][]byte
	labels [][]int64
	starts []int // starts[i] is the index of batch i's first image; starts[len] is Len
}

// LocateImagenet64 returns the paths of the batch files names, looked up in dir (engine.data_dir
// /classification), one folder below it (archives unpacked as folders), in the mirror folder
// (read in place), or extracted from the official zip archives found in dir or the mirror
// folder (into dir). Absent files give an error saying what to download and where to put it.
func LocateImagenet64(dir, mirrorDir string, names []string) ([]string, error) {
	out := make([]string, len(names))
	var missing []string
	for i, name := range names {
		p, err := locateBatch(dir, mirrorDir, name)
		if err != nil {
			return nil, err
		}
		if p == "" {
			missing = append(missing, name)
		}
		out[i] = p
	}
	if len(missing) > 0 {
		var zips []string
		for z, members := range Imagenet64Zips {
			for _, m := range members {
				if slices.Contains(missing, m) {
					zips = append(zips, z)
					break
				}
			}
		}
		sort.Strings(zips)
		return nil, fmt.Errorf("vision: ImageNet 64x64 batch files missing: %s. They need an image-net.org login, so fob cannot download them: "+
			"download %s (Downloads → Download downsampled image data → Imagenet64x64) and put the zip files, or the batch files unpacked from them, in %s (or in the mirror folder %s)",
			strings.Join(missing, ", "), strings.Join(zips, " and "), dir, orNone(mirrorDir))
	}
	return out, nil
}

func orNone(s string) string {
	if s == "" {
		return "(none set: engine.data_mirror)"
	}
	return s
}

// locateBatch finds one batch file; "" when absent everywhere.
func locateBatch(dir, mirrorDir, name string) (string, error) {
	var places []string
	for _, d := range []string{dir, mirrorDir} {
		if d == "" {
			continue
		}
		places = append(places, filepath.Join(d, name))
		subs, _ := filepath.Glob(filepath.Join(d, "*", name))
		places = append(places, subs...)
	}
	for _, p := range places {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	for z, members := range Imagenet64Zips {
		if !slices.Contains(members, name) {
			continue
		}
		for _, d := range []string{dir, mirrorDir} {
			if d == "" {
				continue
			}
			zp := filepath.Join(d, z)
			if _, err := os.Stat(zp); err != nil {
				continue
			}
			dst := filepath.Join(dir, name)
			if err := extractZipMember(zp, name, dst); err != nil {
				return "", err
			}
			return dst, nil
		}
	}
	return "", nil
}

// extractZipMember writes the member of the zip archive whose base name is name to dst,
// through a temporary file renamed into place.
func extractZipMember(zipPath, name, dst string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("vision: %s: %v (a damaged download: delete it and download it again)", zipPath, err)
	}
	defer zr.Close()
	i := slices.IndexFunc(zr.File, func(f *zip.File) bool { return path.Base(f.Name) == name && !f.FileInfo().IsDir() })
	if i < 0 {
		return fmt.Errorf("vision: %s has no member %s; it is not the official archive (delete it and download it again)", zipPath, name)
	}
	f := zr.File[i]
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("vision: %w", err)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("vision: %s: member %s: %w", zipPath, f.Name, err)
	}
	defer rc.Close()
	var copyErr error
	err = atomicfile.WriteFunc(dst, func(w io.Writer) error {
		_, copyErr = io.Copy(w, rc)
		return copyErr
	})
	if copyErr != nil {
		return fmt.Errorf("vision: extracting %s from %s: %v (a damaged download: delete it and download it again)", name, zipPath, copyErr)
	}
	if err != nil {
		return fmt.Errorf("vision: %w", err)
	}
	return nil
}

// OpenImagenet64 maps the batch files and checks their format and labels (1..1000, stored
// 0-based).
func OpenImagenet64(files []string) (*Imagenet64, error) {
	m := &Imagenet64{files: files, starts: []int{0}}
	for _, p := range files {
		b, err := mapFile(p)
		if err != nil {
			return nil, err
		}
		v, err := data.UnpickleShared(b)
		if err != nil {
			return nil, fmt.Errorf("vision: %s: %w (a damaged file: replace it from the official zip)", p, err)
		}
		d, ok := v.(*data.PyDict)
		if !ok {
			return nil, fmt.Errorf("vision: %s holds %T, want the dict of an Imagenet64 batch", p, v)
		}
		const row = 3 * Imagenet64Size * Imagenet64Size
		pix, n, err := uint8Rows(d, "data", row)
		if err != nil {
			return nil, fmt.Errorf("vision: %s: %w", p, err)
		}
		labels, err := intList(d, "labels", n, 1, 1000)
		if err != nil {
			return nil, fmt.Errorf("vision: %s: %w", p, err)
		}
		for i := range labels {
			labels[i]--
		}
		m.pix = append(m.pix, pix)
		m.labels = append(m.labels, labels)
		m.starts = append(m.starts, m.starts[len(m.starts)-1]+n)
	}
	return m, nil
}

// Len implements Source.
func (m *Imagenet64) Len() int { return m.starts[len(m.starts)-1] }

// Shape implements Source.
func (m *Imagenet64) Shape() (int, int, int) { return 3, Imagenet64Size, Imagenet64Size }

func (m *Imagenet64) locate(i int) (int, int) {
	b := sort.SearchInts(m.starts, i+1) - 1
	return b, i - m.starts[b]
}

// Label implements Source.
func (m *Imagenet64) Label(i int) int64 {
	b, k := m.locate(i)
	return m.labels[b][k]
}

// Image implements Source.
func (m *Imagenet64) Image(i int, dst *Image) {
	b, k := m.locate(i)
	const n = 3 * Imagenet64Size * Imagenet64Size
	dst.Reshape(3, Imagenet64Size, Imagenet64Size)
	copy(dst.Pix, m.pix[b][k*n:(k+1)*n])
}
