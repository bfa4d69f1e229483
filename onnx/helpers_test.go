package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gomlxonnx "github.com/gomlx/onnx-gomlx/onnx"

	"github.com/fob-go/fob/onnx/onnxpb"
	fobruntime "github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
)

// runORT runs m in onnxruntime.
func runORT(t *testing.T, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor) map[string]tensor.Tensor {
	t.Helper()
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(b, ort.Options{Threads: 1})
	if err != nil {
		t.Fatalf("onnxruntime session: %v", err)
	}
	defer s.Close()
	out, err := s.Run(inputs)
	if err != nil {
		t.Fatalf("onnxruntime run: %v", err)
	}
	return out
}

var (
	backendOnce sync.Once
	backend     backends.Backend
	backendErr  error
)

// goBackend is the backend training uses (runtime.NewBackend("go")): simplego with fob's extra
// ops, running graph nodes one at a time. Stock simplego's parallel scheduler races on buffer
// ownership (go test -race flags exec.go) and runs kernels on worker goroutines, where a panic
// cannot be recovered.
func goBackend(t *testing.T) backends.Backend {
	t.Helper()
	backendOnce.Do(func() {
		backend, backendErr = fobruntime.NewBackend("go")
	})
	if backendErr != nil {
		t.Fatal(backendErr)
	}
	return backend
}

func toGoMLX(x tensor.Tensor) *tensors.Tensor {
	if x.I64 != nil {
		return tensors.FromFlatDataAndDimensions(x.I64, x.Shape...)
	}
	return tensors.FromFlatDataAndDimensions(x.F32, x.Shape...)
}

// runGoMLX imports m with onnx-gomlx and evaluates its graph outputs on the pure-Go backend.
func runGoMLX(t *testing.T, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor) map[string]tensor.Tensor {
	t.Helper()
	out, err := evalGoMLX(t, m, inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// evalGoMLX is runGoMLX returning errors; with gradOf set it also returns d(sum of output
// gradOf[0])/d(input gradOf[1]) under the name "grad".
func evalGoMLX(t *testing.T, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor, gradOf []string) (res map[string]tensor.Tensor, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx-gomlx panicked: %v", r)
		}
	}()
	b, err := Marshal(m)
	if err != nil {
		return nil, err
	}
	gm, err := gomlxonnx.Parse(b)
	if err != nil {
		return nil, err
	}
	ctx := context.New()
	if err := gm.VariablesToContext(ctx); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	outNames := gm.OutputsNames
	exec, err := context.NewExec(goBackend(t), ctx, func(ctx *context.Context, ins []*graph.Node) []*graph.Node {
		feed := map[string]*graph.Node{}
		for i, n := range names {
			feed[n] = ins[i]
		}
		outs := gm.CallGraph(ctx, ins[0].Graph(), feed, outNames...)
		if gradOf != nil {
			var target *graph.Node
			for i, n := range outNames {
				if n == gradOf[0] {
					target = outs[i]
				}
			}
			outs = append(outs, graph.Gradient(graph.ReduceAllSum(target), feed[gradOf[1]])[0])
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = toGoMLX(inputs[n])
	}
	got, err := exec.Exec(args...)
	if err != nil {
		return nil, err
	}
	res = map[string]tensor.Tensor{}
	all := append([]string{}, outNames...)
	if gradOf != nil {
		all = append(all, "grad")
	}
	for i, n := range all {
		res[n] = fromGoMLX(got[i])
	}
	return res, nil
}

func fromGoMLX(x *tensors.Tensor) tensor.Tensor {
	dims := append([]int{}, x.Shape().Dimensions...)
	if x.DType().IsInt() {
		return tensor.Tensor{Shape: dims, I64: tensors.MustCopyFlatData[int64](x)}
	}
	return tensor.Tensor{Shape: dims, F32: tensors.MustCopyFlatData[float32](x)}
}

// assertClose fails unless got and want have the same shape and |got-want| <= tol*(1+|want|).
func assertClose(t *testing.T, what string, got, want tensor.Tensor, tol float64) {
	t.Helper()
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	if len(got.F32) != len(want.F32) {
		t.Fatalf("%s: %d values, want %d", what, len(got.F32), len(want.F32))
	}
	worst, at := 0.0, -1
	for i := range want.F32 {
		g, w := float64(got.F32[i]), float64(want.F32[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.IsInf(g, 0) != math.IsInf(w, 0) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, g, w)
		}
		if math.IsInf(w, 0) || math.IsNaN(w) {
			continue
		}
		if d := math.Abs(g-w) / (1 + math.Abs(w)); d > worst {
			worst, at = d, i
		}
	}
	if worst > tol {
		t.Fatalf("%s: worst difference %.3g at %d (got %v, want %v), tolerance %g", what, worst, at, got.F32[at], want.F32[at], tol)
	}
}

func randF32(r *rand.Rand, scale float32, shape ...int) tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = (2*r.Float32() - 1) * scale
	}
	return tensor.F32s(v, shape...)
}

func mustModel(t *testing.T, b *Builder) *onnxpb.ModelProto {
	t.Helper()
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
