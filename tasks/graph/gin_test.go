package graph

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
)

// refTensor is one tensor of gin_ref.json.
type refTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

// ginRef is one case of testdata/gin_ref.json (make_gin_ref.py): a small OGB GIN in PyTorch,
// three graphs, and what PyTorch computes on them.
type ginRef struct {
	Name, JK, Pooling string
	Hidden, Layers    int
	Params            map[string]refTensor
	X                 []int64 `json:"x"`
	EdgeIndex         []int64 `json:"edge_index"`
	EdgeAttr          []int64 `json:"edge_attr"`
	Batch             []int64 `json:"batch"`
	Y                 []float64
	EvalLogits        refTensor `json:"eval_logits"`
	TrainLogits       refTensor `json:"train_logits"`
	Loss              float64
	Grads             map[string]refTensor
	RunningMean       map[string]refTensor `json:"running_mean"`
}

func readRefs(t *testing.T) []ginRef {
	t.Helper()
	b, err := os.ReadFile("testdata/gin_ref.json")
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 tasks/graph/testdata/make_gin_ref.py)", err)
	}
	var refs []ginRef
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	return refs
}

// set turns the reference batch back into an OGB set of its graphs (edge lists numbered within
// each graph), so the task's own batching builds the model inputs.
func (r ginRef) set() *data.OGBGraphs {
	n, e := len(r.Batch), len(r.EdgeIndex)/2
	s := &data.OGBGraphs{NodeFeat: r.X, NodeFeatDim: 9, EdgeFeat: r.EdgeAttr, EdgeFeatDim: 3, Labels: r.Y,
		Src: make([]int64, e), Dst: make([]int64, e)}
	graphs := int(r.Batch[n-1]) + 1
	s.NodeStart = make([]int, graphs+1)
	for _, g := range r.Batch {
		s.NodeStart[g+1]++
	}
	for g := 0; g < graphs; g++ {
		s.NodeStart[g+1] += s.NodeStart[g]
	}
	s.EdgeStart = make([]int, graphs+1)
	for k := 0; k < e; k++ {
		g := r.Batch[r.EdgeIndex[k]]
		s.EdgeStart[g+1]++
		s.Src[k] = r.EdgeIndex[k] - int64(s.NodeStart[g])
		s.Dst[k] = r.EdgeIndex[e+k] - int64(s.NodeStart[g])
	}
	for g := 0; g < graphs; g++ {
		s.EdgeStart[g+1] += s.EdgeStart[g]
	}
	return s
}

func (r ginRef) model(t *testing.T) *onnxpb.ModelProto {
	t.Helper()
	m, err := models.GIN{Hidden: r.Hidden, Layers: r.Layers, Pooling: r.Pooling, JK: r.JK, Outputs: 2}.Build("gin", 1)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for name := range onnx.Initializers(m) {
		got = append(got, name)
	}
	values := map[string]tensor.Tensor{}
	for name, p := range r.Params {
		want = append(want, name)
		values[name] = tensor.F32s(p.Data, p.Shape...)
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("ONNX initializers\n%v\ndiffer from the PyTorch state_dict\n%v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("ONNX initializer %q, PyTorch %q", got[i], want[i])
		}
	}
	if err := onnx.WriteBack(m, values); err != nil {
		t.Fatal(err)
	}
	return m
}

func maxDiff(t *testing.T, what string, got, want []float32) float64 {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: %d values, want at least %d", what, len(got), len(want))
	}
	var d float64
	for i := range want {
		if math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: NaN at %d", what, i)
		}
		d = math.Max(d, math.Abs(float64(got[i]-want[i])))
	}
	return d
}

// TestGINMatchesTorch loads PyTorch's weights into fob's GIN by parameter name and checks, on a
// batch padded by the task's batching (to 32 nodes, 32 edges and 4 graphs), that onnxruntime
// and GoMLX reproduce PyTorch's eval-mode logits on the unpadded batch to 1e-5 and agree with
// each other to 1e-5.
func TestGINMatchesTorch(t *testing.T) {
	for _, r := range readRefs(t) {
		t.Run(r.Name, func(t *testing.T) {
			m := r.model(t)
			bt := &Batcher{Set: r.set(), Graphs: []int{0, 1, 2}, Pooling: r.Pooling}
			b := bt.Batch([]int{0, 1, 2})
			if n := b.Inputs[models.GINNodeFeatures].Shape[0]; n == len(r.Batch) {
				t.Fatalf("batch not padded (%d nodes)", n)
			}
			outs, err := traintest.ORTSession(t, m, 1).Run(b.Inputs)
			if err != nil {
				t.Fatal(err)
			}
			ortOut := outs[models.GINOutput].F32
			st, _, _, _ := traintest.Stepper(t, Task{}, m, 1, config.Map{"name": "sgd_baseline", "learning_rate": 1.0,
				"momentum": 0.0, "weight_decay": 0.0, "max_steps": 1, "max_epochs": 1})
			goOuts, err := st.Forward(b)
			if err != nil {
				t.Fatal(err)
			}
			goOut := goOuts[models.GINOutput].F32
			for _, c := range []struct {
				what      string
				got, want []float32
			}{{"onnxruntime vs PyTorch", ortOut, r.EvalLogits.Data}, {"GoMLX vs PyTorch", goOut, r.EvalLogits.Data},
				{"GoMLX vs onnxruntime", goOut, ortOut}} {
				if d := maxDiff(t, c.what, c.got, c.want); d > 1e-5 {
					t.Errorf("%s: max |diff| %g > 1e-5", c.what, d)
				} else {
					t.Logf("%s: max |diff| %.3g", c.what, d)
				}
			}
		})
	}
}

// TestTrainStepMatchesTorch runs one train step (plain SGD, learning rate 1) on the padded batch
// and checks it against PyTorch in training mode on the unpadded batch: the logits (batch
// statistics in every BatchNorm), the loss, every parameter's gradient (the change of each
// parameter) and the running means after the step. Padding must change none of them.
func TestTrainStepMatchesTorch(t *testing.T) {
	for _, r := range readRefs(t) {
		t.Run(r.Name, func(t *testing.T) {
			m := r.model(t)
			bt := &Batcher{Set: r.set(), Graphs: []int{0, 1, 2}, Pooling: r.Pooling}
			b := bt.Batch([]int{0, 1, 2})
			st, model, lrs, gc := traintest.Stepper(t, Task{}, m, 1, config.Map{"name": "sgd_baseline", "learning_rate": 1.0,
				"momentum": 0.0, "weight_decay": 0.0, "max_steps": 1, "max_epochs": 1})
			res, err := st.Step(b, 1, lrs)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(res.Loss - r.Loss); d > 1e-5 {
				t.Errorf("loss %.7f, PyTorch %.7f", res.Loss, r.Loss)
			}
			if d := maxDiff(t, "train logits", res.Outputs[models.GINOutput].F32, r.TrainLogits.Data); d > 1e-4 {
				t.Errorf("train-mode logits differ from PyTorch by %g", d)
			} else {
				t.Logf("train-mode logits: max |diff| %.3g", d)
			}
			out, err := model.Export(gc, nil)
			if err != nil {
				t.Fatal(err)
			}
			after := onnx.Initializers(out)
			var worst float64
			var worstName string
			for name, g := range r.Grads {
				p0 := r.Params[name].Data
				p1, err := onnx.TensorOf(after[name])
				if err != nil {
					t.Fatal(err)
				}
				step := make([]float32, len(p0))
				for i := range p0 {
					step[i] = p0[i] - p1.F32[i]
				}
				if d := maxDiff(t, name, step, g.Data); d > worst {
					worst, worstName = d, name
				}
			}
			if worst > 1e-4 {
				t.Errorf("gradients differ from PyTorch: worst %s by %g", worstName, worst)
			} else {
				t.Logf("gradients of %d parameters: max |diff| %.3g (%s)", len(r.Grads), worst, worstName)
			}
			for name, want := range r.RunningMean {
				got, err := onnx.TensorOf(after[name])
				if err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(t, name, got.F32, want.Data); d > 1e-5 {
					t.Errorf("%s after the step differs from PyTorch's by %g", name, d)
				}
			}
		})
	}
}

var _ tasks.Dataset = (*Batcher)(nil)
