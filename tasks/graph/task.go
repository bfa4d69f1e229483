// Package graph is FOB's graph task (docs/fob-behaviour.md §5.6): molecular property prediction
// on ogbg-molhiv (41,127 molecules, OGB's scaffold split) with the OGB example GIN. The loss is
// binary cross-entropy with logits on logit column 1, the metric OGB's ROC-AUC (val_rocauc,
// test_rocauc).
//
// Batches of molecules are padded to a few fixed node, edge and graph counts (buckets), so the
// pure-Go backend compiles one graph per bucket rather than one per batch; masks keep the padding
// from changing any real output, loss or gradient (models.GIN explains how, batch norm included).
package graph

import (
	_ "embed"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

//go:embed default.yaml
var defaultYAML []byte

// Target names of a batch: the float label of each graph (NaN-free: unlabelled graphs are
// masked) and the graph mask (1 for a real graph, 0 for padding).
const (
	TargetLabel = "y"
	TargetMask  = "graph_mask"
)

// Task is the graph task.
type Task struct{}

func init() { tasks.Register(Task{}) }

// Name implements tasks.Task.
func (Task) Name() string { return "graph" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Signature is the GIN's: OGB's integer atom and bond features, PyG's edge_index and batch
// vector, the padding inputs, and logits float32[graphs, 2].
func (Task) Signature() onnx.Signature {
	atoms, bonds := len(models.OGBAtomFeatureDims), len(models.OGBBondFeatureDims)
	return onnx.Signature{
		Inputs: []onnx.TensorSpec{
			{Name: models.GINNodeFeatures, DType: "int64", Dims: []int{-1, atoms}, DimNames: []string{"nodes", ""}},
			{Name: models.GINEdgeIndex, DType: "int64", Dims: []int{2, -1}, DimNames: []string{"", "edges"}},
			{Name: models.GINEdgeFeatures, DType: "int64", Dims: []int{-1, bonds}, DimNames: []string{"edges", ""}},
			{Name: models.GINBatch, DType: "int64", Dims: []int{-1}, DimNames: []string{"nodes"}},
			{Name: models.GINNodeMask, DType: "float32", Dims: []int{-1}, DimNames: []string{"nodes"}},
			{Name: models.GINNodePad, DType: "float32", Dims: []int{-1}, DimNames: []string{"nodes"}},
			{Name: models.GINGraphScale, DType: "float32", Dims: []int{-1}, DimNames: []string{"graphs"}},
		},
		Outputs: []onnx.TensorSpec{{Name: models.GINOutput, DType: "float32", Dims: []int{-1, NumOutputs}, DimNames: []string{"graphs", ""}}},
	}
}

// Loss is FOB's: binary cross-entropy with logits of column 1 against the label, averaged over
// the real graphs of the batch.
func (Task) Loss(g *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	logits := outputs[models.GINOutput]
	dt := logits.DType()
	// Picking the column by a 0/1 product keeps the gradient to a multiply.
	pick := graph.OneHot(graph.Const(g, []int32{1}), NumOutputs, dt) // [1, 2]
	z := graph.ReduceSum(graph.Mul(logits, pick), 1)
	y := graph.ConvertDType(targets[TargetLabel], dt)
	mask := graph.ConvertDType(targets[TargetMask], dt)
	// log(1+e^z) - y·z, stable for large |z| (torch's binary_cross_entropy_with_logits).
	bce := graph.Add(graph.Sub(graph.MaxScalar(z, 0), graph.Mul(z, y)), graph.Log1p(graph.Exp(graph.Neg(graph.Abs(z)))))
	return graph.Div(graph.ReduceAllSum(graph.Mul(bce, mask)), graph.MaxScalar(graph.ReduceAllSum(mask), 1))
}

// NewMetrics reports <split>_loss and <split>_rocauc over the real graphs.
func (Task) NewMetrics(split string) tasks.Metrics {
	return &tasks.BinaryROC{Split: split, Logits: models.GINOutput, Labels: TargetLabel, Column: 1, Mask: TargetMask}
}
