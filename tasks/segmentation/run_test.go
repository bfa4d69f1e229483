package segmentation_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/segmentation"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
)

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// writeScenes builds MNIST scenes in the ADE20K layout under dir/data/segmentation.
func writeScenes(t testing.TB, dir string, s segmentation.MNISTScenes) string {
	t.Helper()
	dataDir := filepath.Join(dir, "data")
	env := data.Env{DataDir: dataDir, Mirror: os.Getenv("FOB_DATA_MIRROR"), Progress: discard{}}
	if err := s.Write(context.Background(), env, filepath.Join(dataDir, "segmentation")); err != nil {
		t.Fatal(err)
	}
	return dataDir
}

// runSegmentation trains through fob's run loop with the given overrides and returns the run
// folder.
func runSegmentation(t testing.TB, dir, dataDir string, overrides ...string) string {
	t.Helper()
	args := append([]string{"task.name=segmentation", "optimizer.name=adamw_baseline", "engine.output_dir=" + dir,
		"engine.silent=true", "engine.data_dir=" + dataDir}, overrides...)
	exp, err := experiment.ParseBytes([]byte("{}"), "test", args, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	run := exp.Runs[0]
	if _, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: discard{}}); err != nil {
		t.Fatal(err)
	}
	return run.Dir
}

// TestShortRun trains two steps of SegFormer-B0 on 64×64 MNIST scenes through the run loop
// (augmentations, BatchNorm in training mode, the backbone/head parameter groups), exports the
// checkpoints and scores them in onnxruntime: every FOB metric is logged and finite.
func TestShortRun(t *testing.T) {
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dir := t.TempDir()
	dataDir := writeScenes(t, dir, segmentation.MNISTScenes{Train: 8, Val: 4, Size: 80, Digits: 2, Seed: 1})
	runDir := runSegmentation(t, dir, dataDir, "task.image_size=64", "task.batch_size=4", "task.max_epochs=1")
	res := traintest.BestResults(t, runDir)
	traintest.CheckCheckpoints(t, runDir)
	for _, k := range []string{"test_aAcc", "test_mIoU", "test_mAcc", "test_loss"} {
		v, ok := res[k]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (k != "test_loss" && v > 100) {
			t.Errorf("%s = %v (present %v); want a finite value (percent for IoU metrics)", k, v, ok)
		}
	}
	csv, err := os.ReadFile(filepath.Join(runDir, "csv_logs", "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"train_loss", "val_loss", "val_aAcc", "val_mIoU", "val_mAcc", "lr-pg0", "lr-pg3"} {
		if !strings.Contains(string(csv), col) {
			t.Errorf("metrics.csv lacks %s:\n%s", col, csv)
		}
	}
	t.Logf("after 2 steps: %v", fmt.Sprint(res))
}

// TestMNISTScenesLearn is the learning demonstration (README): SegFormer-B0 from random
// initialisation on MNIST scenes in the ADE20K layout; val mIoU must rise well above its
// first-epoch value (by 2 points). It takes minutes, so it runs only with FOB_SEG_LEARN=1
// (scripts/segmentation-mnist.sh); FOB_SEG_EPOCHS, FOB_SEG_TRAIN, FOB_SEG_LR, FOB_SEG_SCENE,
// FOB_SEG_DIGITS and FOB_SEG_ZOOM override its settings.
func TestMNISTScenesLearn(t *testing.T) {
	if os.Getenv("FOB_SEG_LEARN") == "" {
		t.Skip("set FOB_SEG_LEARN=1 (scripts/segmentation-mnist.sh): a training of several minutes")
	}
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	var nTrain int
	fmt.Sscan(env("FOB_SEG_TRAIN", "512"), &nTrain)
	dir := env("FOB_SEG_DIR", t.TempDir())
	var zoom, digits, size int
	fmt.Sscan(env("FOB_SEG_ZOOM", "2"), &zoom)
	fmt.Sscan(env("FOB_SEG_DIGITS", "1"), &digits)
	fmt.Sscan(env("FOB_SEG_SCENE", "64"), &size)
	dataDir := writeScenes(t, dir, segmentation.MNISTScenes{Train: nTrain, Val: 128, Size: size, Digits: digits, Zoom: zoom, Seed: 1})
	runDir := runSegmentation(t, dir, dataDir, "task.image_size=64", "task.batch_size=8",
		"task.max_epochs="+env("FOB_SEG_EPOCHS", "8"), "optimizer.learning_rate="+env("FOB_SEG_LR", "3e-3"),
		"engine.devices=1", "engine.logging_interval=16")
	csv, err := os.ReadFile(filepath.Join(runDir, "csv_logs", "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("metrics.csv:\n%s", csv)
	res := traintest.BestResults(t, runDir)
	t.Logf("test (best checkpoint, onnxruntime): %v", res)
	first := firstValMIoU(t, string(csv))
	// Measured: 8.04 after the first epoch, 11.44 at the end (README); from random
	// initialisation in 512 steps the rise is modest, so ask for 2 points.
	if res["test_mIoU"] < first+2 {
		t.Errorf("test mIoU %.2f after training, first validation %.2f; want a rise of at least 2 points", res["test_mIoU"], first)
	}
}

// firstValMIoU reads the first val_mIoU value of metrics.csv.
func firstValMIoU(t *testing.T, csv string) float64 {
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	col := -1
	for i, h := range strings.Split(lines[0], ",") {
		if h == "val_mIoU" {
			col = i
		}
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if col >= 0 && col < len(f) && f[col] != "" {
			var v float64
			fmt.Sscan(f[col], &v)
			return v
		}
	}
	t.Fatalf("no val_mIoU in metrics.csv:\n%s", csv)
	return 0
}
