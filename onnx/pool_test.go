package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// poolCase is one pooling node (symmetric pads, as torch's pooling functions take them).
type poolCase struct {
	Op      string `json:"op"` // "max" or "avg"
	X       []int  `json:"x"`
	K       []int  `json:"k"`
	S       []int  `json:"s"`
	P       []int  `json:"p"`
	D       []int  `json:"d"`
	Ceil    bool   `json:"ceil"`
	Include bool   `json:"include"`
}

var poolCases = []poolCase{
	{"max", []int{2, 3, 8, 8}, []int{3, 3}, []int{2, 2}, []int{1, 1}, []int{1, 1}, false, false}, // ResNet's stem pool
	{"max", []int{2, 2, 7, 9}, []int{2, 3}, []int{2, 1}, []int{1, 0}, []int{1, 1}, false, false}, // rectangular
	{"max", []int{1, 2, 7, 7}, []int{3, 3}, []int{2, 2}, []int{0, 0}, []int{1, 1}, true, false},  // ceil_mode
	{"max", []int{1, 2, 9, 9}, []int{3, 3}, []int{1, 1}, []int{1, 1}, []int{2, 2}, false, false}, // dilation
	{"max", []int{2, 2, 6, 6}, []int{2, 2}, []int{2, 2}, []int{0, 0}, []int{1, 1}, false, false}, // plain 2x2
	{"avg", []int{2, 3, 8, 8}, []int{3, 3}, []int{2, 2}, []int{1, 1}, []int{1, 1}, false, false}, // exclude pads
	{"avg", []int{2, 3, 8, 8}, []int{3, 3}, []int{2, 2}, []int{1, 1}, []int{1, 1}, false, true},  // include pads
	{"avg", []int{1, 2, 7, 7}, []int{3, 3}, []int{2, 2}, []int{1, 1}, []int{1, 1}, true, true},   // ceil, include
	{"avg", []int{1, 2, 7, 6}, []int{2, 2}, []int{2, 2}, []int{0, 0}, []int{1, 1}, true, false},  // ceil, exclude
	{"avg", []int{2, 4, 4, 4}, []int{4, 4}, []int{1, 1}, []int{0, 0}, []int{1, 1}, false, false}, // global-sized
}

// poolModel is y = pool(x), z = y * r: the gradient of sum(z) with respect to x is the
// vector-Jacobian product with r that PyTorch's reference computes.
func poolModel(t *testing.T, c poolCase, yShape []int) *Builder {
	b := NewBuilder("pool")
	b.Input("x", "float32", c.X[0], c.X[1], c.X[2], c.X[3])
	b.Input("r", "float32", yShape[0], yShape[1], yShape[2], yShape[3])
	attrs := []*onnxpb.AttributeProto{AttrInts("kernel_shape", i64s(c.K)), AttrInts("strides", i64s(c.S)),
		AttrInts("pads", i64s([]int{c.P[0], c.P[1], c.P[0], c.P[1]}))}
	op := "AveragePool"
	if c.Op == "max" {
		op = "MaxPool"
		attrs = append(attrs, AttrInts("dilations", i64s(c.D)))
	} else if c.Include {
		attrs = append(attrs, AttrInt("count_include_pad", 1))
	}
	if c.Ceil {
		attrs = append(attrs, AttrInt("ceil_mode", 1))
	}
	b.Node(op, []string{"x"}, []string{"y"}, attrs...)
	b.Node("Mul", []string{"y", "r"}, []string{"z"})
	b.Output("y", "float32", yShape[0], yShape[1], yShape[2], yShape[3])
	b.Output("z", "float32", yShape[0], yShape[1], yShape[2], yShape[3])
	return b
}

func i64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// TestPoolLoweringMatchesPyTorch: MaxPool and AveragePool as ForImport lowers them (strided
// slices and Max/Add) give torch's outputs and input gradients (ties routed to the first
// maximum, as torch does; count_include_pad both ways; ceil_mode; dilation), and onnxruntime
// gives the same outputs from the unlowered node.
func TestPoolLoweringMatchesPyTorch(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with python3-torch (scripts/install-deps.sh)")
	}
	dir := t.TempDir()
	cfg, _ := json.Marshal(poolCases)
	if err := os.WriteFile(filepath.Join(dir, "cfg.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("/usr/bin/python3", "testdata/pool_torch.py", filepath.Join(dir, "cfg.json"), filepath.Join(dir, "out.json")).CombinedOutput(); err != nil {
		t.Fatalf("testdata/pool_torch.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []struct {
		X, R, Y, DX []float32
		YShape      []int `json:"y_shape"`
	}
	if err := json.Unmarshal(raw, &refs); err != nil {
		t.Fatal(err)
	}
	for i, c := range poolCases {
		t.Run(fmt.Sprintf("%s k%v s%v p%v d%v ceil=%v include=%v", c.Op, c.K, c.S, c.P, c.D, c.Ceil, c.Include), func(t *testing.T) {
			ref := refs[i]
			m := mustModel(t, poolModel(t, c, ref.YShape))
			in := map[string]tensor.Tensor{"x": tensor.F32s(ref.X, c.X...), "r": tensor.F32s(ref.R, ref.YShape...)}
			low, _, err := ForImport(m, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ops := opsOf(low); ops["MaxPool"]+ops["AveragePool"] != 0 {
				t.Fatalf("pooling not lowered: %v", ops)
			}
			got, err := evalGoMLX(t, low, in, []string{"z", "x"})
			if err != nil {
				t.Fatal(err)
			}
			want := tensor.F32s(ref.Y, ref.YShape...)
			assertClose(t, "GoMLX y vs torch", got["y"], want, 1e-6)
			assertClose(t, "GoMLX dx vs torch", got["grad"], tensor.F32s(ref.DX, c.X...), 1e-6)
			assertClose(t, "onnxruntime y vs torch", runORT(t, m, in)["y"], want, 1e-6)
		})
	}
}
