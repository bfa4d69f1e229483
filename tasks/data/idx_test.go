package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"testing"
)

// idxBytes builds an idx file: magic, dims, data.
func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadIDX(t *testing.T) {
	pix := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	images := idxBytes(idxImagesMagic, []uint32{2, 2, 3}, pix)
	labels := idxBytes(idxLabelsMagic, []uint32{3}, []byte{7, 0, 9})
	badCRC := gz(images)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC32 in the gzip trailer
	tests := []struct {
		name    string
		content []byte
		labels  bool
		wantErr []string
	}{
		{name: "images plain", content: images},
		{name: "images gzip", content: gz(images)},
		{name: "labels gzip", content: gz(labels), labels: true},
		{name: "labels plain", content: labels, labels: true},
		{name: "truncated data", content: gz(images[:len(images)-3]), wantErr: []string{"truncated", "[2 2 3] = 12 bytes", "only 9 follow"}},
		{name: "truncated header", content: images[:10], wantErr: []string{"truncated idx header"}},
		{name: "truncated gzip stream", content: gz(images)[:30], wantErr: []string{"truncated"}},
		{name: "bad gzip checksum", content: badCRC, wantErr: []string{"corrupt or truncated compressed stream", "checksum"}},
		{name: "labels given as images", content: labels, wantErr: []string{"not an idx image file", "0x00000801", "0x00000803"}},
		{name: "images given as labels", content: images, labels: true, wantErr: []string{"not an idx label file"}},
		{name: "trailing data", content: append(append([]byte{}, images...), 0), wantErr: []string{"continues past"}},
		{name: "absurd header", content: idxBytes(idxImagesMagic, []uint32{1 << 20, 1 << 20, 1 << 20}, nil), wantErr: []string{"corrupt file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "f.idx"), tc.content)
			var err error
			if tc.labels {
				var got []uint8
				got, err = ReadIDXLabels(p)
				if err == nil && !bytes.Equal(got, []byte{7, 0, 9}) {
					t.Errorf("labels %v", got)
				}
			} else {
				var n, r, c int
				var got []uint8
				n, r, c, got, err = ReadIDXImages(p)
				if err == nil && (n != 2 || r != 2 || c != 3 || !bytes.Equal(got, pix)) {
					t.Errorf("got %d×%d×%d %v", n, r, c, got)
				}
			}
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			mustContain(t, err, append(tc.wantErr, p)...)
		})
	}
}

// The real MNIST files: sizes, the known class counts of the training set, and pixel range.
func TestReadIDXMNIST(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to locate the GoMNIST module")
	}
	dir, err := GoMNISTModule.Locate(context.Background())
	if err != nil {
		t.Skipf("GoMNIST module not available: %v", err)
	}
	dir = filepath.Join(dir, "data")
	n, r, c, pix, err := ReadIDXImages(filepath.Join(dir, MNISTTrainImages.Name))
	if err != nil {
		t.Fatal(err)
	}
	if n != 60000 || r != 28 || c != 28 || len(pix) != 60000*784 {
		t.Fatalf("train images %d×%d×%d", n, r, c)
	}
	var sum float64
	for _, p := range pix {
		sum += float64(p)
	}
	// torchvision's normalization constant: mean pixel 0.1307 of the scale 0..1.
	if mean := sum / float64(len(pix)) / 255; mean < 0.13065 || mean > 0.13075 {
		t.Errorf("mean pixel %.5f, want 0.1307", mean)
	}
	labels, err := ReadIDXLabels(filepath.Join(dir, MNISTTrainLabels.Name))
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 10)
	for _, l := range labels {
		counts[l]++
	}
	want := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	for i := range want {
		if counts[i] != want[i] {
			t.Errorf("train class counts %v, want %v", counts, want)
			break
		}
	}
	n, _, _, _, err = ReadIDXImages(filepath.Join(dir, MNISTTestImages.Name))
	if err != nil || n != 10000 {
		t.Errorf("test images: %d, %v", n, err)
	}
	tl, err := ReadIDXLabels(filepath.Join(dir, MNISTTestLabels.Name))
	if err != nil || len(tl) != 10000 {
		t.Errorf("test labels: %d, %v", len(tl), err)
	}
}
