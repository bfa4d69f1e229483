package classification_small_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/fob-go/fob/tasks"
	cs "github.com/fob-go/fob/tasks/classification_small"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// TestMNISTLearn is the learning demonstration of the image pipeline on real images available
// offline (scripts/classification-mnist.sh): task.dataset mnist serves MNIST digits as
// 3×32×32 images through CIFAR-100's pipeline (RandomCrop reflect, flip, TrivialAugmentWide,
// normalisation, engine.workers goroutines) to the task's own ResNet-18, trained from random
// initialisation with AdamW on the pure-Go backend; accuracy on the first test images (GoMLX,
// running BatchNorm statistics) must rise far above chance (0.1).
//
// Environment: FOB_CLS_LEARN=1 to run; FOB_CLS_STEPS (default 150), FOB_CLS_BATCH (32),
// FOB_CLS_LR (1e-3), FOB_CLS_EVAL (test images scored, 320).
func TestMNISTLearn(t *testing.T) {
	if os.Getenv("FOB_CLS_LEARN") == "" {
		t.Skip("set FOB_CLS_LEARN=1 (scripts/classification-mnist.sh): ResNet-18 training of about half an hour")
	}
	env := func(k string, def float64) float64 {
		v := def
		if s := os.Getenv(k); s != "" {
			if _, err := fmt.Sscan(s, &v); err != nil {
				t.Fatalf("%s=%q: %v", k, s, err)
			}
		}
		return v
	}
	steps, batch, lr, nEval := int(env("FOB_CLS_STEPS", 150)), int(env("FOB_CLS_BATCH", 32)), env("FOB_CLS_LR", 1e-3), int(env("FOB_CLS_EVAL", 320))
	cfg := traintest.TaskConfig(t, cs.Task)
	cfg["dataset"] = "mnist"
	dm, err := cs.Task.NewData(tasks.DataEnv{DataDir: t.TempDir(), Workers: 2}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const seed = 1
	if err := dm.Setup(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	trainSet, _ := dm.Split("train")
	testSet, _ := dm.Split("test")
	proto, err := cs.Task.BuildModel(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	st, _, lrs, _ := traintest.Stepper(t, cs.Task, proto, seed, config.Map{"name": "adamw_baseline",
		"learning_rate": lr, "weight_decay": 0.0, "max_steps": steps, "max_epochs": 1})

	accuracy := func() float64 {
		correct := 0
		for _, idx := range data.Batches(nEval, 32, false, 0, 0) {
			b := testSet.Batch(idx)
			out, err := st.Forward(b)
			if err != nil {
				t.Fatal(err)
			}
			logits, labels := out["logits"].F32, b.Targets["label"].I64
			for i := range labels {
				row := logits[i*cs.NumClasses : (i+1)*cs.NumClasses]
				best := 0
				for k, v := range row {
					if v > row[best] {
						best = k
					}
				}
				if int64(best) == labels[i] {
					correct++
				}
			}
		}
		return float64(correct) / float64(nEval)
	}
	before := accuracy()
	var dataTime, stepTime time.Duration
	step := 0
	var first, last []float64
	for epoch := 0; step < steps; epoch++ {
		for _, idx := range data.Batches(trainSet.Len(), batch, true, seed, epoch) {
			if step >= steps {
				break
			}
			t0 := time.Now()
			b := trainSet.Batch(idx)
			t1 := time.Now()
			res, err := st.Step(b, step+1, lrs)
			if err != nil {
				t.Fatal(err)
			}
			dataTime += t1.Sub(t0)
			stepTime += time.Since(t1)
			step++
			if step <= 10 {
				first = append(first, res.Loss)
			}
			if step > steps-10 {
				last = append(last, res.Loss)
			}
			if step%10 == 0 {
				t.Logf("step %d loss %.4f (data %.1f ms/batch, step %.0f ms)", step, res.Loss,
					dataTime.Seconds()*1000/float64(step), stepTime.Seconds()*1000/float64(step))
			}
		}
	}
	after := accuracy()
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	t.Logf("%d steps of batch %d: train loss %.3f (first 10 steps) → %.3f (last 10); test accuracy on %d images %.3f → %.3f; augmentation %.1f ms per batch, train step %.0f ms",
		steps, batch, mean(first), mean(last), nEval, before, after, dataTime.Seconds()*1000/float64(steps), stepTime.Seconds()*1000/float64(steps))
	if after < 0.5 {
		t.Errorf("test accuracy %.3f after %d steps; want > 0.5 (chance 0.1)", after, steps)
	}
	if mean(last) >= mean(first) {
		t.Errorf("train loss did not fall: %.3f → %.3f", mean(first), mean(last))
	}
}
