package graph_tiny_test

import (
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/graph_tiny"
)

// BenchmarkGraphTinyTrainStep times one optimisation step of the GCN on the whole Cora graph
// (forward, masked cross-entropy, backward, AdamW) on the default backend: "sparse" is the
// task's model (messages gathered and scatter-added along the edge list), "dense" the same
// network as a product with the dense adjacency matrix. scripts/bench-tasks.sh puts it next to
// PyTorch.
//
//	FOB_DATA_MIRROR=/path/to/mirror go test -run '^$' -bench GraphTinyTrainStep -benchtime 20x ./tasks/graph_tiny/
func BenchmarkGraphTinyTrainStep(b *testing.B) {
	dm := setupData(b)
	ds, _ := dm.Split("train")
	sparse := ds.Batch([]int{0})
	for _, mode := range []string{models.GCNSparse, models.GCNDense} {
		b.Run(mode, func(b *testing.B) {
			proto, err := graph_tiny.Task{}.BuildModel(taskConfig(b), 1)
			if err != nil {
				b.Fatal(err)
			}
			batch := sparse
			if mode == models.GCNDense {
				m := models.GCN{Sizes: []int{graph_tiny.NumFeatures, 64, graph_tiny.NumClasses}, Dropout: 0.5, Normalize: true,
					Aggregation: models.GCNDense, Features: "x", Graph: "adj", Output: "log_probs"}
				if proto, err = m.Build("graph_tiny_gcn_dense", 1); err != nil {
					b.Fatal(err)
				}
				batch = denseBatch(sparse)
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

// denseBatch replaces edge_index [2, edges] (sources, then targets) by the adjacency matrix
// adj [nodes, nodes] with adj[i][j] = 1 for the edge j→i.
func denseBatch(b tasks.Batch) tasks.Batch {
	x := b.Inputs["x"]
	adj := models.DenseAdjacency(b.Inputs["edge_index"], x.Shape[0])
	return tasks.Batch{Inputs: map[string]tensor.Tensor{"x": x, "adj": adj}, Targets: b.Targets, Size: b.Size}
}
