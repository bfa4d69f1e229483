package classification_test

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/tasks/classification"
	"github.com/fob-go/fob/tasks/data/vision"
	"github.com/fob-go/fob/tasks/data/vision/visiontest"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
	"github.com/fob-go/fob/train/traintest"
)

// TestTrainEndToEnd runs the whole lifecycle on tiny Imagenet64 batch files in the official
// format (one image per training batch file, four validation images): one epoch (one step) of
// the task's Wide ResNet-50-2 at 64×64 with every augmentation on, validation in GoMLX,
// checkpoints, and the test split scored by onnxruntime from the exported files with the top-k
// metrics.
func TestTrainEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains Wide ResNet-50-2 for a few steps (minutes)")
	}
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, classification.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, name := range vision.Imagenet64TrainFiles {
		_, p := visiontest.ImagenetBatch(1, 10+i, []int{1 + i*97})
		if err := os.WriteFile(filepath.Join(dir, name), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, p := visiontest.ImagenetBatch(4, 3, []int{1, 98, 500, 1000})
	if err := os.WriteFile(filepath.Join(dir, vision.Imagenet64ValFile), p, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	exp, err := experiment.ParseBytes([]byte("{}"), "test", []string{
		"task.name=classification", "optimizer.name=adamw_baseline", "optimizer.learning_rate=0.001",
		"task.batch_size=10", "task.max_epochs=1", "engine.devices=1", "engine.output_dir=" + out,
		"engine.data_dir=" + dataDir, "engine.silent=true", "engine.workers=2", "engine.data_mirror=" + t.TempDir(),
	}, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	run := exp.Runs[0]
	if _, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: io.Discard}); err != nil {
		t.Fatal(err)
	}
	traintest.CheckCheckpoints(t, run.Dir)
	for f, r := range traintest.Results(t, run.Dir) {
		for _, k := range []string{"test_top1_acc", "test_top5_acc"} {
			// 4 test images: a multiple of 1/4, and the error its complement.
			acc, errK := r[k], r[strings.Replace(k, "_acc", "_err", 1)]
			if acc < 0 || acc > 1 || math.Abs(acc*4-math.Round(acc*4)) > 1e-9 || math.Abs(acc+errK-1) > 1e-12 {
				t.Errorf("%s: %s %v, error %v", f, k, acc, errK)
			}
		}
		if r["test_top5_acc"] < r["test_top1_acc"] || !(r["test_loss"] > 0) {
			t.Errorf("%s: %v", f, r)
		}
	}
	header := strings.Join(traintest.CSVHeader(t, run.Dir), ",")
	for _, col := range []string{"train_loss", "train_top1_acc", "train_top5_err", "val_loss", "val_top1_err", "val_top5_err"} {
		if !strings.Contains(header, col) {
			t.Errorf("metrics.csv header %q lacks %s", header, col)
		}
	}
}
