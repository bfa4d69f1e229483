// Package ort runs ONNX models in onnxruntime (through github.com/yalue/onnxruntime_go): the
// engine that scores the test split. It finds the onnxruntime shared library (see Init), opens
// sessions with dynamic input shapes, and exchanges tensor.Tensor values.
package ort

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	ortgo "github.com/yalue/onnxruntime_go"
)

var (
	initOnce sync.Once
	initErr  error
	libPath  atomic.Pointer[string] // set once Init has loaded the library
)

// Init finds the onnxruntime shared library and initialises the onnxruntime environment. It is
// idempotent: later calls return the first call's result.
//
// The library is looked up in this order: $ONNXRUNTIME_LIB (a file path); the project-local
// install .local/onnxruntime/lib/libonnxruntime.so.1 relative to the working directory or the
// executable's folder and their parents; onnxruntime/capi/libonnxruntime.so* inside a Python
// site-packages folder ($FOB_PYTHON_SITE, $VIRTUAL_ENV, ~/.local, /usr/local/lib, /usr/lib);
// /usr/lib/x86_64-linux-gnu, /usr/local/lib, /usr/lib.
func Init() error {
	initOnce.Do(func() {
		p, err := locate(realLocEnv())
		if err != nil {
			initErr = err
			return
		}
		ortgo.SetSharedLibraryPath(p)
		if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
			initErr = fmt.Errorf("onnxruntime: loading %s: %w (fob needs onnxruntime >= 1.24; "+
				"run scripts/install-onnxruntime.sh or set ONNXRUNTIME_LIB to a newer library)", p, err)
			return
		}
		libPath.Store(&p)
	})
	return initErr
}

// LibraryPath is the onnxruntime library in use after a successful Init; before Init it is the
// library Init would load, and "" when none can be found.
func LibraryPath() string {
	if p := libPath.Load(); p != nil {
		return *p
	}
	p, err := locate(realLocEnv())
	if err != nil {
		return ""
	}
	return p
}

// Options configures a Session.
type Options struct {
	// Threads is the number of intra-op threads; 0 lets onnxruntime choose.
	Threads int
	// CUDA asks for the CUDA execution provider; when it is unavailable the session runs on the
	// CPU (see Session.Provider and Session.FallbackReason).
	CUDA bool
}

// Session is one loaded model. Run may be called concurrently and with a different batch size
// each time.
type Session struct {
	sess     *ortgo.DynamicAdvancedSession
	inputs   []ioSpec
	outputs  []ioSpec
	provider string
	fallback string
	mu       sync.RWMutex // Run holds it shared, Close exclusively
	closed   bool
}

type ioSpec struct {
	name  string
	dtype string // "float32", "int64" or the ONNX type name of anything else
	rank  int    // -1 when the model does not declare a shape
}

// NewSession loads a serialized ONNX model. Inputs and outputs are taken from the model's graph
// (initializers listed as graph inputs by old exporters are not inputs).
func NewSession(model []byte, opt Options) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil || m.GetGraph() == nil {
		if err == nil {
			err = fmt.Errorf("no graph")
		}
		return nil, fmt.Errorf("ort: not a valid ONNX model: %v", err)
	}
	s := &Session{provider: "CPU"}
	inits := map[string]bool{}
	for _, t := range m.GetGraph().GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, vi := range m.GetGraph().GetInput() {
		if !inits[vi.GetName()] {
			s.inputs = append(s.inputs, specOf(vi))
		}
	}
	for _, vi := range m.GetGraph().GetOutput() {
		s.outputs = append(s.outputs, specOf(vi))
	}
	if len(s.outputs) == 0 {
		return nil, fmt.Errorf("ort: model graph %q declares no outputs", m.GetGraph().GetName())
	}

	so, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	defer so.Destroy()
	if opt.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opt.Threads); err != nil {
			return nil, fmt.Errorf("ort: setting %d threads: %w", opt.Threads, err)
		}
	}
	if opt.CUDA {
		if reason := appendCUDA(so); reason != "" {
			s.fallback = "CUDA requested but unavailable (" + reason + "); running on CPU"
			fmt.Fprintln(os.Stderr, "ort: "+s.fallback)
		} else {
			s.provider = "CUDA"
		}
	}
	s.sess, err = ortgo.NewDynamicAdvancedSessionWithONNXData(model, names(s.inputs), names(s.outputs), so)
	if err != nil && s.provider == "CUDA" {
		// The provider registered but the session could not use it (no device, missing CUDA
		// libraries): retry on the CPU rather than fail the evaluation.
		s.provider, s.fallback = "CPU", "CUDA session failed ("+oneLine(err)+"); running on CPU"
		fmt.Fprintln(os.Stderr, "ort: "+s.fallback)
		cpu, cerr := ortgo.NewSessionOptions()
		if cerr != nil {
			return nil, fmt.Errorf("ort: session options: %w", cerr)
		}
		defer cpu.Destroy()
		if opt.Threads > 0 {
			_ = cpu.SetIntraOpNumThreads(opt.Threads)
		}
		s.sess, err = ortgo.NewDynamicAdvancedSessionWithONNXData(model, names(s.inputs), names(s.outputs), cpu)
	}
	if err != nil {
		return nil, fmt.Errorf("ort: creating session for graph %q: %w", m.GetGraph().GetName(), err)
	}
	return s, nil
}

func appendCUDA(so *ortgo.SessionOptions) (reason string) {
	// onnxruntime logs a failed provider load as an error; the fallback note says it instead.
	_ = ortgo.SetEnvironmentLogLevel(ortgo.LoggingLevelFatal)
	defer func() { _ = ortgo.SetEnvironmentLogLevel(ortgo.LoggingLevelError) }()
	co, err := ortgo.NewCUDAProviderOptions()
	if err != nil {
		return oneLine(err)
	}
	defer co.Destroy()
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return oneLine(err)
	}
	return ""
}

func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func specOf(vi *onnxpb.ValueInfoProto) ioSpec {
	sp := ioSpec{name: vi.GetName(), dtype: "unknown", rank: -1}
	if tt := vi.GetType().GetTensorType(); tt != nil {
		sp.dtype = dtypeName(tt.GetElemType())
		if tt.GetShape() != nil {
			sp.rank = len(tt.GetShape().GetDim())
		}
	}
	return sp
}

func dtypeName(t int32) string {
	switch onnxpb.TensorProto_DataType(t) {
	case onnxpb.TensorProto_FLOAT:
		return "float32"
	case onnxpb.TensorProto_INT64:
		return "int64"
	}
	return strings.ToLower(onnxpb.TensorProto_DataType(t).String())
}

func names(specs []ioSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

// InputNames lists the model's inputs in graph order.
func (s *Session) InputNames() []string { return names(s.inputs) }

// OutputNames lists the model's outputs in graph order.
func (s *Session) OutputNames() []string { return names(s.outputs) }

// Provider is the execution provider the session runs on: "CPU" or "CUDA".
func (s *Session) Provider() string { return s.provider }

// FallbackReason says why a session that asked for CUDA runs on the CPU ("" otherwise).
func (s *Session) FallbackReason() string { return s.fallback }

// Run evaluates the model. inputs must hold exactly the model's inputs (float32 or int64
// tensors); the result holds every graph output.
func (s *Session) Run(inputs map[string]tensor.Tensor) (res map[string]tensor.Tensor, err error) {
	defer func() {
		// onnxruntime_go can panic on values it fails to build; callers get an error instead.
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("ort: run (inputs %s): %v", describe(inputs), r)
		}
	}()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("ort: Run on a closed session")
	}
	if err := s.checkInputs(inputs); err != nil {
		return nil, err
	}
	in := make([]ortgo.Value, len(s.inputs))
	defer func() {
		for _, v := range in {
			if v != nil {
				_ = v.Destroy()
			}
		}
	}()
	for i, sp := range s.inputs {
		v, err := toValue(inputs[sp.name])
		if err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", sp.name, err)
		}
		in[i] = v
	}
	out := make([]ortgo.Value, len(s.outputs))
	defer func() {
		for _, v := range out {
			if !isNil(v) {
				_ = v.Destroy()
			}
		}
	}()
	for i, sp := range s.outputs {
		// onnxruntime_go cannot allocate rank-0 outputs itself (its tensors need a dim): give it
		// a scalar for outputs declared with an empty shape.
		if sp.rank == 0 {
			v, err := emptyScalar(sp.dtype)
			if err != nil {
				return nil, fmt.Errorf("ort: output %q: %w", sp.name, err)
			}
			out[i] = v
		}
	}
	if err := s.sess.Run(in, out); err != nil {
		for i, v := range out {
			if isNil(v) && s.outputs[i].rank < 0 {
				err = fmt.Errorf("%w (output %q declares no shape; a rank-0 output needs a declared empty shape)", err, s.outputs[i].name)
			}
		}
		return nil, fmt.Errorf("ort: run (inputs %s): %w", describe(inputs), err)
	}
	res = make(map[string]tensor.Tensor, len(out))
	for i, v := range out {
		t, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", s.outputs[i].name, err)
		}
		res[s.outputs[i].name] = t
	}
	return res, nil
}

func (s *Session) checkInputs(inputs map[string]tensor.Tensor) error {
	var missing, unknown []string
	want := map[string]ioSpec{}
	for _, sp := range s.inputs {
		want[sp.name] = sp
		if _, ok := inputs[sp.name]; !ok {
			missing = append(missing, sp.name)
		}
	}
	for n := range inputs {
		if _, ok := want[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(missing) > 0 || len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("ort: wrong inputs: missing %q, unknown %q; the model takes %q",
			missing, unknown, names(s.inputs))
	}
	for _, sp := range s.inputs {
		t := inputs[sp.name]
		if err := t.Validate(); err != nil {
			return fmt.Errorf("ort: input %q: %w", sp.name, err)
		}
		if t.DType() != sp.dtype {
			return fmt.Errorf("ort: input %q is %s, the model wants %s", sp.name, t.DType(), sp.dtype)
		}
		if sp.rank >= 0 && len(t.Shape) != sp.rank {
			return fmt.Errorf("ort: input %q has shape %v (rank %d), the model wants rank %d",
				sp.name, t.Shape, len(t.Shape), sp.rank)
		}
	}
	return nil
}

func describe(inputs map[string]tensor.Tensor) string {
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s%v", k, inputs[k].DType(), inputs[k].Shape)
	}
	return strings.Join(parts, ", ")
}

func toValue(t tensor.Tensor) (ortgo.Value, error) {
	shape := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	if len(shape) == 0 { // onnxruntime_go models rank-0 values as Scalar
		if t.I64 != nil {
			return ortgo.NewScalar(t.I64[0])
		}
		return ortgo.NewScalar(t.F32[0])
	}
	if t.I64 != nil {
		return ortgo.NewTensor(ortgo.NewShape(shape...), t.I64)
	}
	return ortgo.NewTensor(ortgo.NewShape(shape...), t.F32)
}

func emptyScalar(dtype string) (ortgo.Value, error) {
	switch dtype {
	case "float32":
		return ortgo.NewEmptyScalar[float32]()
	case "int64":
		return ortgo.NewEmptyScalar[int64]()
	}
	return nil, fmt.Errorf("element type %s is not supported (only float32 and int64)", dtype)
}

// isNil catches the typed nil pointers onnxruntime_go leaves in outputs when it fails.
func isNil(v ortgo.Value) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func fromValue(v ortgo.Value) (tensor.Tensor, error) {
	dims := func(s ortgo.Shape) []int {
		out := make([]int, len(s))
		for i, d := range s {
			out[i] = int(d)
		}
		return out
	}
	switch x := v.(type) {
	case *ortgo.Tensor[float32]:
		return tensor.Tensor{Shape: dims(x.GetShape()), F32: append([]float32(nil), x.GetData()...)}, nil
	case *ortgo.Tensor[int64]:
		return tensor.Tensor{Shape: dims(x.GetShape()), I64: append([]int64(nil), x.GetData()...)}, nil
	case *ortgo.Scalar[float32]:
		return tensor.Tensor{Shape: []int{}, F32: []float32{x.GetData()}}, nil
	case *ortgo.Scalar[int64]:
		return tensor.Tensor{Shape: []int{}, I64: []int64{x.GetData()}}, nil
	}
	if isNil(v) {
		return tensor.Tensor{}, fmt.Errorf("onnxruntime returned no value")
	}
	return tensor.Tensor{}, fmt.Errorf("unsupported output type %T (only float32 and int64 tensors)", v)
}

// Close releases the session. It is safe to call more than once.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.sess != nil {
		_ = s.sess.Destroy()
	}
	s.closed = true
}
