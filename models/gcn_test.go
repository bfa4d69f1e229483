package models_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
)

// TestGCNMatchesTorch loads the weights of a PyTorch GCN written after PyG's GCNConv
// (testdata/make_refs.py) into both aggregation forms by parameter name, and checks that
// onnxruntime and GoMLX reproduce PyTorch's eval-mode log-probabilities on a small directed
// graph whose in- and out-degrees differ.
func TestGCNMatchesTorch(t *testing.T) {
	var ref struct {
		Sizes     []int                `json:"sizes"`
		Params    map[string]refTensor `json:"params"`
		X         []float32            `json:"x"`
		EdgeIndex []int64              `json:"edge_index"`
		Output    []float32            `json:"output"`
	}
	readJSON(t, "testdata/gcn_ref.json", &ref)
	n := len(ref.X) / ref.Sizes[0]
	e := len(ref.EdgeIndex) / 2
	x := tensor.F32s(ref.X, n, ref.Sizes[0])
	edgeIndex := tensor.I64s(ref.EdgeIndex, 2, e)
	cases := []struct {
		agg, graph string
		input      tensor.Tensor
	}{
		{models.GCNSparse, "edge_index", edgeIndex},
		{models.GCNDense, "adj", models.DenseAdjacency(edgeIndex, n)},
	}
	for _, c := range cases {
		t.Run(c.agg, func(t *testing.T) {
			m, err := models.GCN{Sizes: ref.Sizes, Dropout: 0.5, Normalize: true, Aggregation: c.agg,
				Features: "x", Graph: c.graph, Output: "log_probs"}.Build("gcn", 3)
			if err != nil {
				t.Fatal(err)
			}
			loadParams(t, m, ref.Params)
			in := map[string]tensor.Tensor{"x": x, c.graph: c.input}
			ortOut := runORT(t, m, in, "log_probs")
			if len(ortOut.Shape) != 2 || ortOut.Shape[0] != n || ortOut.Shape[1] != ref.Sizes[len(ref.Sizes)-1] {
				t.Fatalf("onnxruntime output shape %v", ortOut.Shape)
			}
			if d := maxAbsDiff(t, "onnxruntime vs PyTorch", ortOut.F32, ref.Output); d > 1e-5 {
				t.Errorf("onnxruntime differs from PyTorch by %g (want <= 1e-5)", d)
			} else {
				t.Logf("max |onnxruntime - PyTorch| = %.3g", d)
			}
			goOut := runGoMLX(t, m, in, "log_probs")
			if d := maxAbsDiff(t, "GoMLX vs PyTorch", goOut.F32, ref.Output); d > 1e-5 {
				t.Errorf("GoMLX differs from PyTorch by %g (want <= 1e-5)", d)
			} else {
				t.Logf("max |GoMLX - PyTorch| = %.3g", d)
			}
		})
	}
}

// TestGCNSparseDeterministic: the edge-list GCN gives bit-identical outputs in onnxruntime with
// several intra-op threads, on a graph where most nodes receive many edges (ScatterND with
// reduction add does not: its CPU kernel races on duplicate targets), and agrees with the
// dense form.
func TestGCNSparseDeterministic(t *testing.T) {
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	const n, e, f = 300, 6000, 16
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n*f)
	for i := range x {
		x[i] = r.Float32()
	}
	edges := make([]int64, 2*e)
	seen := map[[2]int]bool{}
	for k := 0; k < e; k++ {
		s, d := r.IntN(n), r.IntN(n/10) // targets: the first tenth of the nodes
		if seen[[2]int{s, d}] || s == d {
			k--
			continue
		}
		edges[k], edges[e+k] = int64(s), int64(d)
		seen[[2]int{s, d}] = true
	}
	edgeIndex := tensor.I64s(edges, 2, e)
	build := func(agg, input string) []byte {
		m, err := models.GCN{Sizes: []int{f, 64, 7}, Normalize: true, Aggregation: agg,
			Features: "x", Graph: input, Output: "log_probs"}.Build("gcn", 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, node := range m.GetGraph().GetNode() {
			if node.GetOpType() == "ScatterND" {
				t.Fatalf("%s GCN uses ScatterND", agg)
			}
		}
		raw, err := onnx.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	sess, err := ort.NewSession(build(models.GCNSparse, "edge_index"), ort.Options{Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	in := map[string]tensor.Tensor{"x": tensor.F32s(x, n, f), "edge_index": edgeIndex}
	var first []float32
	for run := 0; run < 20; run++ {
		out, err := sess.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		got := out["log_probs"].F32
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if got[i] != first[i] {
				t.Fatalf("run %d differs from run 0 at %d: %v vs %v", run, i, got[i], first[i])
			}
		}
	}
	dense, err := ort.NewSession(build(models.GCNDense, "adj"), ort.Options{Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer dense.Close()
	out, err := dense.Run(map[string]tensor.Tensor{"x": tensor.F32s(x, n, f), "adj": models.DenseAdjacency(edgeIndex, n)})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, "sparse vs dense", first, out["log_probs"].F32); d > 1e-5 {
		t.Fatalf("sparse and dense GCN differ by %g", d)
	}
}

// TestGCNInit checks PyG's initialisation (glorot weights, zero biases), FOB's reset_params
// variant (U(±1/√in) weights, U(±1/√out) biases), the parameter names and the dropout site.
func TestGCNInit(t *testing.T) {
	cases := []struct {
		kipf           bool
		wBound, bBound float64
	}{
		{false, math.Sqrt(6.0 / (1433 + 64)), 0},
		{true, 1 / math.Sqrt(1433), 1 / math.Sqrt(64)},
	}
	for _, c := range cases {
		m, err := models.GCN{Sizes: []int{1433, 64, 7}, Dropout: 0.5, Normalize: true, KipfInit: c.kipf,
			Aggregation: models.GCNSparse, Features: "x", Graph: "edge_index", Output: "log_probs"}.Build("gcn", 1)
		if err != nil {
			t.Fatal(err)
		}
		inits := onnx.Initializers(m)
		if len(inits) != 4 {
			t.Errorf("kipf=%v: %d initializers, want convs.{0,1}.{lin.weight,bias}", c.kipf, len(inits))
		}
		for name, wantBound := range map[string]float64{"convs.0.lin.weight": c.wBound, "convs.0.bias": c.bBound} {
			tp, ok := inits[name]
			if !ok {
				t.Fatalf("no %s", name)
			}
			v, _ := onnx.TensorOf(tp)
			var mx float64
			for _, x := range v.F32 {
				mx = math.Max(mx, math.Abs(float64(x)))
			}
			if mx > wantBound+1e-7 || mx < 0.9*wantBound {
				t.Errorf("kipf=%v %s: max |value| %g, want about the bound %g", c.kipf, name, mx, wantBound)
			}
		}
		_, sites, err := onnx.ForImport(m, onnx.ImportOptions{Dropout: onnx.DropoutMasks})
		if err != nil {
			t.Fatal(err)
		}
		if len(sites) != 1 || sites[0].Ratio != 0.5 {
			t.Errorf("dropout sites %+v, want one of ratio 0.5 (between the layers, not on the input)", sites)
		}
	}
}

// TestGCNErrors checks that bad settings fail with a message naming the problem.
func TestGCNErrors(t *testing.T) {
	ok := models.GCN{Sizes: []int{4, 3, 2}, Dropout: 0.5, Aggregation: models.GCNSparse, Features: "x", Graph: "g", Output: "y"}
	cases := []struct {
		name string
		edit func(*models.GCN)
		want string
	}{
		{"one size", func(m *models.GCN) { m.Sizes = []int{4} }, "input and output sizes"},
		{"zero width", func(m *models.GCN) { m.Sizes = []int{4, 0, 2} }, "positive"},
		{"unknown aggregation", func(m *models.GCN) { m.Aggregation = "csr" }, `"csr"; valid: dense, sparse`},
		{"dropout", func(m *models.GCN) { m.Dropout = -0.1 }, "outside [0, 1)"},
	}
	for _, c := range cases {
		m := ok
		c.edit(&m)
		if _, err := m.Build("gcn", 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if _, err := ok.Build("gcn", 1); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
