package tabular

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// realMirror is $FOB_DATA_MIRROR when it holds the California Housing files; tests that need
// them skip otherwise.
func realMirror(t *testing.T) string {
	t.Helper()
	m := os.Getenv("FOB_DATA_MIRROR")
	if m == "" {
		t.Skip("FOB_DATA_MIRROR is not set: the real California Housing files are needed")
	}
	if _, err := os.Stat(filepath.Join(m, "california_housing", "cal_housing.tgz")); err != nil {
		t.Skipf("FOB_DATA_MIRROR=%s lacks california_housing/cal_housing.tgz", m)
	}
	return m
}

func defaults(t *testing.T) config.Map {
	t.Helper()
	m, err := config.ParseMap(defaultYAML, "default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return config.Sub(m, "task")
}

func newData(t *testing.T, cfg config.Map, dataDir string) *Data {
	t.Helper()
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dataDir, Mirror: realMirror(t)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dm.(*Data)
}

// TestRealData checks the loader on the real files: 20,640 rows with the known target mean,
// the fixed 4,128 test rows, a 13,209/3,303 train/val split of the rest that depends on the seed
// only, standardized training targets and normalized training features.
func TestRealData(t *testing.T) {
	dir := t.TempDir()
	d := newData(t, defaults(t), dir)
	ctx := context.Background()
	if err := d.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, y, err := data.ReadCalHousing(d.paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range y {
		sum += float64(v)
	}
	if len(y) != 20640 || math.Abs(sum/float64(len(y))-2.0686) > 5e-5 {
		t.Errorf("%d rows with target mean %.5f; California Housing has 20640 with mean 2.0686", len(y), sum/float64(len(y)))
	}
	if len(d.trainIdx) != 13209 || len(d.valIdx) != 3303 || len(d.testIdx) != 4128 {
		t.Errorf("split sizes %d/%d/%d, want 13209/3303/4128", len(d.trainIdx), len(d.valIdx), len(d.testIdx))
	}
	seen := make([]int, len(y))
	for _, idx := range [][]int{d.trainIdx, d.valIdx, d.testIdx} {
		for _, r := range idx {
			seen[r]++
		}
	}
	for r, c := range seen {
		if c != 1 {
			t.Fatalf("row %d is in %d splits; want every row in exactly one", r, c)
		}
	}

	// Standardized targets: training mean 0 and std 1; the test targets are the raw ones of the
	// idx_test.npy rows, in file order.
	split := func(name string) data.ArrayDataset {
		s, err := d.Split(name)
		if err != nil {
			t.Fatal(err)
		}
		return s.(data.ArrayDataset)
	}
	train, test := split("train"), split("test")
	m, s := meanStd(train.Targets["y"].F32, seq(13209))
	if math.Abs(m) > 1e-5 || math.Abs(s-1) > 1e-5 {
		t.Errorf("standardized training targets have mean %g and std %g, want 0 and 1", m, s)
	}
	for i, r := range d.testIdx {
		back := float64(test.Targets["y"].F32[i])*d.targetStd + d.targetMean
		if math.Abs(back-float64(y[r])) > 1e-5 {
			t.Fatalf("test row %d (table row %d): target %g, raw %g", i, r, back, y[r])
		}
	}
	// Quantile-normalized training features are close to standard normal.
	x := train.Inputs["X"]
	if x.Shape[0] != 13209 || x.Shape[1] != NFeatures {
		t.Fatalf("train X shape %v", x.Shape)
	}
	for j := 0; j < NFeatures; j++ {
		col := make([]float32, 13209)
		for i := range col {
			col[i] = x.F32[i*NFeatures+j]
		}
		m, s := meanStd(col, seq(13209))
		if math.Abs(m) > 0.02 || math.Abs(s-1) > 0.05 {
			t.Errorf("feature %s after the quantile normalizer: mean %.3f std %.3f, want about 0 and 1", data.CalHousingFeatures[j], m, s)
		}
	}

	// The seed fixes the split; the test rows never change.
	again := newData(t, defaults(t), dir)
	other := newData(t, defaults(t), dir)
	if err := again.Setup(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := other.Setup(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again.trainIdx) != fmt.Sprint(d.trainIdx) || fmt.Sprint(split("val").Targets) != fmt.Sprint(mustSplit(t, again, "val").Targets) {
		t.Error("the same seed gave a different split")
	}
	if fmt.Sprint(other.trainIdx) == fmt.Sprint(d.trainIdx) {
		t.Error("seeds 1 and 2 gave the same split")
	}
	if fmt.Sprint(other.testIdx) != fmt.Sprint(d.testIdx) {
		t.Error("the test rows depend on the seed")
	}
}

// TestStandardNormalizer checks the other normalizer: training features standardized.
func TestStandardNormalizer(t *testing.T) {
	cfg := defaults(t)
	config.Set(cfg, "train_transforms.normalizer", "standard")
	d := newData(t, cfg, t.TempDir())
	if err := d.Setup(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	x := mustSplit(t, d, "train").Inputs["X"]
	for j := 0; j < NFeatures; j++ {
		col := make([]float32, x.Shape[0])
		for i := range col {
			col[i] = x.F32[i*NFeatures+j]
		}
		// The normalizer is fitted on the training rows plus noise of relative size 1e-3.
		m, s := meanStd(col, seq(len(col)))
		if math.Abs(m) > 1e-2 || math.Abs(s-1) > 1e-2 {
			t.Errorf("feature %d: mean %.4f std %.4f after StandardScaler, want 0 and 1", j, m, s)
		}
	}
}

func mustSplit(t *testing.T, d *Data, name string) data.ArrayDataset {
	t.Helper()
	s, err := d.Split(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.(data.ArrayDataset)
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestConfigErrors checks that bad task settings are reported with the key and the fix.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		key  string
		val  any
		want string
	}{
		{"train_transforms.normalizer", "minmax", `normalizer = "minmax"; valid: quantile, standard`},
		{"train_transforms.noise", -1.0, "noise must be >= 0"},
		{"val_size", 0, "task.val_size must be positive"},
		{"train_size", "many", "train_size"},
	}
	for _, c := range cases {
		cfg := defaults(t)
		config.Set(cfg, c.key, c.val)
		_, err := Task{}.NewData(tasks.DataEnv{DataDir: t.TempDir()}, cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%v: err = %v, want it to mention %q", c.key, c.val, err, c.want)
		}
	}
}

// TestSplitSizeMismatch checks that sizes which do not fit the data name the keys.
func TestSplitSizeMismatch(t *testing.T) {
	for _, c := range []struct {
		key  string
		val  int
		want string
	}{
		{"train_size", 13000, "task.train_size + task.val_size = 13000 + 3303"},
		{"test_size", 4000, "holds 4128 test rows but task.test_size is 4000"},
	} {
		cfg := defaults(t)
		config.Set(cfg, c.key, c.val)
		d := newData(t, cfg, t.TempDir())
		err := d.Setup(context.Background(), 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%d: err = %v, want it to mention %q", c.key, c.val, err, c.want)
		}
	}
}

// npy writes a version-1 .npy file holding a C-order <i8 array of the given shape.
func npy(t *testing.T, path string, shape string, v []int64) {
	t.Helper()
	h := fmt.Sprintf("{'descr': '<i8', 'fortran_order': False, 'shape': %s, }", shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	binary.Write(&b, binary.LittleEndian, v)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadTestIndex checks the errors for damaged idx_test.npy contents.
func TestBadTestIndex(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, shape string
		v           []int64
		want        string
	}{
		{"2d", "(2, 2)", []int64{0, 1, 2, 3}, "shape [2 2]; want a 1-D array"},
		{"range", "(3,)", []int64{0, 5, 10}, "entry 2 is row 10, outside the 10 rows"},
		{"dup", "(3,)", []int64{4, 2, 4}, "row 4 is listed twice"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".npy")
		npy(t, p, c.shape, c.v)
		_, err := readTestIndex(p, 10)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want it to name the file and mention %q", c.name, err, c.want)
		}
	}
	p := filepath.Join(dir, "short.npy")
	npy(t, p, "(3,)", []int64{1, 2, 3})
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-4], 0o644)
	if _, err := readTestIndex(p, 10); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated file: err = %v", err)
	}
}

// TestCorruptDataFiles checks that damaged copies in the data folder are refused with the file,
// the expected checksum and what to do.
func TestCorruptDataFiles(t *testing.T) {
	m := realMirror(t)
	for _, f := range []data.File{data.CalHousingArchive, data.CalHousingTestIndex} {
		dir := t.TempDir()
		good, err := os.ReadFile(filepath.Join(m, f.MirrorDir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "tabular"), 0o755)
		bad := filepath.Join(dir, "tabular", f.Name)
		os.WriteFile(bad, good[:len(good)/2], 0o644)
		d := newData(t, defaults(t), dir)
		err = d.Setup(context.Background(), 1)
		var ce *data.ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s truncated: err = %v, want a checksum error naming %s", f.Name, err, bad)
		}
	}
	// A corrupt archive that no checksum protects (read directly) fails in the reader.
	p := filepath.Join(t.TempDir(), "cal_housing.tgz")
	os.WriteFile(p, []byte("not gzip"), 0o644)
	if _, _, err := data.ReadCalHousing(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("garbage archive: err = %v", err)
	}
}
