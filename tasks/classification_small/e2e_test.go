package classification_small

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/data/vision/visiontest"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
)

// tinyCIFAR writes a cifar-100-python.tar.gz of 12 training and 6 test images, in the official
// format, into dataDir/classification_small, and serves it unpinned for the test's duration.
func tinyCIFAR(t *testing.T, dataDir string) {
	t.Helper()
	f := visiontest.CIFARFixture{
		TrainPix: visiontest.Pattern(12*3072, 5), TestPix: visiontest.Pattern(6*3072, 6),
		TrainLabels: []int{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}, TestLabels: []int{0, 1, 2, 3, 4, 99},
	}
	f.Write(t, filepath.Join(dataDir, Name, "cifar-100-python.tar.gz"), true, true)
	saved := cifarFile
	cifarFile = data.File{Name: "cifar-100-python.tar.gz", Unpinned: true}
	t.Cleanup(func() { cifarFile = saved })
}

// TestTrainEndToEnd runs the whole lifecycle on a tiny CIFAR-100 archive: two epochs of the
// task's ResNet-18 with every augmentation on, validation in GoMLX each epoch, checkpoints, and
// the test split scored by onnxruntime from the exported files; then the same with an external
// CNN exported by PyTorch (task.model.onnx, input and output renamed to the task's) and label
// smoothing; a bad label_smoothing stops the run before anything is trained.
func TestTrainEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains ResNet-18 for a few steps (about a minute)")
	}
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dataDir := t.TempDir()
	tinyCIFAR(t, dataDir)
	cnn := filepath.Join(t.TempDir(), "cnn.onnx")
	if out, err := exec.Command("/usr/bin/python3", "testdata/torch_cnn.py", cnn, cnn+".json").CombinedOutput(); err != nil {
		t.Fatalf("torch_cnn.py (needs python3-torch and python3-onnx): %v\n%s", err, out)
	}
	exp, err := experiment.ParseBytes([]byte("{}"), "test", []string{"task.name=classification_small",
		"optimizer.name=adamw_baseline", "task.label_smoothing=2", "engine.output_dir=" + t.TempDir(),
		"engine.data_dir=" + dataDir, "engine.silent=true"}, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Run(context.Background(), exp.Runs[0].Config, exp.Runs[0].Dir, train.Options{Progress: io.Discard}); err == nil ||
		!strings.Contains(err.Error(), "task.label_smoothing = 2 is out of range") {
		t.Errorf("label_smoothing 2: error %v", err)
	}
	for _, c := range []struct {
		name  string
		extra []string
	}{
		{"resnet18", nil},
		{"external_torch_cnn", []string{"task.model.onnx=" + cnn, "task.label_smoothing=0.1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			exp, err := experiment.ParseBytes([]byte("{}"), "test", append([]string{
				"task.name=classification_small", "optimizer.name=adamw_baseline", "optimizer.learning_rate=0.001",
				"task.batch_size=4", "task.max_epochs=2", "engine.output_dir=" + out, "engine.data_dir=" + dataDir,
				"engine.silent=true", "engine.workers=2", "engine.data_mirror=" + t.TempDir(),
			}, c.extra...), experiment.RegistryCatalog())
			if err != nil {
				t.Fatal(err)
			}
			run := exp.Runs[0]
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			if _, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: io.Discard, Log: log}); err != nil {
				t.Fatal(err)
			}
			traintest.CheckCheckpoints(t, run.Dir)
			for f, r := range traintest.Results(t, run.Dir) {
				acc, loss := r["test_acc"], r["test_loss"]
				// 6 test images: the accuracy is a multiple of 1/6.
				if acc < 0 || acc > 1 || math.Abs(acc*6-math.Round(acc*6)) > 1e-9 || !(loss > 0) || math.IsInf(loss, 0) {
					t.Errorf("%s: test_acc %v test_loss %v", f, acc, loss)
				}
			}
			header := strings.Join(traintest.CSVHeader(t, run.Dir), ",")
			for _, col := range []string{"train_loss", "train_acc", "val_loss", "val_acc"} {
				if !strings.Contains(header, col) {
					t.Errorf("metrics.csv header %q lacks %s", header, col)
				}
			}
			if c.extra != nil && !strings.Contains(logs.String(), "from=input to=image") {
				t.Errorf("no log of the input renaming:\n%s", logs.String())
			}
		})
	}
}
