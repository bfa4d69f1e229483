package train_test

import (
	"context"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	"github.com/fob-go/fob/train/traintest"
)

// BenchmarkMNISTTrainStep times one mnist optimisation step (forward, loss, backward, AdamW
// update) at FOB's batch size 512 on the default backend, and reports samples per second.
//
//	go test -run '^$' -bench MNISTTrainStep -benchtime 50x ./train/
func BenchmarkMNISTTrainStep(b *testing.B) { benchStep(b, "adamw_baseline") }

// BenchmarkOptimizerStep times the mnist step with every optimizer, to compare each one's cost
// with adamw_baseline's (the ratio FOB asks a benchmark to state):
//
//	go test -run '^$' -bench OptimizerStep -benchtime 60x ./train/
func BenchmarkOptimizerStep(b *testing.B) {
	for _, name := range optim.Names() {
		b.Run(name, func(b *testing.B) { benchStep(b, name) })
	}
}

func benchStep(b *testing.B, optName string) {
	run := resolve(b, "task.name=mnist", "optimizer.name="+optName, "engine.data_dir="+dataDir(b))
	task, _ := tasks.Get("mnist")
	dm, err := task.NewData(tasks.DataEnv{DataDir: dataDir(b), Mirror: mirror()}, config.Sub(run.Config, "task"))
	if err != nil {
		b.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	ds, _ := dm.Split("train")
	proto, err := task.BuildModel(config.Sub(run.Config, "task"), 1)
	if err != nil {
		b.Fatal(err)
	}
	optCfg := config.Sub(run.Config, "optimizer")
	optCfg["max_steps"], optCfg["max_epochs"] = 3240, 30
	st, _, lrs, _ := traintest.Stepper(b, task, proto, 1, optCfg)
	batches := data.Batches(ds.Len(), 512, true, 1, 0)
	first := ds.Batch(batches[0])
	if _, err := st.Step(first, 1, lrs); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := ds.Batch(batches[(i+1)%(len(batches)-1)])
		if _, err := st.Step(bt, i+2, lrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
}
