package data

import (
	"archive/zip"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestResizeMatchesPIL compares ResizeBilinear and ResizeNearest with PIL's Image.resize
// (BILINEAR, NEAREST), the resizes of SegformerImageProcessor, up and down and at equal size.
// PIL computes bilinear in 22-bit fixed point; values may differ by one level of 255.
func TestResizeMatchesPIL(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import PIL, numpy").CombinedOutput(); err != nil {
		t.Fatalf("the reference needs /usr/bin/python3 with PIL and numpy (apt-get install python3-pil python3-numpy): %v\n%s", err, out)
	}
	path := filepath.Join(t.TempDir(), "ref.json")
	if out, err := exec.Command("/usr/bin/python3", "testdata/pil_resize_ref.py", path).CombinedOutput(); err != nil {
		t.Fatalf("pil_resize_ref.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		H, W, OH, OW         int
		Img, Lab, RImg, RLab []uint8
	}
	var generic []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	for _, g := range generic {
		var c struct {
			H, W, OH, OW         int
			Img, Lab, RImg, RLab []uint8
		}
		for k, dst := range map[string]any{"h": &c.H, "w": &c.W, "oh": &c.OH, "ow": &c.OW} {
			if err := json.Unmarshal(g[k], dst); err != nil {
				t.Fatal(err)
			}
		}
		for k, dst := range map[string]*[]uint8{"img": &c.Img, "lab": &c.Lab, "rimg": &c.RImg, "rlab": &c.RLab} {
			var v []int
			if err := json.Unmarshal(g[k], &v); err != nil {
				t.Fatal(err)
			}
			*dst = make([]uint8, len(v))
			for i, x := range v {
				(*dst)[i] = uint8(x)
			}
		}
		cases = append(cases, c)
	}
	for _, c := range cases {
		got := ResizeBilinear(c.Img, 3, c.H, c.W, c.OH, c.OW)
		off := 0
		for i := range got {
			d := int(got[i]) - int(c.RImg[i])
			if d > 1 || d < -1 {
				t.Fatalf("%dx%d→%dx%d: bilinear value %d is %d, PIL %d", c.H, c.W, c.OH, c.OW, i, got[i], c.RImg[i])
			}
			if d != 0 {
				off++
			}
		}
		if off > len(got)/20 {
			t.Errorf("%dx%d→%dx%d: %d of %d values off by one from PIL", c.H, c.W, c.OH, c.OW, off, len(got))
		}
		gl := ResizeNearest(c.Lab, c.H, c.W, c.OH, c.OW)
		for i := range gl {
			if gl[i] != c.RLab[i] {
				t.Fatalf("%dx%d→%dx%d: nearest label %d is %d, PIL %d", c.H, c.W, c.OH, c.OW, i, gl[i], c.RLab[i])
			}
		}
	}
}

// TestReduceLabels: 0 → 255, c → c-1, 255 stays.
func TestReduceLabels(t *testing.T) {
	l := []uint8{0, 1, 150, 255, 7}
	ReduceLabels(l)
	want := []uint8{255, 0, 149, 255, 6}
	for i := range l {
		if l[i] != want[i] {
			t.Fatalf("ReduceLabels = %v, want %v", l, want)
		}
	}
}

// TestRandomResizedCropBox: boxes always fit; areas follow the scale range where they fit; the
// fallback (a range no box fits) is the centre crop.
func TestRandomResizedCropBox(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fits := 0
	for range 2000 {
		top, left, ch, cw := RandomResizedCropBox(rng, 64, 48, 0.5, 2)
		if top < 0 || left < 0 || ch < 1 || cw < 1 || top+ch > 64 || left+cw > 48 {
			t.Fatalf("box (%d,%d,%d,%d) outside 64x48", top, left, ch, cw)
		}
		if a := float64(ch*cw) / (64 * 48); a >= 0.45 && a <= 1 {
			fits++
		}
	}
	if fits != 2000 {
		t.Errorf("%d of 2000 boxes with an area fraction outside [0.5, 1] (rounding aside)", 2000-fits)
	}
	top, left, ch, cw := RandomResizedCropBox(rng, 40, 100, 3, 4) // never fits: centre crop at ratio 4/3
	if ch != 40 || cw != 53 || top != 0 || left != 23 {
		t.Errorf("fallback box (%d,%d,%d,%d), want (0,23,40,53)", top, left, ch, cw)
	}
}

// writeADE writes a tiny ADEChallengeData2016 tree: colour and grayscale JPEGs with annotations.
func writeADE(t *testing.T, root string, mismatch bool) {
	t.Helper()
	for _, split := range []string{"training", "validation"} {
		for _, sub := range []string{"images", "annotations"} {
			if err := os.MkdirAll(filepath.Join(root, ADE20KDir, sub, split), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i, gray := range []bool{false, true, false} {
			name := filepath.Join(root, ADE20KDir, "images", split, "ADE_"+split+"_"+string(rune('a'+i))+".jpg")
			var img image.Image
			if gray {
				img = image.NewGray(image.Rect(0, 0, 12, 10))
			} else {
				rgb := image.NewRGBA(image.Rect(0, 0, 12, 10))
				for p := range rgb.Pix {
					rgb.Pix[p] = uint8(p * 7)
				}
				img = rgb
			}
			f, err := os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := jpeg.Encode(f, img, nil); err != nil {
				t.Fatal(err)
			}
			f.Close()
			w := 12
			if mismatch && i == 2 {
				w = 11
			}
			lab := image.NewGray(image.Rect(0, 0, w, 10))
			lab.SetGray(3, 4, color.Gray{5})
			lf, err := os.Create(filepath.Join(root, ADE20KDir, "annotations", split, "ADE_"+split+"_"+string(rune('a'+i))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(lf, lab); err != nil {
				t.Fatal(err)
			}
			lf.Close()
		}
	}
}

// TestListADE20K: pairs sorted, grayscale images left out, a missing or mismatched annotation
// is an error naming the file.
func TestListADE20K(t *testing.T) {
	root := t.TempDir()
	writeADE(t, root, false)
	s, skipped, err := ListADE20K(filepath.Join(root, ADE20KDir), "validation")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || skipped != 1 || !strings.HasSuffix(s[1].Annotation, "ADE_validation_c.png") {
		t.Fatalf("samples %v, skipped %d; want 2 colour samples and 1 grayscale skipped", s, skipped)
	}
	pix, h, w, err := ReadRGB(s[0].Image)
	if err != nil || h != 10 || w != 12 || len(pix) != 3*120 {
		t.Fatalf("ReadRGB: %v %dx%d", err, h, w)
	}
	lab, _, _, err := ReadLabelPNG(s[0].Annotation)
	if err != nil || lab[4*12+3] != 5 {
		t.Fatalf("ReadLabelPNG: %v, value %v", err, lab[4*12+3])
	}
	bad := t.TempDir()
	writeADE(t, bad, true)
	if _, _, err := ListADE20K(filepath.Join(bad, ADE20KDir), "training"); err == nil || !strings.Contains(err.Error(), "is 11x10 but its image") {
		t.Errorf("mismatched annotation: error %v", err)
	}
	os.Remove(filepath.Join(root, ADE20KDir, "annotations", "training", "ADE_training_a.png"))
	if _, _, err := ListADE20K(filepath.Join(root, ADE20KDir), "training"); err == nil || !strings.Contains(err.Error(), "has no annotation") {
		t.Errorf("missing annotation: error %v", err)
	}
	if _, _, err := ListADE20K(filepath.Join(root, "nowhere"), "training"); err == nil || !strings.Contains(err.Error(), "annotations/training/*.png") {
		t.Errorf("missing folder: error %v", err)
	}
}

// zipTree zips the files under root into path, names relative to root.
func zipTree(t *testing.T, root, path string, extra ...string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range extra {
		if _, err := zw.Create(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestLocateADE20K: the official zip in the mirror is copied and unpacked into the data folder;
// an unpacked mirror folder is used in place; a zip entry escaping the folder is refused;
// without data the error says where to put it.
func TestLocateADE20K(t *testing.T) {
	src, mirror := t.TempDir(), t.TempDir()
	writeADE(t, src, false)
	if err := os.MkdirAll(filepath.Join(mirror, "segmentation"), 0o755); err != nil {
		t.Fatal(err)
	}
	zipTree(t, src, filepath.Join(mirror, "segmentation", ADE20KZip.Name))
	env := Env{DataDir: t.TempDir(), Mirror: mirror, Progress: os.Stderr}
	root, err := LocateADE20K(context.Background(), env, "segmentation")
	if err != nil {
		t.Fatal(err)
	}
	if root != filepath.Join(env.DataDir, "segmentation", ADE20KDir) {
		t.Errorf("root %s", root)
	}
	if s, _, err := ListADE20K(root, "training"); err != nil || len(s) != 2 {
		t.Fatalf("unpacked tree: %v %v", s, err)
	}
	// Unpacked folder in the mirror: used in place.
	m2 := t.TempDir()
	writeADE(t, filepath.Join(m2, "segmentation"), false)
	root, err = LocateADE20K(context.Background(), Env{DataDir: t.TempDir(), Mirror: m2}, "segmentation")
	if err != nil || root != filepath.Join(m2, "segmentation", ADE20KDir) {
		t.Fatalf("mirror folder: %s %v", root, err)
	}
	// Zip slip.
	evil := filepath.Join(t.TempDir(), "evil.zip")
	zipTree(t, src, evil, ADE20KDir+"/../../escape.txt")
	if err := ExtractZip(context.Background(), evil, t.TempDir(), ADE20KDir+"/"); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("zip slip: error %v", err)
	}
	// Nothing anywhere (no network in tests: an unroutable URL).
	saved := ADE20KZip.URLs
	ADE20KZip.URLs = []string{"http://127.0.0.1:1/ADEChallengeData2016.zip"}
	defer func() { ADE20KZip.URLs = saved }()
	_, err = LocateADE20K(context.Background(), Env{DataDir: t.TempDir(), Progress: os.Stderr}, "segmentation")
	if err == nil || !strings.Contains(err.Error(), "images/ and annotations/") {
		t.Errorf("no data: error %v", err)
	}
}
