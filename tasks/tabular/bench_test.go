package tabular_test

import (
	"testing"

	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/tabular"
)

// BenchmarkTabularTrainStep times one optimisation step of the FT-Transformer (forward, MSE,
// backward, AdamW) at FOB's batch size 256 on the default backend; scripts/bench-tasks.sh puts
// it next to PyTorch.
//
//	FOB_DATA_MIRROR=/path/to/mirror go test -run '^$' -bench TabularTrainStep -benchtime 20x ./tasks/tabular/
func BenchmarkTabularTrainStep(b *testing.B) {
	dm := setupData(b, 1)
	ds, _ := dm.Split("train")
	proto, err := tabular.Task{}.BuildModel(taskConfig(b), 1)
	if err != nil {
		b.Fatal(err)
	}
	st, _, lrs, _ := stepper(b, proto, 1, 2600)
	batches := data.Batches(ds.Len(), 256, true, 1, 0)
	if _, err := st.Step(ds.Batch(batches[0]), 1, lrs); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Step(ds.Batch(batches[1+i%(len(batches)-2)]), i+2, lrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
}
