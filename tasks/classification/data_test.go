package classification

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data/vision"
	"github.com/fob-go/fob/tasks/data/vision/visiontest"
	"github.com/fob-go/fob/train/config"
)

func dataCfg() config.Map {
	return config.Map{"train_transforms": config.Map{
		"random_crop":     config.Map{"use": true, "size": 64, "padding": 4, "padding_mode": "reflect"},
		"horizontal_flip": config.Map{"use": true, "p": 0.5},
		"trivial_augment": config.Map{"use": true},
	}}
}

// TestDataImagenet64 runs the data module on tiny official-format batches: the training
// batches as the part-1 zip (unpacked on first use) plus loose files, the validation batch
// loose; train is augmented 3×64×64, val and test are the validation images with ImageNet's
// normalisation, labels 0-based.
func TestDataImagenet64(t *testing.T) {
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, Name)
	os.MkdirAll(dir, 0o755)
	zipped := map[string][]byte{}
	for i, name := range vision.Imagenet64TrainFiles {
		_, b := visiontest.ImagenetBatch(2, i+10, []int{i + 1, 1000 - i})
		if i < 5 {
			zipped["Imagenet64_train_part1/"+name] = b
		} else {
			os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
	}
	visiontest.WriteZip(t, filepath.Join(dir, "Imagenet64_train_part1.zip"), zipped)
	valPix, val := visiontest.ImagenetBatch(3, 99, []int{1, 500, 1000})
	os.WriteFile(filepath.Join(dir, vision.Imagenet64ValFile), val, 0o644)

	dm, err := newData(tasks.DataEnv{DataDir: dataDir, Workers: 2}, dataCfg())
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	train, _ := dm.Split("train")
	if train.Len() != 20 {
		t.Fatalf("train has %d examples, want 20", train.Len())
	}
	b := train.Batch([]int{0, 19, 7})
	if !slices.Equal(b.Inputs[inputName].Shape, []int{3, 3, ImageSize, ImageSize}) {
		t.Fatalf("train shape %v", b.Inputs[inputName].Shape)
	}
	// Batch 1 holds labels 1 and 1000, batch 10 labels 10 and 991, batch 4 labels 4, 997.
	if y := b.Targets[labelName].I64; !slices.Equal(y, []int64{0, 990, 996}) {
		t.Errorf("train labels %v, want [0 990 996]", y)
	}
	for _, split := range []string{"val", "test"} {
		ds, _ := dm.Split(split)
		vb := ds.Batch([]int{0, 1, 2})
		if y := vb.Targets[labelName].I64; !slices.Equal(y, []int64{0, 499, 999}) {
			t.Errorf("%s labels %v", split, y)
		}
		x := vb.Inputs[inputName].F32
		for i, v := range valPix {
			c := (i % 12288) / 4096
			want := (float64(v)/255 - float64(imagenetMean[c])) / float64(imagenetStd[c])
			if math.Abs(float64(x[i])-want) > 1e-5 {
				t.Fatalf("%s value %d = %v, want %v", split, i, x[i], want)
			}
		}
	}
}

// TestDataErrors: missing files say what to download and where; bad settings name the key.
func TestDataErrors(t *testing.T) {
	dataDir := t.TempDir()
	dm, err := newData(tasks.DataEnv{DataDir: dataDir}, dataCfg())
	if err != nil {
		t.Fatal(err)
	}
	err = dm.Prepare(context.Background())
	for _, want := range []string{"Imagenet64_train_part1.zip", "Imagenet64_val.zip", filepath.Join(dataDir, Name), "login"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing files: %v; want it to mention %q", err, want)
		}
	}
	cfg := dataCfg()
	config.Set(cfg, "train_transforms.random_crop.size", 32)
	if _, err := newData(tasks.DataEnv{DataDir: dataDir}, cfg); err == nil || !strings.Contains(err.Error(), "random_crop.size is 32") {
		t.Errorf("crop size 32: %v", err)
	}
	if _, err := newData(tasks.DataEnv{}, dataCfg()); err == nil || !strings.Contains(err.Error(), "engine.data_dir") {
		t.Errorf("no data dir: %v", err)
	}
}
