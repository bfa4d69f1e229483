package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"testing"
)

func tgz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func near32(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 1e-6*math.Max(1, math.Abs(float64(b)))
}

func TestReadCalHousingSmall(t *testing.T) {
	rows := "-122.230000,37.880000,41.000000,880.000000,129.000000,322.000000,126.000000,8.325200,452600.000000\n" +
		"-121.240000,39.370000,16.000000,2785.000000,616.000000,1387.000000,530.000000,2.388600,89400.000000\n"
	good := tgz(t, map[string]string{"CaliforniaHousing/cal_housing.domain": "x", CalHousingMember: rows})
	tests := []struct {
		name    string
		content []byte
		wantErr string
	}{
		{"good", good, ""},
		{"truncated archive", good[:len(good)/2], "corrupt or truncated"},
		{"gzip trailer missing", good[:len(good)-4], "corrupt or truncated"},
		{"not gzip", []byte("plain text"), "not a gzip archive"},
		{"member missing", tgz(t, map[string]string{"other.data": rows}), "no CaliforniaHousing/cal_housing.data"},
		{"short row", tgz(t, map[string]string{CalHousingMember: "1,2,3\n"}), "line 1 has 3 columns"},
		{"bad number", tgz(t, map[string]string{CalHousingMember: "1,2,3,4,5,6,7,x,9\n"}), "line 1 column 8"},
		{"empty", tgz(t, map[string]string{CalHousingMember: ""}), "no rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "cal_housing.tgz"), tc.content)
			x, y, err := ReadCalHousing(p)
			if tc.wantErr != "" {
				mustContain(t, err, tc.wantErr, p)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []float32{8.3252, 41, 880.0 / 126, 129.0 / 126, 322, 322.0 / 126, 37.88, -122.23,
				2.3886, 16, 2785.0 / 530, 616.0 / 530, 1387, 1387.0 / 530, 39.37, -121.24}
			for i := range want {
				if !near32(x[i], want[i]) {
					t.Errorf("feature %d (%s, row %d) = %v, want %v", i%8, CalHousingFeatures[i%8], i/8, x[i], want[i])
				}
			}
			if len(y) != 2 || !near32(y[0], 4.526) || !near32(y[1], 0.894) {
				t.Errorf("targets %v", y)
			}
		})
	}
}

// The real archive: 20,640 rows, target mean 2.0686 (scikit-learn's data set), per-feature means.
func TestReadCalHousingMirror(t *testing.T) {
	p := filepath.Join(mirror(t), "california_housing", "cal_housing.tgz")
	x, y, err := ReadCalHousing(p)
	if err != nil {
		t.Fatal(err)
	}
	n := len(y)
	if n != 20640 || len(x) != n*8 {
		t.Fatalf("%d rows, %d features", n, len(x))
	}
	var sum float64
	for _, v := range y {
		sum += float64(v)
	}
	mean := sum / float64(n)
	t.Logf("rows %d, target mean %.6f", n, mean)
	if math.Round(mean*1e4)/1e4 != 2.0686 {
		t.Errorf("target mean %.6f, want 2.0686", mean)
	}
	// Column means of scikit-learn's fetch_california_housing().data.
	wantMeans := []float64{3.870671, 28.639486, 5.428999, 1.096675, 1425.476744, 3.070655, 35.631861, -119.569704}
	for j, w := range wantMeans {
		var s float64
		for i := range n {
			s += float64(x[i*8+j])
		}
		if got := s / float64(n); math.Abs(got-w) > 1e-5*math.Max(1, math.Abs(w)) {
			t.Errorf("%s mean %.6f, want %.6f", CalHousingFeatures[j], got, w)
		}
	}
}

func TestReadCalHousingMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "absent.tgz")
	_, _, err := ReadCalHousing(p)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("want a not-exist error, got %v", err)
	}
	mustContain(t, err, p)
}
