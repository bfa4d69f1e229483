package classification_small_test

import (
	"os"
	"testing"

	"github.com/fob-go/fob/runtime/executors"

	cs "github.com/fob-go/fob/tasks/classification_small"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// BenchmarkResNet18TrainStep times one optimisation step of the task's ResNet-18 (forward with
// training-mode BatchNorm, cross-entropy, backward, AdamW, running-statistics update) at FOB's
// batch of 128 random 32×32 images on the default backend. scripts/bench-tasks.sh puts it next
// to the same model in PyTorch (row resnet18).
//
//	go test -run '^$' -bench ResNet18TrainStep -benchtime 3x ./tasks/classification_small/
func BenchmarkResNet18TrainStep(b *testing.B) {
	proto, err := cs.Task.BuildModel(traintest.TaskConfig(b, cs.Task), 1)
	if err != nil {
		b.Fatal(err)
	}
	labels := make([]int64, 128)
	for i := range labels {
		labels[i] = int64(i * 3 % cs.NumClasses)
	}
	batch := traintest.ImageBatch("image", "label", cs.ImageSize, labels, 1)
	st, _, lrs, _ := traintest.Stepper(b, cs.Task, proto, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.1, "max_steps": 100, "max_epochs": 1})
	if _, err := st.Step(batch, 1, lrs); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	if os.Getenv("FOB_OPSTATS") != "" {
		executors.StartProfile()
		defer executors.WriteProfile(os.Stderr, 40)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Step(batch, i+2, lrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
}
