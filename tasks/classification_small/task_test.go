package classification_small_test

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	cs "github.com/fob-go/fob/tasks/classification_small"
	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
)

// TestBuildModelConfig: the defaults build FOB's ResNet-18 (11,220,132 parameters, the task's
// signature); every bad model or loss setting is an error naming the key, the value and the
// fix, never a panic.
func TestBuildModelConfig(t *testing.T) {
	traintest.CheckConfigs(t, cs.Task, []traintest.ConfigCase{
		{Key: "model.hidden_channel", Val: 32, Want: "task.model.hidden_channel = 32: ResNet-18's first BatchNorm"},
		{Key: "model.hidden_channel", Val: -1, Want: "task.model.hidden_channel = -1 is out of range"},
		{Key: "model.name", Val: "resnet50", Want: `task.model.name = "resnet50": classification_small builds resnet18 only`},
		{Key: "model.kernel_size", Val: 0, Want: "task.model.kernel_size = 0 is out of range"},
		{Key: "model.padding", Val: 3, Want: "task.model.padding = 3 is out of range; valid values are 0 to 2"},
		{Key: "model.maxpool", Val: "yes", Want: "model.maxpool"},
		{Key: "label_smoothing", Val: 1.5, Want: "task.label_smoothing = 1.5 is out of range"},
		{Key: "label_smoothing", Val: "lots", Want: "label_smoothing"},
		{Key: "model.maxpool", Val: true},
		{Key: "model.kernel_size", Val: 5},
		{},
	}, func(c traintest.ConfigCase, p *onnxpb.ModelProto) {
		if n := onnx.ParameterCount(p); c.Key == "" && n != 11_220_132 {
			t.Errorf("default model has %d parameters, want 11,220,132", n)
		}
	})
}

// TestMetricsAndSmoothing: the logged metric names are FOB's, and the configured
// task.label_smoothing reaches the reported loss: logits (2, 0, ..., 0) with label 0 have
// cross-entropy log(e²+99) - 2 and uniform-target loss log(e²+99) - 2/100.
func TestMetricsAndSmoothing(t *testing.T) {
	cfg := traintest.TaskConfig(t, cs.Task)
	config.Set(cfg, "label_smoothing", 0.2)
	task, err := tasks.Configure(cs.Task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	logits := make([]float32, 2*cs.NumClasses)
	logits[0], logits[cs.NumClasses+7] = 2, 2
	b := tasks.Batch{Targets: map[string]tensor.Tensor{"label": tensor.I64s([]int64{0, 3}, 2)}, Size: 2}
	m := task.NewMetrics("val")
	m.Add(map[string]tensor.Tensor{"logits": tensor.F32s(logits, 2, cs.NumClasses)}, b)
	got := m.Result()
	logZ := math.Log(math.Exp(2) + 99)
	hit := 0.8*(logZ-2) + 0.2*(logZ-0.02)
	miss := 0.8*logZ + 0.2*(logZ-0.02) // label 3 has logit 0
	if want := (hit + miss) / 2; math.Abs(got["val_loss"]-want) > 1e-9 || got["val_acc"] != 0.5 {
		t.Errorf("got %v, want val_loss %v and val_acc 0.5", got, want)
	}
	var names []string
	for _, split := range []string{"train", "val", "test"} {
		for k := range cs.Task.NewMetrics(split).Result() {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if want := "[test_acc test_loss train_acc train_loss val_acc val_loss]"; strings.Join(names, " ") != strings.Trim(want, "[]") {
		t.Errorf("metric names %v, want %s", names, want)
	}
}

// TestTrainSteps trains FOB's ResNet-18 (BatchNorm in training mode) on one fixed batch of
// random images for a few AdamW steps: the loss falls, and the exported model (inference-form
// BatchNorm with the updated running statistics) gives GoMLX's inference logits in onnxruntime.
func TestTrainSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a few ResNet-18 steps take about a minute on the pure-Go backend")
	}
	proto, err := cs.Task.BuildModel(traintest.TaskConfig(t, cs.Task), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := traintest.ImageBatch("image", "label", cs.ImageSize, []int64{3, 17, 42, 99}, 1)
	st, model, lrs, gc := traintest.Stepper(t, cs.Task, proto, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.0, "max_steps": 10, "max_epochs": 1})
	losses, d, exported := traintest.TrainAndExport(t, st, model, gc, b, lrs, 4, "logits")
	// Training-mode BatchNorm moved the running statistics away from their initial 0 and 1.
	mean, err := onnx.TensorOf(onnx.Initializers(exported)["layer1.0.bn1.running_mean"])
	if err != nil {
		t.Fatal(err)
	}
	var moved float64
	for _, v := range mean.F32 {
		moved = math.Max(moved, math.Abs(float64(v)))
	}
	if moved == 0 {
		t.Error("layer1.0.bn1.running_mean is still 0 after training: BatchNorm did not run in training mode")
	}
	t.Logf("losses %v; max |GoMLX - onnxruntime| = %.3g", losses, d)
}
