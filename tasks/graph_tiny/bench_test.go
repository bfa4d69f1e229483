package graph_tiny_test

import (
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/graph_tiny"
)

// BenchmarkGraphTinyTrainStep times one optimisation step of the GCN on the whole Cora graph
// (forward, masked cross-entropy, backward, AdamW) on the default backend: "dense" is the task's
// model (a product with the dense adjacency matrix), "sparse" the same network aggregating along
// the edge list (Gather + ScatterND). scripts/bench-tasks.sh puts it next to PyTorch.
//
//	FOB_DATA_MIRROR=/path/to/mirror go test -run '^$' -bench GraphTinyTrainStep -benchtime 20x ./tasks/graph_tiny/
func BenchmarkGraphTinyTrainStep(b *testing.B) {
	dm := setupData(b)
	ds, _ := dm.Split("train")
	dense := ds.Batch([]int{0})
	for _, mode := range []string{models.GCNDense, models.GCNSparse} {
		b.Run(mode, func(b *testing.B) {
			proto, err := graph_tiny.Task{}.BuildModel(taskConfig(b), 1)
			if err != nil {
				b.Fatal(err)
			}
			batch := dense
			if mode == models.GCNSparse {
				m := models.GCN{Sizes: []int{graph_tiny.NumFeatures, 64, graph_tiny.NumClasses}, Dropout: 0.5, Normalize: true,
					Aggregation: models.GCNSparse, Features: "x", Graph: "edge_index", Output: "log_probs"}
				if proto, err = m.Build("graph_tiny_gcn_sparse", 1); err != nil {
					b.Fatal(err)
				}
				batch = sparseBatch(dense)
			}
			st, _, lrs, _ := stepper(b, proto, 1)
			if _, err := st.Step(batch, 1, lrs); err != nil { // compile outside the timing
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := st.Step(batch, i+2, lrs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step")
		})
	}
}

// sparseBatch replaces adj by edge_index [2, edges] (sources, then targets): adj[i][j] = 1 is
// the edge j→i.
func sparseBatch(b tasks.Batch) tasks.Batch {
	x, adj := b.Inputs["x"], b.Inputs["adj"]
	n := x.Shape[0]
	var src, dst []int64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if adj.F32[i*n+j] != 0 {
				src, dst = append(src, int64(j)), append(dst, int64(i))
			}
		}
	}
	ei := tensor.I64s(append(src, dst...), 2, len(src))
	return tasks.Batch{Inputs: map[string]tensor.Tensor{"x": x, "edge_index": ei}, Targets: b.Targets, Size: b.Size}
}
