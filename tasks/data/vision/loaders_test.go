package vision

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks/data/vision/visiontest"
)

func checkMemory(t *testing.T, what string, m *Memory, pix []byte, labels []int) {
	t.Helper()
	if m.Len() != len(labels) || !bytes.Equal(m.Pix, pix) {
		t.Fatalf("%s: %d images (%d bytes), want %d (%d bytes) with the same pixels", what, m.Len(), len(m.Pix), len(labels), len(pix))
	}
	for i, l := range labels {
		if m.Label(i) != int64(l) {
			t.Errorf("%s label %d = %d, want %d", what, i, m.Label(i), l)
		}
	}
	var img Image
	m.Image(1, &img)
	if img.C != 3 || img.H != 32 || img.W != 32 || !bytes.Equal(img.Pix, pix[3072:2*3072]) {
		t.Errorf("%s: image 1 is %dx%dx%d and differs from the file's row 1", what, img.C, img.H, img.W)
	}
}

// TestReadCIFAR100 reads tiny archives laid out as the official one, pickled as Python 2
// writes it (str keys) and as Python 3 writes the same dicts with bytes keys (b'data', ...).
func TestReadCIFAR100(t *testing.T) {
	f := visiontest.NewCIFARFixture()
	for _, tc := range []struct {
		name           string
		py3, bytesKeys bool
	}{{"python2 str keys", false, false}, {"python2 bytes keys", false, true}, {"python3 bytes keys", true, true}, {"python3 str keys", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cifar-100-python.tar.gz")
			f.Write(t, p, tc.py3, tc.bytesKeys)
			c, err := ReadCIFAR100(p)
			if err != nil {
				t.Fatal(err)
			}
			checkMemory(t, "train", c.Train, f.TrainPix, f.TrainLabels)
			checkMemory(t, "test", c.Test, f.TestPix, f.TestLabels)
			if len(c.Classes) != 100 || c.Classes[42] != "class42" {
				t.Errorf("classes: %d names, [42] = %q", len(c.Classes), c.Classes[42])
			}
		})
	}
}

// TestReadCIFAR100Errors covers missing, damaged and foreign files: each error names the file
// or member and what is wrong.
func TestReadCIFAR100Errors(t *testing.T) {
	f := visiontest.NewCIFARFixture()
	good := visiontest.BatchPickle(false, false, f.TrainPix, 3072, "fine_labels", f.TrainLabels)
	cases := []struct {
		name  string
		write func(t *testing.T, p string)
		want  string
	}{
		{"missing file", func(*testing.T, string) {}, "no such file"},
		{"not gzip", func(t *testing.T, p string) { os.WriteFile(p, []byte("<html>login</html>"), 0o644) }, "not a gzip file"},
		{"truncated", func(t *testing.T, p string) {
			f.Write(t, p, false, false)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, "delete it and fetch it again"},
		{"no test member", func(t *testing.T, p string) {
			visiontest.WriteTarGz(t, p, []string{"cifar-100-python/train"}, map[string][]byte{"cifar-100-python/train": good})
		}, "lacks cifar-100-python/train or cifar-100-python/test"},
		{"label out of range", func(t *testing.T, p string) {
			bad := visiontest.BatchPickle(false, false, f.TrainPix, 3072, "fine_labels", []int{0, 1, 100, 2, 3})
			visiontest.WriteTarGz(t, p, []string{"cifar-100-python/train", "cifar-100-python/test"}, map[string][]byte{"cifar-100-python/train": bad, "cifar-100-python/test": good})
		}, `member cifar-100-python/train: key "fine_labels" item 2 is 100, outside 0..99`},
		{"label count", func(t *testing.T, p string) {
			bad := visiontest.BatchPickle(false, false, f.TrainPix, 3072, "fine_labels", []int{0, 1})
			visiontest.WriteTarGz(t, p, []string{"cifar-100-python/train", "cifar-100-python/test"}, map[string][]byte{"cifar-100-python/train": bad, "cifar-100-python/test": good})
		}, `has 2 labels for 5 images`},
		{"wrong row size", func(t *testing.T, p string) {
			bad := visiontest.BatchPickle(false, false, f.TrainPix[:5*3000], 3000, "fine_labels", f.TrainLabels)
			visiontest.WriteTarGz(t, p, []string{"cifar-100-python/train", "cifar-100-python/test"}, map[string][]byte{"cifar-100-python/train": bad, "cifar-100-python/test": good})
		}, `shape [5 3000]`},
		{"coarse only", func(t *testing.T, p string) {
			bad := visiontest.BatchPickle(false, false, f.TrainPix, 3072, "labels", f.TrainLabels)
			visiontest.WriteTarGz(t, p, []string{"cifar-100-python/train", "cifar-100-python/test"}, map[string][]byte{"cifar-100-python/train": bad, "cifar-100-python/test": good})
		}, `no key "fine_labels"`},
		{"damaged pickle", func(t *testing.T, p string) {
			visiontest.WriteTarGz(t, p, []string{"cifar-100-python/train", "cifar-100-python/test"}, map[string][]byte{"cifar-100-python/train": good[:len(good)-40], "cifar-100-python/test": good})
		}, "member cifar-100-python/train: pickle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cifar-100-python.tar.gz")
			tc.write(t, p)
			_, err := ReadCIFAR100(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestImagenet64 writes two tiny training batches and a validation batch as Python 3 pickles
// of the official dicts, and reads them as loose files, from a sub-folder, and from the
// official zip archives (extracted on first use).
func TestImagenet64(t *testing.T) {
	pix1, b1 := visiontest.ImagenetBatch(3, 1, []int{1, 1000, 500})
	pix2, b2 := visiontest.ImagenetBatch(2, 2, []int{2, 3})
	names := []string{"train_data_batch_1", "train_data_batch_2"}
	for _, layout := range []string{"files", "subfolder", "zip", "mirror zip"} {
		t.Run(layout, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "classification")
			mirror := filepath.Join(t.TempDir(), "classification")
			os.MkdirAll(dir, 0o755)
			os.MkdirAll(mirror, 0o755)
			switch layout {
			case "files":
				os.WriteFile(filepath.Join(dir, names[0]), b1, 0o644)
				os.WriteFile(filepath.Join(dir, names[1]), b2, 0o644)
			case "subfolder":
				sub := filepath.Join(dir, "Imagenet64_train_part1")
				os.MkdirAll(sub, 0o755)
				os.WriteFile(filepath.Join(sub, names[0]), b1, 0o644)
				os.WriteFile(filepath.Join(sub, names[1]), b2, 0o644)
			case "zip", "mirror zip":
				d := dir
				if layout == "mirror zip" {
					d = mirror
				}
				visiontest.WriteZip(t, filepath.Join(d, "Imagenet64_train_part1.zip"), map[string][]byte{"Imagenet64_train_part1/" + names[0]: b1, "Imagenet64_train_part1/" + names[1]: b2})
			}
			files, err := LocateImagenet64(dir, mirror, names)
			if err != nil {
				t.Fatal(err)
			}
			m, err := OpenImagenet64(files)
			if err != nil {
				t.Fatal(err)
			}
			if m.Len() != 5 {
				t.Fatalf("Len %d, want 5", m.Len())
			}
			wantLabels := []int64{0, 999, 499, 1, 2}
			wantPix := append(append([]byte(nil), pix1...), pix2...)
			var img Image
			for i, l := range wantLabels {
				if m.Label(i) != l {
					t.Errorf("label %d = %d, want %d (file labels are 1-based)", i, m.Label(i), l)
				}
				m.Image(i, &img)
				if img.C != 3 || img.H != 64 || img.W != 64 || !bytes.Equal(img.Pix, wantPix[i*12288:(i+1)*12288]) {
					t.Errorf("image %d differs from the file's row", i)
				}
			}
			if strings.Contains(layout, "zip") {
				if _, err := os.Stat(filepath.Join(dir, names[1])); err != nil {
					t.Errorf("batch not extracted into the data folder: %v", err)
				}
			}
		})
	}
}

// TestImagenet64Errors: absent files give download instructions; damaged ones name the file.
func TestImagenet64Errors(t *testing.T) {
	dir := t.TempDir()
	_, err := LocateImagenet64(dir, "", append(append([]string(nil), Imagenet64TrainFiles...), Imagenet64ValFile))
	for _, want := range []string{"Imagenet64_train_part1.zip", "Imagenet64_train_part2.zip", "Imagenet64_val.zip", "image-net.org", dir, "val_data"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing files: error %v, want it to mention %q", err, want)
		}
	}
	_, good := visiontest.ImagenetBatch(2, 3, []int{5, 6})
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"label 0", visiontest.BatchPickle(true, false, visiontest.Pattern(2*12288, 1), 12288, "labels", []int{0, 6}), "item 0 is 0, outside 1..1000"},
		{"label 1001", visiontest.BatchPickle(true, false, visiontest.Pattern(2*12288, 1), 12288, "labels", []int{1001, 6}), "outside 1..1000"},
		{"32x32 rows", visiontest.BatchPickle(true, false, visiontest.Pattern(2*3072, 1), 3072, "labels", []int{1, 6}), "want [N, 12288]"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"not a pickle", []byte("PK\x03\x04 this is a zip"), "pickle"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "train_data_batch_1")
			os.WriteFile(p, tc.content, 0o644)
			_, err := OpenImagenet64([]string{p})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, p, tc.want)
			}
		})
	}
	t.Run("zip without the member", func(t *testing.T) {
		d := t.TempDir()
		visiontest.WriteZip(t, filepath.Join(d, "Imagenet64_val.zip"), map[string][]byte{"readme.txt": []byte("x")})
		_, err := LocateImagenet64(d, "", []string{Imagenet64ValFile})
		if err == nil || !strings.Contains(err.Error(), "has no member val_data") {
			t.Fatalf("error %v", err)
		}
	})
}
