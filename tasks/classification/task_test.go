package classification_test

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/classification"
	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
)

// TestBuildModelConfig: the defaults build FOB's Wide ResNet-50-2 (68,875,560 parameters, the
// task's signature, timm's zero-initialised last BatchNorms); every bad model or loss setting is
// an error naming the key, the value and the fix, never a panic.
func TestBuildModelConfig(t *testing.T) {
	traintest.CheckConfigs(t, classification.Task, []traintest.ConfigCase{
		{Key: "model.name", Val: "davit_tiny.msft_in1k", Want: `task.model.name = "davit_tiny.msft_in1k": classification builds wide_resnet50_2 only`},
		{Key: "model.stride", Val: 0, Want: "task.model.stride = 0 is out of range"},
		{Key: "model.kernel_size", Val: 99, Want: "task.model.kernel_size = 99 is out of range; valid values are 1 to 15"},
		{Key: "model.padding", Val: -1, Want: "task.model.padding = -1 is out of range"},
		{Key: "model.maxpool", Val: 1.5, Want: "model.maxpool"},
		{Key: "label_smoothing", Val: -0.1, Want: "task.label_smoothing = -0.1 is out of range"},
		{},
	}, func(_ traintest.ConfigCase, p *onnxpb.ModelProto) {
		if n := onnx.ParameterCount(p); n != 68_875_560 {
			t.Errorf("default model has %d parameters, want 68,875,560", n)
		}
		bn3, err := onnx.TensorOf(onnx.Initializers(p)["layer3.4.bn3.weight"])
		if err != nil || bn3.F32[0] != 0 || bn3.F32[len(bn3.F32)-1] != 0 {
			t.Errorf("layer3.4.bn3.weight does not start at 0 (timm's zero_init_last): %v", err)
		}
	})
}

// TestMetricNames: FOB's names, top-1 and top-5 accuracy and error with the loss, for every
// split, and the target metric among the validation metrics; the values themselves are checked
// against sklearn in tasks (TestTopKMatchesSklearn).
func TestMetricNames(t *testing.T) {
	var names []string
	for _, split := range []string{"train", "val", "test"} {
		for k := range classification.Task.NewMetrics(split).Result() {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	want := "test_loss test_top1_acc test_top1_err test_top5_acc test_top5_err " +
		"train_loss train_top1_acc train_top1_err train_top5_acc train_top5_err " +
		"val_loss val_top1_acc val_top1_err val_top5_acc val_top5_err"
	if strings.Join(names, " ") != want {
		t.Errorf("metric names\n%v\nwant\n%s", names, want)
	}
	target, _ := config.String(traintest.TaskConfig(t, classification.Task), "target_metric")
	if !strings.Contains(want, target) || target != "val_top5_err" {
		t.Errorf("target metric %q", target)
	}
	// One batch: label 5 ranks first, label 2 seventh (a top-5 miss), label 0 first.
	logits := make([]float32, 3*classification.NumClasses)
	logits[5] = 9
	for j := range 6 {
		logits[classification.NumClasses+10+j] = 1 // six classes ahead of...
	}
	logits[classification.NumClasses+2] = 0.5 // ...label 2
	for j := range 3 {
		logits[2*classification.NumClasses+j] = float32(3 - j) // label 0 first, 1, 2
	}
	m := classification.Task.NewMetrics("val")
	m.Add(map[string]tensor.Tensor{"logits": tensor.F32s(logits, 3, classification.NumClasses)},
		tasks.Batch{Targets: map[string]tensor.Tensor{"label": tensor.I64s([]int64{5, 2, 0}, 3)}, Size: 3})
	got := m.Result()
	if got["val_top1_acc"] != 2.0/3 || got["val_top5_acc"] != 2.0/3 || math.Abs(got["val_top5_err"]-1.0/3) > 1e-15 {
		t.Errorf("got %v, want top-1 and top-5 acc 2/3", got)
	}
}

// TestTrainStep trains FOB's Wide ResNet-50-2 for two AdamW steps on a batch of two random
// 64×64 images (BatchNorm in training mode) and checks that the loss falls and that the
// exported model gives GoMLX's inference logits in onnxruntime.
func TestTrainStep(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: Wide ResNet-50-2 steps take minutes on the pure-Go backend")
	}
	proto, err := classification.Task.BuildModel(traintest.TaskConfig(t, classification.Task), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := traintest.ImageBatch("image", "label", classification.ImageSize, []int64{3, 999}, 1)
	st, model, lrs, gc := traintest.Stepper(t, classification.Task, proto, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.0, "max_steps": 10, "max_epochs": 1})
	losses, d, _ := traintest.TrainAndExport(t, st, model, gc, b, lrs, 3, "logits")
	t.Logf("losses %v; max |GoMLX - onnxruntime| = %.3g", losses, d)
}
