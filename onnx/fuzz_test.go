package onnx

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// fuzzConformanceSeeds are node tests whose models seed FuzzImport when libonnx-testdata is
// installed: ops with attributes, subgraphs, constant inputs and the rewrites of ForImport.
var fuzzConformanceSeeds = []string{
	"test_slice_neg_steps", "test_gather_negative_indices", "test_scatter_elements_with_axis",
	"test_if", "test_lstm_defaults", "test_layer_normalization_4d_axis1", "test_conv_with_strides_padding",
	"test_reshape_negative_dim", "test_dropout_default_ratio", "test_globalaveragepool",
	"test_logsoftmax_axis_1", "test_gemm_all_attributes", "test_shape_clip_start", "test_cumsum_1d_exclusive",
}

// FuzzImport feeds arbitrary bytes through what fob does with a model file before training:
// Parse, Validate and ForImport (both dropout modes). The same bytes also drive graphFromBytes,
// which builds a well-formed protobuf of random ops, inputs and attributes, so that the fuzzer
// reaches the shape inference and the rewrites, not only the protobuf decoder. Nothing may
// panic or hang; the panic safety nets of ForImport and Validate are off, so a panic is a
// finding, not an error.
//
//	go test ./onnx -run '^$' -fuzz FuzzImport -fuzztime 60s
func FuzzImport(f *testing.F) {
	r := rand.New(rand.NewPCG(91, 92))
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, s := range fuzzConformanceSeeds {
		files = append(files, filepath.Join(conformanceDir, s, "model.onnx"))
	}
	for _, path := range files {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	for _, build := range []func() *Builder{
		func() *Builder { // an MLP with dropout
			b := NewBuilder("mlp")
			b.Input("X", "float32", "batch", 4)
			b.Initializer("W", randF32(r, 1, 4, 3))
			b.Node("MatMul", []string{"X", "W"}, []string{"h"})
			b.Node("Dropout", []string{"h"}, []string{"d"}, AttrFloat("ratio", 0.1))
			b.Node("LogSoftmax", []string{"d"}, []string{"Y"})
			b.Output("Y", "float32", "batch", 3)
			return b
		},
		func() *Builder { // a CNN with pooling and a reshape
			b := NewBuilder("cnn")
			b.Input("X", "float32", "N", 1, 6, 6)
			b.Initializer("K", randF32(r, 1, 2, 1, 3, 3))
			b.Initializer("shape", tensor.I64s([]int64{0, -1}, 2))
			b.Node("Conv", []string{"X", "K"}, []string{"c"}, AttrInts("pads", []int64{1, 1, 1, 1}))
			b.Node("MaxPool", []string{"c"}, []string{"p"}, AttrInts("kernel_shape", []int64{2, 2}), AttrInts("strides", []int64{2, 2}))
			b.Node("GlobalAveragePool", []string{"p"}, []string{"g"})
			b.Node("Reshape", []string{"g", "shape"}, []string{"Y"})
			b.Output("Y", "float32", "N", 2)
			return b
		},
	} {
		m, err := build().Model()
		if err != nil {
			f.Fatal(err)
		}
		b, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for i := range 8 {
		f.Add(randomBytes(rand.New(rand.NewPCG(uint64(i), 93)), 64))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		panicsAreFindings.Store(true)
		defer panicsAreFindings.Store(false)
		if m, err := Parse(data); err == nil {
			importChecked(t, m)
		}
		importChecked(t, graphFromBytes(data))
	})
}

// importChecked runs Validate and, on a valid model, ForImport in both dropout modes; a lowered
// model must serialize.
func importChecked(t *testing.T, m *onnxpb.ModelProto) {
	t.Helper()
	if err := Validate(m); err != nil {
		return
	}
	for _, mode := range []DropoutMode{DropoutRemove, DropoutMasks} {
		if low, _, err := ForImport(m, ImportOptions{Dropout: mode}); err == nil {
			if _, err := Marshal(low); err != nil {
				t.Fatalf("the lowered model does not serialize: %v", err)
			}
		}
	}
}

// TestRandomGraphs runs graphFromBytes models through Validate and ForImport in the normal
// test run, with the panic safety nets off: the fixed-seed counterpart of FuzzImport (it found
// out-of-range axes and perms in the shape inference, and a 2^40-element shape tensor).
func TestRandomGraphs(t *testing.T) {
	panicsAreFindings.Store(true)
	defer panicsAreFindings.Store(false)
	r := rand.New(rand.NewPCG(101, 102))
	for i := range 4000 {
		data := randomBytes(r, 96)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("graph %d panicked: %v\n%s", i, p, describe(graphFromBytes(data)))
				}
			}()
			importChecked(t, graphFromBytes(data))
		}()
	}
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func describe(m *onnxpb.ModelProto) string {
	var lines []string
	for _, vi := range m.GetGraph().GetInput() {
		lines = append(lines, fmt.Sprintf("input %s %v", vi.GetName(), shapeOfValueInfo(vi)))
	}
	for _, n := range m.GetGraph().GetNode() {
		lines = append(lines, fmt.Sprintf("%s %v -> %v %v", n.GetOpType(), n.GetInput(), n.GetOutput(), n.GetAttribute()))
	}
	return strings.Join(lines, "\n")
}

// byteSource hands out the fuzzer's bytes as small choices; past the end it gives zeros.
type byteSource struct {
	data []byte
	pos  int
}

func (s *byteSource) next() int {
	if s.pos >= len(s.data) {
		return 0
	}
	s.pos++
	return int(s.data[s.pos-1])
}

func (s *byteSource) choose(n int) int { return s.next() % n }

// interesting are integer values for dims, attributes and constants: small ones and the
// extremes a corrupt file may hold.
var interesting = []int64{0, 1, 2, 3, -1, -2, -3, 4, 5, 1 << 40, -1 << 62, 1<<63 - 1}

func (s *byteSource) integer() int64 { return interesting[s.choose(len(interesting))] }

// fuzzOps are the ops graphFromBytes draws from: those fob's shape inference or lowering
// handles, and a few it does not.
var fuzzOps = strings.Fields(`Relu Add MatMul Gemm Flatten Transpose Reshape Conv MaxPool AveragePool
	GlobalAveragePool Concat Gather GatherElements Unsqueeze Squeeze ReduceMean ReduceSum Shape
	ConstantOfShape Expand ScatterND ScatterElements Slice Softmax LogSoftmax Dropout Identity Clip
	CumSum LSTM LayerNormalization Sigmoid Gelu Split Tile Where Cast Constant BatchNormalization`)

var fuzzAttrs = strings.Fields(`axis axes perm kernel_shape strides pads dilations start end keepdims
	exclusive reverse transA transB alpha beta hidden_size direction epsilon to group
	noop_with_empty_axes ratio reduction approximate auto_pad ceil_mode count_include_pad
	training_mode allowzero storage_order`)

// graphFromBytes builds a small graph that the builder accepts (names defined before use) from
// the choices in data: the rank and dims of the input, int64 constants and initializers, then a
// few nodes of random ops with random inputs (or omitted ones) and attributes, and an output
// with a random declared shape.
func graphFromBytes(data []byte) *onnxpb.ModelProto {
	s := &byteSource{data: data}
	b := NewBuilder("fuzz")
	var dims []any
	for range s.choose(5) {
		switch s.choose(4) {
		case 0:
			dims = append(dims, "n")
		default:
			if d := s.integer(); d >= 0 {
				dims = append(dims, d)
			} else {
				dims = append(dims, 2)
			}
		}
	}
	b.Input("X", "float32", dims...)
	b.Input("I", "int64", 1+s.choose(3))
	names := []string{"X", "I"}
	for k := range s.choose(5) {
		name := fmt.Sprintf("c%d", k)
		vals := make([]int64, s.choose(5))
		for i := range vals {
			vals[i] = s.integer()
		}
		if s.choose(2) == 0 {
			b.Initializer(name, tensor.I64s(vals, len(vals)))
		} else {
			b.Node("Constant", nil, []string{name}, AttrTensor("value", tensor.I64s(vals, len(vals))))
		}
		names = append(names, name)
	}
	last := "X"
	for k := range 1 + s.choose(4) {
		var ins []string
		for range s.choose(6) {
			if s.choose(6) == 0 {
				ins = append(ins, "")
			} else {
				ins = append(ins, names[s.choose(len(names))])
			}
		}
		var attrs []*onnxpb.AttributeProto
		for range s.choose(5) {
			name := fuzzAttrs[s.choose(len(fuzzAttrs))]
			switch s.choose(4) {
			case 0:
				attrs = append(attrs, AttrInt(name, s.integer()))
			case 1:
				v := make([]int64, s.choose(6))
				for j := range v {
					v[j] = s.integer()
				}
				attrs = append(attrs, AttrInts(name, v))
			case 2:
				attrs = append(attrs, AttrFloat(name, float32(s.integer())/3))
			default:
				modes := []string{"SAME_UPPER", "VALID", "NOTSET", "none", "tanh", "add", "mul", "bidirectional", ""}
				attrs = append(attrs, AttrString(name, modes[s.choose(len(modes))]))
			}
		}
		outs := []string{fmt.Sprintf("o%d", k)}
		if s.choose(4) == 0 {
			outs = append([]string{""}, outs...) // an omitted first output
		}
		b.Node(fuzzOps[s.choose(len(fuzzOps))], ins, outs, attrs...)
		names = append(names, outs...)
		last = outs[len(outs)-1]
	}
	var odims []any
	for range s.choose(4) {
		odims = append(odims, s.choose(4))
	}
	b.Output(last, "float32", odims...)
	m, err := b.Model()
	if err != nil {
		// The choices broke a builder rule (e.g. a repeated name): fall back to a bare graph.
		b := NewBuilder("fuzz")
		b.Input("X", "float32", 2)
		b.Node("Relu", []string{"X"}, []string{"Y"})
		b.Output("Y", "float32", 2)
		m, _ = b.Model()
	}
	if s.choose(3) == 0 {
		m.Graph.Output[0].Type.GetTensorType().Shape = nil
	}
	m.OpsetImport[0].Version = proto.Int64([]int64{6, 9, 11, 13, 17, 18, 21}[s.choose(7)])
	return m
}
