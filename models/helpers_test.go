package models_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train"
	gctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// refTensor is one tensor of a make_refs.py fixture.
type refTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// loadParams checks that m's initializers are exactly the fixture's parameters (names and
// shapes: the PyTorch modules' state_dict) and writes the fixture's values into m.
func loadParams(t *testing.T, m *onnxpb.ModelProto, params map[string]refTensor) {
	t.Helper()
	var got, want []string
	for name, tp := range onnx.Initializers(m) {
		got = append(got, name)
		p, ok := params[name]
		if !ok {
			continue
		}
		dims := tp.GetDims()
		if len(dims) != len(p.Shape) {
			t.Errorf("%s: ONNX shape %v, PyTorch %v", name, dims, p.Shape)
			continue
		}
		for i := range dims {
			if int(dims[i]) != p.Shape[i] {
				t.Errorf("%s: ONNX shape %v, PyTorch %v", name, dims, p.Shape)
				break
			}
		}
	}
	values := map[string]tensor.Tensor{}
	for name, p := range params {
		want = append(want, name)
		values[name] = tensor.F32s(p.Data, p.Shape...)
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("ONNX initializers\n%v\ndiffer from the PyTorch parameters\n%v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("ONNX initializers\n%v\ndiffer from the PyTorch parameters\n%v", got, want)
		}
	}
	if err := onnx.WriteBack(m, values); err != nil {
		t.Fatal(err)
	}
}

// runORT runs m in onnxruntime and returns the named output.
func runORT(t *testing.T, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor, output string) tensor.Tensor {
	t.Helper()
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	raw, err := onnx.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := ort.NewSession(raw, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out[output]
}

// runGoMLX runs m's inference form (dropout removed) in GoMLX on the default backend.
func runGoMLX(t *testing.T, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor, output string) tensor.Tensor {
	t.Helper()
	backend, err := runtime.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	gc := gctx.New()
	model, err := train.LoadModel(gc, m)
	if err != nil {
		t.Fatal(err)
	}
	st, err := train.NewStepper(train.StepperConfig{Backend: backend, Context: gc, Model: model})
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Forward(tasks.Batch{Inputs: inputs})
	if err != nil {
		t.Fatal(err)
	}
	return out[output]
}

// maxAbsDiff compares got against want (same length required).
func maxAbsDiff(t *testing.T, what string, got []float32, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var d float64
	for i := range got {
		if math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: NaN at %d", what, i)
		}
		d = math.Max(d, math.Abs(float64(got[i]-want[i])))
	}
	return d
}

// torchLogitsRef is what the PyTorch reference scripts (testdata/*_torch_ref.py) write: the
// module's parameter count, the input they drew and the logits they computed.
type torchLogitsRef struct {
	ParamCount  int       `json:"param_count"`
	XShape      []int     `json:"x_shape"`
	X           []float32 `json:"x"`
	LogitsShape []int     `json:"logits_shape"`
	Logits      []float32 `json:"logits"`
}

// torchReference saves p, runs the PyTorch reference script testdata/<script> with the
// arguments args returns for the saved model, the ONNX file the script exports and its JSON
// output, and returns that output, the exported model and the largest |logit| of the reference.
func torchReference(t *testing.T, p *onnxpb.ModelProto, script string, args func(src, dst, ref string) []string) (torchLogitsRef, *onnxpb.ModelProto, float64) {
	t.Helper()
	dir := t.TempDir()
	src, dst, refPath := filepath.Join(dir, "fob.onnx"), filepath.Join(dir, "torch.onnx"), filepath.Join(dir, "ref.json")
	if err := onnx.Save(src, p); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython, append([]string{filepath.Join("testdata", script)}, args(src, dst, refPath)...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	var ref torchLogitsRef
	readJSON(t, refPath, &ref)
	m, err := onnx.Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	scale := 0.0
	for _, v := range ref.Logits {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	return ref, m, scale
}
