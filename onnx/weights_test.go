package onnx

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

func TestTensorOf(t *testing.T) {
	f32 := int32(onnxpb.TensorProto_FLOAT)
	i64 := int32(onnxpb.TensorProto_INT64)
	cases := []struct {
		name string
		tp   *onnxpb.TensorProto
		want tensor.Tensor
		err  string
	}{
		{"float typed", &onnxpb.TensorProto{Name: proto.String("w"), DataType: &f32, Dims: []int64{2, 2}, FloatData: []float32{1, -2, 3.5, 0}},
			tensor.F32s([]float32{1, -2, 3.5, 0}, 2, 2), ""},
		{"float raw", &onnxpb.TensorProto{Name: proto.String("w"), DataType: &f32, Dims: []int64{3}, RawData: []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0x60, 0x40}},
			tensor.F32s([]float32{1, -2, 3.5}, 3), ""},
		{"int64 typed", &onnxpb.TensorProto{Name: proto.String("s"), DataType: &i64, Dims: []int64{2}, Int64Data: []int64{-1, 784}},
			tensor.I64s([]int64{-1, 784}, 2), ""},
		{"int64 raw scalar", &onnxpb.TensorProto{Name: proto.String("s"), DataType: &i64, RawData: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
			tensor.I64s([]int64{-1}), ""},
		{"double", &onnxpb.TensorProto{Name: proto.String("d"), DataType: proto.Int32(int32(onnxpb.TensorProto_DOUBLE)), DoubleData: []float64{1}},
			tensor.Tensor{}, `tensor "d" has element type DOUBLE; only FLOAT (float32) and INT64 are supported`},
		{"short raw", &onnxpb.TensorProto{Name: proto.String("w"), DataType: &f32, Dims: []int64{2}, RawData: []byte{1, 2, 3}},
			tensor.Tensor{}, `tensor "w": raw_data holds 3 bytes, shape [2] needs 8`},
		{"external", &onnxpb.TensorProto{Name: proto.String("big"), DataType: &f32, DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()},
			tensor.Tensor{}, `tensor "big" keeps its data in an external file`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := TensorOf(c.tp)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) || got.DType() != c.want.DType() {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSetTensorRoundTrip(t *testing.T) {
	tp := &onnxpb.TensorProto{Name: proto.String("w"), FloatData: []float32{9, 9}, Dims: []int64{2}}
	want := tensor.F32s([]float32{0.25, -1e-30, 3e38, 7}, 2, 2)
	SetTensor(tp, want)
	if tp.FloatData != nil || tp.GetName() != "w" || len(tp.RawData) != 16 {
		t.Fatalf("SetTensor left %v", tp)
	}
	got, err := TensorOf(tp)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("round trip: %v %v", got, err)
	}
	SetTensor(tp, tensor.I64s([]int64{1 << 40, -3}, 2))
	got, err = TensorOf(tp)
	if err != nil || got.I64[0] != 1<<40 || got.I64[1] != -3 {
		t.Fatalf("int64 round trip: %v %v", got, err)
	}
}

func TestWriteBackChangesORTOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	w := newMLPWeights(r, 6, 4, 3)
	m := buildMLP(t, w)
	x := randF32(r, 1, 5, 6)
	before := runORT(t, m, map[string]tensor.Tensor{"X": x})["logits"]
	assertClose(t, "before", before, w.forward(x), 1e-5)

	w2 := w
	w2.w1 = randF32(r, 0.5, 6, 4)
	w2.b2 = randF32(r, 0.5, 3)
	if err := WriteBack(m, map[string]tensor.Tensor{"W1": w2.w1, "b2": w2.b2}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	after := runORT(t, m2, map[string]tensor.Tensor{"X": x})["logits"]
	assertClose(t, "after", after, w2.forward(x), 1e-5)
	if d := after.F32[0] - before.F32[0]; d == 0 {
		t.Fatal("write-back did not change the output")
	}
	got, _ := TensorOf(Initializers(m2)["W1"])
	assertClose(t, "W1", got, w2.w1, 0)
}

func TestWriteBackErrors(t *testing.T) {
	m := buildMLP(t, newMLPWeights(rand.New(rand.NewPCG(13, 14)), 3, 2, 2))
	orig := proto.Clone(m)
	cases := []struct {
		name   string
		values map[string]tensor.Tensor
		want   string
	}{
		{"unknown", map[string]tensor.Tensor{"W9": tensor.F32s([]float32{1}, 1)},
			`"W9" is not an initializer of model "mlp" (it has "W1", "W2", "b1", "b2")`},
		{"shape", map[string]tensor.Tensor{"W1": tensor.F32s(make([]float32, 6), 2, 3)},
			`write-back "W1": value has shape [2 3], the initializer has [3 2]`},
		{"dtype", map[string]tensor.Tensor{"b1": tensor.I64s([]int64{1, 2}, 2)},
			`write-back "b1": value is int64, the initializer is float32`},
		{"invalid", map[string]tensor.Tensor{"b1": tensor.F32s([]float32{1}, 2)},
			`write-back "b1": tensor: shape [2] holds 2 elements, data has 1`},
		{"partial", map[string]tensor.Tensor{"W1": tensor.F32s(make([]float32, 6), 3, 2), "zz": tensor.F32s([]float32{1}, 1)},
			`"zz" is not an initializer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := WriteBack(m, c.values)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if !proto.Equal(m, orig) {
				t.Fatal("a failed write-back changed the model")
			}
		})
	}
}
