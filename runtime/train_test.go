package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
)

// mlpModel is the ONNX graph fob's models.MLP builds (Gemm with transB=1 like torch.nn.Linear,
// Relu between layers), with the parameters as graph inputs so a step can return updated ones.
func mlpModel(t testing.TB, sizes []int) (*gonnx.Model, []string) {
	var nodes []onnxNode
	inputs := []onnxValue{{name: "X", dtype: onnxFloat, dims: []int64{-1, int64(sizes[0])}}}
	var params []string
	x := "X"
	for i := 1; i < len(sizes); i++ {
		w, b := fmt.Sprintf("fc%d.weight", i), fmt.Sprintf("fc%d.bias", i)
		params = append(params, w, b)
		inputs = append(inputs,
			onnxValue{name: w, dtype: onnxFloat, dims: []int64{int64(sizes[i]), int64(sizes[i-1])}},
			onnxValue{name: b, dtype: onnxFloat, dims: []int64{int64(sizes[i])}})
		out := "logits"
		if i < len(sizes)-1 {
			out = fmt.Sprintf("fc%d", i)
		}
		nodes = append(nodes, onnxNode{op: "Gemm", in: []string{x, w, b}, out: []string{out}, attrs: []onnxAttr{attrInt("transB", 1)}})
		x = out
		if i < len(sizes)-1 {
			nodes = append(nodes, onnxNode{op: "Relu", in: []string{x}, out: []string{x + ".relu"}})
			x += ".relu"
		}
	}
	return parseONNX(t, nodes, nil, inputs, []onnxValue{{name: "logits", dtype: onnxFloat, dims: []int64{-1, int64(sizes[len(sizes)-1])}}}), params
}

// mlpTrainer runs SGD steps of softmax cross-entropy on an MLP: forward, gradients and update in
// one graph, the way fob's trainer compiles a step.
type mlpTrainer struct {
	exec   *graph.Exec
	x, y   *tensors.Tensor
	params []*tensors.Tensor
}

func newMLPTrainer(t testing.TB, b backends.Backend, sizes []int, batch int) *mlpTrainer {
	m, names := mlpModel(t, sizes)
	exec, err := graph.NewExec(b, func(args []*graph.Node) []*graph.Node {
		g := args[0].Graph()
		in := map[string]*graph.Node{"X": args[0]}
		params := args[2:]
		for i, n := range names {
			in[n] = params[i]
		}
		logits := callONNX(m, g, in)
		loss := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(args[1], graph.LogSoftmax(logits, -1)), -1)))
		grads := graph.Gradient(loss, params...)
		outs := []*graph.Node{loss}
		for i, p := range params {
			outs = append(outs, graph.Sub(p, graph.MulScalar(grads[i], 0.05)))
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	tr := &mlpTrainer{exec: exec}
	xs := make([]float32, batch*sizes[0])
	for i := range xs {
		xs[i] = rng.Float32()
	}
	ys := make([]float32, batch*sizes[len(sizes)-1])
	for i := range batch {
		ys[i*sizes[len(sizes)-1]+rng.IntN(sizes[len(sizes)-1])] = 1
	}
	tr.x = tensors.FromFlatDataAndDimensions(xs, batch, sizes[0])
	tr.y = tensors.FromFlatDataAndDimensions(ys, batch, sizes[len(sizes)-1])
	for i := 1; i < len(sizes); i++ {
		w := make([]float32, sizes[i]*sizes[i-1])
		bound := 1 / float32(sizes[i-1])
		for j := range w {
			w[j] = (rng.Float32()*2 - 1) * bound * 10
		}
		tr.params = append(tr.params, tensors.FromFlatDataAndDimensions(w, sizes[i], sizes[i-1]), tensors.FromFlatDataAndDimensions(make([]float32, sizes[i]), sizes[i]))
	}
	return tr
}

// step runs one SGD step and returns the loss before it.
func (tr *mlpTrainer) step() (loss float64, err error) {
	defer recoverTo(&err, "train step")
	args := append([]any{tr.x, tr.y}, anySlice(tr.params)...)
	outs := tr.exec.MustExec(args...)
	for _, p := range tr.params {
		p.FinalizeAll()
	}
	tr.params = outs[1:]
	v := outs[0].Value()
	outs[0].FinalizeAll()
	if f, ok := v.(float32); ok {
		return float64(f), nil
	}
	return 0, fmt.Errorf("loss is %T (%s), want float32", v, dtypes.Float32)
}

func anySlice[T any](v []T) []any {
	out := make([]any, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}
