package models_test

import (
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/runtime/tensor"
)

// segformerB0Params is SegformerForSemanticSegmentation(nvidia/mit-b0, 150 labels)'s parameter
// count (3,319,392 in the MiT-b0 encoder + 433,302 in the decode head; BatchNorm running
// statistics excluded), which TestSegFormerMatchesTorch checks against the PyTorch module.
const segformerB0Params = 3_752_694

// TestSegFormerParameterCount: FOB's configuration (150 classes, 512×512) has SegFormer-B0's
// parameter count, and the input size does not change it.
func TestSegFormerParameterCount(t *testing.T) {
	for _, size := range []int{512, 64} {
		p, err := models.SegFormerB0(150, size).Build("segformer", 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := trainableCount(p); got != segformerB0Params {
			t.Errorf("size %d: %d parameters, want %d", size, got, segformerB0Params)
		}
	}
}

// TestSegFormerMatchesTorch runs testdata/segformer_torch_ref.py on fob's SegFormer-B0 graphs
// (batch 2; 64×64 where every stage size divides, 72×72 where the decode head's upsampling
// ratios are not integers): onnx.checker, HF's state_dict names and shapes and the parameter
// count are checked there; then onnxruntime and GoMLX must reproduce PyTorch's eval-mode logits
// from the same (perturbed) weights.
func TestSegFormerMatchesTorch(t *testing.T) {
	if out, err := exec.Command(torchPython, "-c", "import torch, onnx").CombinedOutput(); err != nil {
		t.Fatalf("the PyTorch reference needs %s with torch and onnx: apt-get install python3-torch python3-onnx: %v\n%s",
			torchPython, err, out)
	}
	for _, size := range []int{64, 72} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			p, err := models.SegFormerB0(150, size).Build("segformer", 3)
			if err != nil {
				t.Fatal(err)
			}
			ref, m, scale := torchReference(t, p, "segformer_torch_ref.py", func(src, dst, refPath string) []string {
				return []string{src, dst, refPath, "2", fmt.Sprint(size), "150"}
			})
			if ref.ParamCount != segformerB0Params || trainableCount(p) != segformerB0Params {
				t.Errorf("PyTorch counts %d parameters, fob %d; want %d", ref.ParamCount, trainableCount(p), segformerB0Params)
			}
			in := map[string]tensor.Tensor{"pixel_values": tensor.F32s(ref.X, ref.XShape...)}
			const tol = 1e-4
			for name, run := range map[string]func() tensor.Tensor{
				"onnxruntime": func() tensor.Tensor { return runORT(t, m, in, "logits") },
				"GoMLX":       func() tensor.Tensor { return runGoMLX(t, m, in, "logits") },
			} {
				got := run()
				if fmt.Sprint(got.Shape) != fmt.Sprint(ref.LogitsShape) {
					t.Fatalf("%s logits shape %v, PyTorch %v", name, got.Shape, ref.LogitsShape)
				}
				if d := maxAbsDiff(t, name, got.F32, ref.Logits); d > tol*math.Max(1, scale) {
					t.Errorf("%s logits differ from PyTorch by %.3g (max |logit| %.3g, tolerance %g)", name, d, scale, tol)
				} else {
					t.Logf("%s vs PyTorch: max |diff| %.3g (max |logit| %.3g)", name, d, scale)
				}
			}
		})
	}
}

// TestSegFormerBadConfig: invalid configurations are errors naming the problem.
func TestSegFormerBadConfig(t *testing.T) {
	for _, c := range []struct {
		edit func(*models.SegFormer)
		want string
	}{
		{func(m *models.SegFormer) { m.Heads[2] = 3 }, "multiple of its 3 heads"},
		{func(m *models.SegFormer) { m.Depths[0] = 0 }, "stage 1 has 0 blocks"},
		{func(m *models.SegFormer) { m.Classes = 0 }, "class count 0"},
		{func(m *models.SegFormer) { m.Height, m.Width = 16, 16 }, "image size 16x16 is too small"},
		{func(m *models.SegFormer) { m.DropPath = 1 }, "drop path 1"},
		{func(m *models.SegFormer) { m.Output = "" }, "Input and Output"},
	} {
		m := models.SegFormerB0(150, 64)
		c.edit(&m)
		if _, err := m.Build("bad", 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}
