package train

import (
	"fmt"
	"sort"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gonnx "github.com/gomlx/onnx-gomlx/onnx"
	"google.golang.org/protobuf/proto"
)

// Model is an ONNX graph loaded for training: the original graph (exported with trained
// weights), its lowered forms for training and inference in GoMLX, and its parameters.
type Model struct {
	// Proto is the original graph; Export writes trained weights into a copy of it.
	Proto *onnxpb.ModelProto
	// Train computes the graph with dropout masks as extra inputs (see Sites).
	Train *gonnx.Model
	// Infer computes the graph without dropout.
	Infer *gonnx.Model
	// Sites are the dropout sites of Train, in mask-input order.
	Sites []onnx.DropoutSite
	// Params are the trainable initializers, sorted by name.
	Params []ParamVar
	// Inputs and Outputs are the graph's data inputs and outputs, in graph order.
	Inputs, Outputs []string
	// Stats are the running statistics of BatchNormalization nodes: each train step assigns
	// them the values Train computes (onnx.BatchNormSite); Infer and the export read them.
	Stats []StatVar
}

// StatVar is a non-trainable variable a train step overwrites with the tensor Tensor of the
// Train graph (a running statistic).
type StatVar struct {
	Name, Tensor string
	Var          *context.Variable
}

// ParamVar is one trainable initializer and the context variable holding it.
type ParamVar struct {
	Name  string
	Shape []int
	Var   *context.Variable
}

// LoadModel lowers the graph for onnx-gomlx, uploads its initializers as variables into ctx and
// marks which of them train: float initializers do, except normalisation statistics; integer
// ones (shapes, indices) never do.
func LoadModel(ctx *context.Context, m *onnxpb.ModelProto) (mod *Model, err error) {
	defer recoverAs(&err, "loading the ONNX model into GoMLX")
	trainLow, err := onnx.Lower(m, onnx.ImportOptions{Dropout: onnx.DropoutMasks, BatchNorm: onnx.BatchNormTrain, FusedBatchNorm: true})
	if err != nil {
		return nil, err
	}
	trainProto, sites := trainLow.Model, trainLow.Dropout
	inferProto, _, err := onnx.ForImport(m, onnx.ImportOptions{Dropout: onnx.DropoutRemove, BatchNorm: onnx.BatchNormInference})
	if err != nil {
		return nil, err
	}
	mod = &Model{Proto: m, Sites: sites}
	if mod.Train, err = parseGoMLX(trainProto); err != nil {
		return nil, err
	}
	if mod.Infer, err = parseGoMLX(inferProto); err != nil {
		return nil, err
	}
	if err := mod.Infer.VariablesToContext(ctx); err != nil {
		return nil, fmt.Errorf("uploading ONNX initializers: %w", err)
	}
	sig, err := onnx.SignatureOf(m)
	if err != nil {
		return nil, err
	}
	for _, in := range sig.Inputs {
		mod.Inputs = append(mod.Inputs, in.Name)
	}
	for _, out := range sig.Outputs {
		mod.Outputs = append(mod.Outputs, out.Name)
	}
	stats := onnx.BatchNormStatistics(m)
	mctx := ctx.In(gonnx.ModelScope)
	for _, init := range m.Graph.Initializer {
		v := mctx.GetVariable(gonnx.SafeVarName(init.GetName()))
		if v == nil {
			return nil, fmt.Errorf("initializer %q did not become a GoMLX variable", init.GetName())
		}
		trainable := v.DType().IsFloat() && !stats[init.GetName()]
		v.SetTrainable(trainable)
		if trainable {
			mod.Params = append(mod.Params, ParamVar{Name: init.GetName(), Shape: v.Shape().Dimensions, Var: v})
		}
	}
	sort.Slice(mod.Params, func(i, j int) bool { return mod.Params[i].Name < mod.Params[j].Name })
	if mod.Stats, err = statVars(mctx, trainLow.BatchNorm); err != nil {
		return nil, err
	}
	return mod, nil
}

func parseGoMLX(m *onnxpb.ModelProto) (*gonnx.Model, error) {
	b, err := onnx.Marshal(m)
	if err != nil {
		return nil, err
	}
	gm, err := gonnx.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("onnx-gomlx: %w", err)
	}
	return gm, nil
}

// Export returns a copy of the original graph carrying the current values of every initializer.
func (m *Model) Export(ctx *context.Context, meta map[string]string) (*onnxpb.ModelProto, error) {
	values := map[string]tensor.Tensor{}
	mctx := ctx.In(gonnx.ModelScope)
	for _, init := range m.Proto.Graph.Initializer {
		v := mctx.GetVariable(gonnx.SafeVarName(init.GetName()))
		if v == nil {
			return nil, fmt.Errorf("export: variable for initializer %q missing", init.GetName())
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("export: reading %q: %w", init.GetName(), err)
		}
		ht, err := hostTensor(t)
		if err != nil {
			return nil, fmt.Errorf("export: %q: %w", init.GetName(), err)
		}
		values[init.GetName()] = ht
	}
	out := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	if err := onnx.WriteBack(out, values); err != nil {
		return nil, err
	}
	// Trained BatchNormalization keeps its running statistics: training_mode=1 nodes of an
	// external file would ignore them.
	if err := onnx.BatchNormInferenceForm(out); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		onnx.SetMetadata(out, k, meta[k])
	}
	return out, nil
}

// hostTensor copies a GoMLX tensor to the host representation.
func hostTensor(t *tensors.Tensor) (tensor.Tensor, error) {
	dims := append([]int(nil), t.Shape().Dimensions...)
	switch t.DType() {
	case dtypes.Float32:
		d, err := tensors.CopyFlatData[float32](t)
		return tensor.Tensor{Shape: dims, F32: d}, err
	case dtypes.Int64:
		d, err := tensors.CopyFlatData[int64](t)
		return tensor.Tensor{Shape: dims, I64: d}, err
	}
	return tensor.Tensor{}, fmt.Errorf("unsupported dtype %s", t.DType())
}

// deviceTensor wraps a host tensor for GoMLX (the data is copied).
func deviceTensor(t tensor.Tensor) *tensors.Tensor {
	if t.I64 != nil {
		return tensors.FromFlatDataAndDimensions(t.I64, t.Shape...)
	}
	return tensors.FromFlatDataAndDimensions(t.F32, t.Shape...)
}

// recoverAs turns a panic (GoMLX and onnx-gomlx report errors by panicking) into an error.
func recoverAs(err *error, what string) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("%s: %w", what, e)
			return
		}
		*err = fmt.Errorf("%s: %v", what, r)
	}
}

// Groups splits the trainable parameters into the default parameter groups (no weight decay
// for biases, normalisation and embedding parameters) and returns them with the optimizer's
// view of every parameter.
func (m *Model) Groups() ([]optim.Group, []optim.Param, error) {
	infos := make([]optim.ParamInfo, len(m.Params))
	names := make([]string, len(m.Params))
	for i, p := range m.Params {
		infos[i] = optim.ParamInfo{Name: p.Name, Shape: p.Shape}
		names[i] = p.Name
	}
	groups := optim.DefaultGroups(infos)
	idx, err := optim.AssignGroups(groups, names)
	if err != nil {
		return nil, nil, err
	}
	params := make([]optim.Param, len(m.Params))
	for i, p := range m.Params {
		params[i] = optim.Param{Name: p.Name, Var: p.Var, Group: idx[i]}
	}
	return groups, params, nil
}
