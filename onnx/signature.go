package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// TensorSpec describes one graph input or output.
type TensorSpec struct {
	Name, DType string
	// Dims holds each dim's size; -1 marks a symbolic (dynamic) dim.
	Dims []int
	// DimNames holds the name of each symbolic dim ("?" when it has none), "" for fixed dims.
	DimNames []string
}

// Signature lists a model's inputs (initializers excluded) and outputs in graph order.
type Signature struct {
	Inputs, Outputs []TensorSpec
}

// SignatureOf reads the signature of m. Every input and output must be a tensor with a declared
// element type and shape.
func SignatureOf(m *onnxpb.ModelProto) (Signature, error) {
	g := m.GetGraph()
	if g == nil {
		return Signature{}, fmt.Errorf("onnx: model has no graph")
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var s Signature
	for _, vi := range g.GetInput() {
		if inits[vi.GetName()] {
			continue // old exporters list initializers as (overridable) inputs
		}
		ts, err := specOf(vi)
		if err != nil {
			return Signature{}, fmt.Errorf("onnx: graph %q input: %w", g.GetName(), err)
		}
		s.Inputs = append(s.Inputs, ts)
	}
	for _, vi := range g.GetOutput() {
		ts, err := specOf(vi)
		if err != nil {
			return Signature{}, fmt.Errorf("onnx: graph %q output: %w", g.GetName(), err)
		}
		s.Outputs = append(s.Outputs, ts)
	}
	return s, nil
}

func specOf(vi *onnxpb.ValueInfoProto) (TensorSpec, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return TensorSpec{}, fmt.Errorf("%q is not a tensor", vi.GetName())
	}
	if tt.GetElemType() == 0 {
		return TensorSpec{}, fmt.Errorf("%q has no element type", vi.GetName())
	}
	if tt.GetShape() == nil {
		return TensorSpec{}, fmt.Errorf("%q has no declared shape (rank unknown)", vi.GetName())
	}
	ts := TensorSpec{Name: vi.GetName(), DType: dtypeName(tt.GetElemType()), Dims: []int{}, DimNames: []string{}}
	for _, d := range tt.GetShape().GetDim() {
		switch v := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			ts.Dims = append(ts.Dims, int(v.DimValue))
			ts.DimNames = append(ts.DimNames, "")
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			ts.Dims = append(ts.Dims, -1)
			ts.DimNames = append(ts.DimNames, v.DimParam)
		default:
			ts.Dims = append(ts.Dims, -1)
			ts.DimNames = append(ts.DimNames, "?")
		}
	}
	return ts, nil
}

// String renders a spec as `X float32[batch,784]`.
func (t TensorSpec) String() string {
	parts := make([]string, len(t.Dims))
	for i, d := range t.Dims {
		if d < 0 {
			name := "?"
			if i < len(t.DimNames) && t.DimNames[i] != "" {
				name = t.DimNames[i]
			}
			parts[i] = name
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	return fmt.Sprintf("%s %s[%s]", t.Name, t.DType, strings.Join(parts, ","))
}

// String renders the signature as `inputs: X float32[batch,784]; outputs: logits float32[batch,10]`.
func (s Signature) String() string {
	join := func(ts []TensorSpec) string {
		if len(ts) == 0 {
			return "none"
		}
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = t.String()
		}
		return strings.Join(parts, ", ")
	}
	return "inputs: " + join(s.Inputs) + "; outputs: " + join(s.Outputs)
}

// Check reports whether got (e.g. an external model's signature) can stand in for want: the same
// input and output names, element types and ranks; fixed dims equal; a symbolic dim in want
// accepts any dim in got (its name may differ). The error shows both signatures in full.
func (want Signature) Check(got Signature) error {
	if why := checkSpecs("input", want.Inputs, got.Inputs); why != "" {
		return want.mismatch(got, why)
	}
	if why := checkSpecs("output", want.Outputs, got.Outputs); why != "" {
		return want.mismatch(got, why)
	}
	return nil
}

func (want Signature) mismatch(got Signature, why string) error {
	return fmt.Errorf("onnx: model signature mismatch: %s\n  want: %s\n  got:  %s", why, want, got)
}

func checkSpecs(kind string, want, got []TensorSpec) string {
	byName := map[string]TensorSpec{}
	for _, g := range got {
		byName[g.Name] = g
	}
	wantNames := map[string]bool{}
	for _, w := range want {
		wantNames[w.Name] = true
		g, ok := byName[w.Name]
		if !ok {
			return fmt.Sprintf("%s %q is missing (want %s)", kind, w.Name, w)
		}
		if g.DType != w.DType {
			return fmt.Sprintf("%s %q has element type %s, want %s", kind, w.Name, g.DType, w.DType)
		}
		if len(g.Dims) != len(w.Dims) {
			return fmt.Sprintf("%s %q has rank %d (%s), want rank %d (%s)", kind, w.Name, len(g.Dims), g, len(w.Dims), w)
		}
		for i, wd := range w.Dims {
			if wd >= 0 && g.Dims[i] != wd {
				gd := strconv.Itoa(g.Dims[i])
				if g.Dims[i] < 0 {
					gd = "symbolic " + strconv.Quote(g.DimNames[i])
				}
				return fmt.Sprintf("%s %q dim %d is %s, want %d (%s vs %s)", kind, w.Name, i, gd, wd, g, w)
			}
		}
	}
	for _, g := range got {
		if !wantNames[g.Name] {
			return fmt.Sprintf("unexpected %s %q (%s)", kind, g.Name, g)
		}
	}
	return ""
}

// CheckTensors reports whether the tensors fed to a model (inputs) and the tensors it returned
// (outputs) fit the signature, before metrics or losses index into them: every output the
// signature lists is present with its element type, rank and fixed dims, and each symbolic dim
// name stands for one size throughout (logits[batch,10] has as many rows as X[batch,784] fed).
// A model whose declared output shapes hide what it really computes fails here with an error
// naming the output, the shape it has and the shape wanted, instead of an index panic.
// Inputs or outputs the signature does not list are ignored.
func (s Signature) CheckTensors(inputs, outputs map[string]tensor.Tensor) error {
	bound := map[string]int{}    // symbolic dim name -> size
	where := map[string]string{} // symbolic dim name -> where it was bound
	check := func(kind string, spec TensorSpec, t tensor.Tensor) error {
		if (spec.DType == "float32" || spec.DType == "int64") && t.DType() != spec.DType {
			return fmt.Errorf("model %s %q holds %s, but the task expects %s", kind, spec.Name, t.DType(), spec)
		}
		if len(t.Shape) != len(spec.Dims) {
			return fmt.Errorf("model %s %q has shape %v (rank %d), but the task expects %s (rank %d); the file's declared shape does not match what its graph computes",
				kind, spec.Name, t.Shape, len(t.Shape), spec, len(spec.Dims))
		}
		for i, want := range spec.Dims {
			got := t.Shape[i]
			if want >= 0 {
				if got != want {
					return fmt.Errorf("model %s %q has shape %v, but the task expects %s (dim %d is %d, want %d); the file's declared shape does not match what its graph computes",
						kind, spec.Name, t.Shape, spec, i, got, want)
				}
				continue
			}
			name := ""
			if i < len(spec.DimNames) && spec.DimNames[i] != "?" {
				name = spec.DimNames[i]
			}
			if name == "" {
				continue
			}
			if size, ok := bound[name]; ok && size != got {
				return fmt.Errorf("model %s %q has shape %v, but the task expects %s: dim %d (%s) is %d while %s %s is %d",
					kind, spec.Name, t.Shape, spec, i, name, got, where[name], name, size)
			}
			if _, ok := bound[name]; !ok {
				bound[name], where[name] = got, fmt.Sprintf("in %s %q", kind, spec.Name)
			}
		}
		return nil
	}
	for _, spec := range s.Inputs {
		if t, ok := inputs[spec.Name]; ok {
			if err := check("input", spec, t); err != nil {
				return fmt.Errorf("onnx: %w", err)
			}
		}
	}
	for _, spec := range s.Outputs {
		t, ok := outputs[spec.Name]
		if !ok {
			return fmt.Errorf("onnx: the model returned no output %q (the task expects %s)", spec.Name, spec)
		}
		if err := check("output", spec, t); err != nil {
			return fmt.Errorf("onnx: %w", err)
		}
	}
	return nil
}
