package data

import (
	"archive/zip"
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // ADE20K images
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ADE20KDir is the folder of the official ADE20K scene-parsing release (SceneParse150): images/
// and annotations/, each with training/ (20,210 files) and validation/ (2,000).
const ADE20KDir = "ADEChallengeData2016"

// ADE20KZip is the official archive; the MIT server publishes no checksum, so it is taken as
// found (its content is checked when it is read: every image needs its annotation).
var ADE20KZip = File{
	Name:     ADE20KDir + ".zip",
	URLs:     []string{"http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip"},
	Unpinned: true,
}

// ADE20KClasses is the number of SceneParse150 classes (annotation values 1..150; 0 is "other").
const ADE20KClasses = 150

// ADE20KSample is one image and its annotation.
type ADE20KSample struct {
	Image, Annotation string
}

// LocateADE20K returns the ADEChallengeData2016 folder for task: <data_dir>/<task>/ADEChallengeData2016
// if present, else the same folder in the mirror (<mirror>/<task>/ADEChallengeData2016, used in
// place), else the zip (from the mirror or the official URL) unpacked into the data folder.
func LocateADE20K(ctx context.Context, env Env, task string) (string, error) {
	if env.DataDir == "" {
		return "", fmt.Errorf("data: no data directory set (engine.data_dir) for ADE20K")
	}
	local := filepath.Join(env.DataDir, task, ADE20KDir)
	if isDir(filepath.Join(local, "images")) {
		return local, nil
	}
	if env.Mirror != "" {
		if m := filepath.Join(env.Mirror, task, ADE20KDir); isDir(filepath.Join(m, "images")) {
			return m, nil
		}
	}
	zipPath, err := Fetch(ctx, env, task, ADE20KZip)
	if err != nil {
		return "", fmt.Errorf("data: ADE20K: %w; or unpack ADEChallengeData2016.zip so that %s holds images/ and annotations/", err, local)
	}
	if err := ExtractZip(ctx, zipPath, filepath.Join(env.DataDir, task), ADE20KDir+"/"); err != nil {
		return "", err
	}
	if !isDir(filepath.Join(local, "images")) {
		return "", fmt.Errorf("data: %s holds no %s/images folder; is it the ADE20K scene-parsing archive?", zipPath, ADE20KDir)
	}
	return local, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// ExtractZip unpacks the entries of zipPath under prefix into dir: into a temporary folder
// first, renamed into place at the end, so an interrupted extraction leaves nothing half done.
// Entries that would land outside dir are an error.
func ExtractZip(ctx context.Context, zipPath, dir, prefix string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("data: %s: %w", zipPath, err)
	}
	defer zr.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".extract-")
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer os.RemoveAll(tmp)
	top := map[string]bool{}
	for _, f := range zr.File {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !strings.HasPrefix(f.Name, prefix) {
			continue
		}
		name := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("data: %s: entry %q points outside the folder", zipPath, f.Name)
		}
		top[strings.SplitN(f.Name, "/", 2)[0]] = true
		dst := filepath.Join(tmp, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("data: %w", err)
			}
			continue
		}
		if err := extractOne(f, dst); err != nil {
			return fmt.Errorf("data: %s: %s: %w", zipPath, f.Name, err)
		}
	}
	for t := range top {
		if err := os.Rename(filepath.Join(tmp, t), filepath.Join(dir, t)); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	return nil
}

func extractOne(f *zip.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// ListADE20K lists split ("training" or "validation") of the folder root: every
// images/<split>/*.jpg with its annotations/<split>/<name>.png, sorted by name. Grayscale images
// are left out, as FOB filters images with fewer than three dimensions; skipped counts them.
func ListADE20K(root, split string) (samples []ADE20KSample, skipped int, err error) {
	imgDir := filepath.Join(root, "images", split)
	entries, err := os.ReadDir(imgDir)
	if err != nil {
		return nil, 0, fmt.Errorf("data: ADE20K %s split: %w (want %s/images/%s/*.jpg and annotations/%s/*.png)", split, err, root, split, split)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".jpg") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, 0, fmt.Errorf("data: ADE20K: no .jpg images in %s", imgDir)
	}
	for _, n := range names {
		s := ADE20KSample{
			Image:      filepath.Join(imgDir, n),
			Annotation: filepath.Join(root, "annotations", split, strings.TrimSuffix(n, filepath.Ext(n))+".png"),
		}
		if _, err := os.Stat(s.Annotation); err != nil {
			return nil, 0, fmt.Errorf("data: ADE20K image %s has no annotation: %w", s.Image, err)
		}
		gray, err := checkPair(s)
		if err != nil {
			return nil, 0, err
		}
		if gray {
			skipped++
			continue
		}
		samples = append(samples, s)
	}
	return samples, skipped, nil
}

// checkPair reads the headers of an image and its annotation: both must decode and have the
// same size. It reports whether the image is grayscale.
func checkPair(s ADE20KSample) (gray bool, err error) {
	img, err := decodeConfig(s.Image)
	if err != nil {
		return false, err
	}
	lab, err := decodeConfig(s.Annotation)
	if err != nil {
		return false, err
	}
	if img.Width != lab.Width || img.Height != lab.Height {
		return false, fmt.Errorf("data: ADE20K annotation %s is %dx%d but its image %s is %dx%d", s.Annotation, lab.Width, lab.Height, s.Image, img.Width, img.Height)
	}
	return img.ColorModel == color.GrayModel || img.ColorModel == color.Gray16Model, nil
}

func decodeConfig(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return image.Config{}, fmt.Errorf("data: %s: not a readable image: %w", path, err)
	}
	return cfg, nil
}

// ReadRGB decodes an image into planar RGB bytes [3, h, w].
func ReadRGB(path string) (pix []uint8, h, w int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: %s: %w", path, err)
	}
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	pix = make([]uint8, 3*h*w)
	// JPEGs decode to *image.YCbCr: reading it directly gives the same bytes as the generic
	// path (an opaque colour's NRGBA is its RGBA shifted to 8 bits) without two interface
	// conversions per pixel.
	ycc, _ := img.(*image.YCbCr)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, bl uint8
			if ycc != nil {
				r16, g16, b16, _ := ycc.YCbCrAt(b.Min.X+x, b.Min.Y+y).RGBA()
				r, g, bl = uint8(r16>>8), uint8(g16>>8), uint8(b16>>8)
			} else {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				r, g, bl = c.R, c.G, c.B
			}
			pix[y*w+x], pix[h*w+y*w+x], pix[2*h*w+y*w+x] = r, g, bl
		}
	}
	return pix, h, w, nil
}

// ReadLabelPNG decodes an annotation PNG (8-bit gray or paletted: the pixel value or palette
// index is the class) into [h, w] bytes.
func ReadLabelPNG(path string) (lab []uint8, h, w int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: %s: %w", path, err)
	}
	b := img.Bounds()
	h, w = b.Dy(), b.Dx()
	var pix []uint8
	var stride int
	switch m := img.(type) {
	case *image.Gray:
		pix, stride = m.Pix, m.Stride
	case *image.Paletted:
		pix, stride = m.Pix, m.Stride
	default:
		return nil, 0, 0, fmt.Errorf("data: %s: annotation is %T; want an 8-bit grayscale or paletted PNG of class indices", path, img)
	}
	lab = make([]uint8, h*w)
	for y := 0; y < h; y++ {
		copy(lab[y*w:(y+1)*w], pix[y*stride:y*stride+w])
	}
	return lab, h, w, nil
}

// ReduceLabels is SegformerImageProcessor's do_reduce_labels: 0 ("other") becomes 255 (ignored),
// every other class c becomes c-1, and 255 stays 255.
func ReduceLabels(lab []uint8) {
	for i, v := range lab {
		switch v {
		case 0, 255:
			lab[i] = 255
		default:
			lab[i] = v - 1
		}
	}
}

// resampleWeights are PIL's resampling coefficients for one axis (ImagingResample with the
// bilinear "triangle" filter): the filter widens by the scale when shrinking (antialiasing).
func resampleWeights(in, out int) (start []int, weights [][]float64) {
	scale := float64(in) / float64(out)
	fs := math.Max(scale, 1)
	support := fs // triangle support 1
	start = make([]int, out)
	weights = make([][]float64, out)
	for o := 0; o < out; o++ {
		center := (float64(o) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		ws := make([]float64, hi-lo)
		var sum float64
		for k := range ws {
			x := (float64(k+lo) - center + 0.5) / fs
			if x < 0 {
				x = -x
			}
			if x < 1 {
				ws[k] = 1 - x
			}
			sum += ws[k]
		}
		for k := range ws {
			if sum != 0 {
				ws[k] /= sum
			}
		}
		start[o], weights[o] = lo, ws
	}
	return start, weights
}

// ResizeBilinear resizes planar 8-bit images [c, h, w] to [c, oh, ow] as PIL's
// Image.resize(resample=BILINEAR) does (the resize SegformerImageProcessor and torchvision
// apply): horizontal pass, then vertical, each rounded to 8 bits.
func ResizeBilinear(src []uint8, c, h, w, oh, ow int) []uint8 {
	xs, xw := resampleWeights(w, ow)
	ys, yw := resampleWeights(h, oh)
	round := func(v float64) uint8 { return uint8(math.Min(math.Max(math.Floor(v+0.5), 0), 255)) }
	tmp := make([]uint8, c*h*ow)
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			row := src[ch*h*w+y*w:]
			for o := 0; o < ow; o++ {
				var s float64
				for k, wt := range xw[o] {
					s += wt * float64(row[xs[o]+k])
				}
				tmp[ch*h*ow+y*ow+o] = round(s)
			}
		}
	}
	dst := make([]uint8, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		for o := 0; o < oh; o++ {
			for x := 0; x < ow; x++ {
				var s float64
				for k, wt := range yw[o] {
					s += wt * float64(tmp[ch*h*ow+(ys[o]+k)*ow+x])
				}
				dst[ch*oh*ow+o*ow+x] = round(s)
			}
		}
	}
	return dst
}

// ResizeNearest resizes a label map [h, w] to [oh, ow] with PIL's NEAREST rule (its
// ImagingScaleAffine): source index floor((o + 0.5) · in/out), with the position accumulated
// step by step in float64 as PIL does, so that positions landing exactly on a pixel edge pick
// the same pixel.
func ResizeNearest(src []uint8, h, w, oh, ow int) []uint8 {
	table := func(in, out int) []int {
		scale := float64(in) / float64(out)
		t := make([]int, out)
		pos := scale * 0.5
		for o := range t {
			t[o] = min(max(int(pos), 0), in-1)
			pos += scale
		}
		return t
	}
	xs, ys := table(w, ow), table(h, oh)
	dst := make([]uint8, oh*ow)
	for y := 0; y < oh; y++ {
		row := src[ys[y]*w:]
		for x := 0; x < ow; x++ {
			dst[y*ow+x] = row[xs[x]]
		}
	}
	return dst
}

// RandomResizedCropBox draws torchvision's RandomResizedCrop.get_params for an h×w image: up to
// ten tries of an area fraction in [scaleMin, scaleMax] and a log-uniform aspect ratio in
// [3/4, 4/3] that fits; otherwise the centre crop of the clamped ratio.
func RandomResizedCropBox(rng *rand.Rand, h, w int, scaleMin, scaleMax float64) (top, left, ch, cw int) {
	area := float64(h * w)
	lr0, lr1 := math.Log(3.0/4), math.Log(4.0/3)
	for range 10 {
		target := area * (scaleMin + rng.Float64()*(scaleMax-scaleMin))
		ratio := math.Exp(lr0 + rng.Float64()*(lr1-lr0))
		cw = int(math.Round(math.Sqrt(target * ratio)))
		ch = int(math.Round(math.Sqrt(target / ratio)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			return rng.IntN(h - ch + 1), rng.IntN(w - cw + 1), ch, cw
		}
	}
	in := float64(w) / float64(h)
	switch {
	case in < 3.0/4:
		cw, ch = w, int(math.Round(float64(w)/(3.0/4)))
	case in > 4.0/3:
		ch, cw = h, int(math.Round(float64(h)*(4.0/3)))
	default:
		cw, ch = w, h
	}
	return (h - ch) / 2, (w - cw) / 2, ch, cw
}

// ImageNet normalisation (SegformerImageProcessor's image_mean and image_std).
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// NormalizeImageNet scales planar RGB bytes [3, h, w] to [0, 1] and normalises each channel,
// writing into dst.
func NormalizeImageNet(dst []float32, pix []uint8, hw int) {
	for c := 0; c < 3; c++ {
		for i := 0; i < hw; i++ {
			dst[c*hw+i] = (float32(pix[c*hw+i])/255 - ImageNetMean[c]) / ImageNetStd[c]
		}
	}
}
