package models_test

import (
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
)

// fobResNet18 is classification_small's network: ResNet-18, 100 classes, 3×3 stride-1 stem
// drawn as FOB's replaced torch conv, no max-pool.
func fobResNet18(size int) models.ResNet {
	m := models.ResNet18(100)
	m.StemKernel, m.StemStride, m.StemPadding, m.StemInit, m.MaxPool = 3, 1, 1, models.StemTorchDefault, false
	m.ImageSize, m.Input, m.Output = size, "image", "logits"
	return m
}

// fobWRN is classification's network: Wide ResNet-50-2, 1000 classes, 3×3 stride-1 stem, max-pool.
func fobWRN(size int) models.ResNet {
	m := models.WideResNet50x2(1000)
	m.StemKernel, m.StemStride, m.StemPadding, m.StemInit = 3, 1, 1, models.StemTorchDefault
	m.ZeroInitLast = true
	m.ImageSize, m.Input, m.Output = size, "image", "logits"
	return m
}

// trainableCount is the number of float values outside BatchNorm running statistics.
func trainableCount(m *onnxpb.ModelProto) int { return int(onnx.ParameterCount(m)) }

// TestResNetParameterCount checks the two FOB configurations against the parameter counts of
// torchvision's models (resnet18 with the CIFAR stem and 100 classes: 11,689,512 − 7·7·3·64 +
// 3·3·3·64 − 513,000 + 51,300; wide_resnet50_2 with the 3×3 stem: 68,883,240 − 9,408 + 1,728).
// TestResNetMatchesTorchvision checks the same counts in torchvision itself.
func TestResNetParameterCount(t *testing.T) {
	for _, c := range []struct {
		name string
		m    models.ResNet
		want int
	}{
		{"resnet18_cifar", fobResNet18(32), 11_220_132},
		{"wide_resnet50_2_stem3", fobWRN(64), 68_875_560},
		{"resnet18_imagenet", func() models.ResNet {
			m := models.ResNet18(1000)
			m.Input, m.Output = "x", "y"
			return m
		}(), 11_689_512},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.m.Build(c.name, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := trainableCount(p); got != c.want {
				t.Errorf("%d parameters, want %d", got, c.want)
			}
		})
	}
}

// TestResNetInit checks the initial weights' distributions: kaiming_normal (fan_out) convs,
// U(±1/√fan_in) for FOB's replaced stem and the classifier, BatchNorm 1/0 with zero-init-last
// where asked, running statistics 0/1; and that the same seed gives the same weights.
func TestResNetInit(t *testing.T) {
	p, err := fobWRN(0).Build("wrn", 7)
	if err != nil {
		t.Fatal(err)
	}
	inits := onnx.Initializers(p)
	get := func(name string) tensor.Tensor {
		tp, ok := inits[name]
		if !ok {
			t.Fatalf("no initializer %q", name)
		}
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	moments := func(v []float32) (mean, std, maxAbs float64) {
		for _, x := range v {
			mean += float64(x)
			maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
		}
		mean /= float64(len(v))
		for _, x := range v {
			std += (float64(x) - mean) * (float64(x) - mean)
		}
		return mean, math.Sqrt(std / float64(len(v))), maxAbs
	}
	normal := []struct {
		name   string
		fanOut int
	}{
		{"layer1.0.conv2.weight", 128 * 9},
		{"layer3.2.conv3.weight", 1024},
		{"layer4.0.downsample.0.weight", 2048},
	}
	for _, c := range normal {
		_, std, _ := moments(get(c.name).F32)
		if want := math.Sqrt(2 / float64(c.fanOut)); math.Abs(std-want) > 0.03*want {
			t.Errorf("%s: std %.5g, want kaiming fan_out %.5g", c.name, std, want)
		}
	}
	uniform := []struct {
		name  string
		fanIn int
	}{{"conv1.weight", 27}, {"fc.weight", 2048}, {"fc.bias", 2048}}
	for _, c := range uniform {
		_, std, maxAbs := moments(get(c.name).F32)
		bound := 1 / math.Sqrt(float64(c.fanIn))
		if maxAbs > bound || math.Abs(std-bound/math.Sqrt(3)) > 0.1*bound/math.Sqrt(3) {
			t.Errorf("%s: max |w| %.4g, std %.4g; want U(±%.4g) (std %.4g)", c.name, maxAbs, std, bound, bound/math.Sqrt(3))
		}
	}
	consts := []struct {
		name string
		want float32
	}{
		{"bn1.weight", 1}, {"bn1.bias", 0}, {"layer2.1.bn1.weight", 1}, {"layer2.1.bn3.weight", 0},
		{"layer2.0.downsample.1.weight", 1}, {"layer2.1.bn3.running_mean", 0}, {"layer2.1.bn3.running_var", 1},
	}
	for _, c := range consts {
		for i, v := range get(c.name).F32 {
			if v != c.want {
				t.Fatalf("%s[%d] = %g, want %g", c.name, i, v, c.want)
			}
		}
	}
	again, err := fobWRN(0).Build("wrn", 7)
	if err != nil {
		t.Fatal(err)
	}
	other, err := fobWRN(0).Build("wrn", 8)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := onnx.TensorOf(onnx.Initializers(again)["layer3.0.conv2.weight"])
	o, _ := onnx.TensorOf(onnx.Initializers(other)["layer3.0.conv2.weight"])
	if d := maxAbsDiff(t, "same seed", a.F32, get("layer3.0.conv2.weight").F32); d != 0 {
		t.Errorf("same seed, weights differ by %g", d)
	}
	if d := maxAbsDiff(t, "other seed", o.F32, a.F32); d == 0 {
		t.Error("seeds 7 and 8 gave identical weights")
	}
}

// TestResNetBadConfig: every invalid field is reported, naming the value.
func TestResNetBadConfig(t *testing.T) {
	for _, c := range []struct {
		edit func(*models.ResNet)
		want string
	}{
		{func(m *models.ResNet) { m.Block = "dense" }, `block "dense"`},
		{func(m *models.ResNet) { m.Layers[2] = 0 }, "stage 3 has 0 blocks"},
		{func(m *models.ResNet) { m.Classes = 0 }, "class count"},
		{func(m *models.ResNet) { m.StemChannels = 32 }, "stem channels 32"},
		{func(m *models.ResNet) { m.StemStride = 0 }, "stride 0"},
		{func(m *models.ResNet) { m.StemPadding = 3 }, "padding 3"},
		{func(m *models.ResNet) { m.BaseWidth = 128 }, "base width 64"},
		{func(m *models.ResNet) { m.StemInit = "xavier" }, `stem init "xavier"`},
		{func(m *models.ResNet) { m.Input = "" }, "Input and Output"},
	} {
		m := fobResNet18(32)
		c.edit(&m)
		_, err := m.Build("bad", 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

// TestResNetMatchesTorchvision runs testdata/resnet_torch_ref.py on fob's ResNet-18 (CIFAR) and
// Wide ResNet-50-2 (3×3 stem, max-pool; at batch 2 and 16×16 pixels to stay quick) graphs: it
// checks onnx.checker, the initializer names and shapes against torchvision's state_dict and
// the parameter count, then copies the weights (BatchNorm perturbed) into torchvision, whose
// eval-mode logits onnxruntime and GoMLX must reproduce.
func TestResNetMatchesTorchvision(t *testing.T) {
	if out, err := exec.Command(torchPython, "-c", "import torch, torchvision, onnx").CombinedOutput(); err != nil {
		t.Fatalf("the torchvision reference needs %s with torch, torchvision and onnx: apt-get install python3-torch python3-torchvision python3-onnx: %v\n%s",
			torchPython, err, out)
	}
	for _, c := range []struct {
		config      string
		m           models.ResNet
		batch, size int
		params      int
	}{
		{"resnet18_cifar", fobResNet18(0), 3, 32, 11_220_132},
		{"wide_resnet50_2_stem3", fobWRN(0), 2, 16, 68_875_560},
	} {
		t.Run(c.config, func(t *testing.T) {
			if testing.Short() && c.config != "resnet18_cifar" {
				t.Skip("-short: Wide ResNet-50-2 takes a minute")
			}
			p, err := c.m.Build(c.config, 5)
			if err != nil {
				t.Fatal(err)
			}
			ref, m, scale := torchReference(t, p, "resnet_torch_ref.py", func(src, dst, refPath string) []string {
				return []string{c.config, src, dst, refPath, fmt.Sprint(c.batch), fmt.Sprint(c.size)}
			})
			if ref.ParamCount != c.params || trainableCount(p) != c.params {
				t.Errorf("torchvision counts %d parameters, fob %d; want %d", ref.ParamCount, trainableCount(p), c.params)
			}
			in := map[string]tensor.Tensor{"image": tensor.F32s(ref.X, ref.XShape...)}
			const tol = 1e-4
			ortOut := runORT(t, m, in, "logits")
			if fmt.Sprint(ortOut.Shape) != fmt.Sprint(ref.LogitsShape) {
				t.Fatalf("onnxruntime logits shape %v, torchvision %v", ortOut.Shape, ref.LogitsShape)
			}
			if d := maxAbsDiff(t, "onnxruntime vs torchvision", ortOut.F32, ref.Logits); d > tol {
				t.Errorf("onnxruntime differs from torchvision by %g (max |logit| %.3g, tolerance %.3g)", d, scale, tol)
			} else {
				t.Logf("max |onnxruntime - torchvision| = %.3g (max |logit| %.3g)", d, scale)
			}
			goOut := runGoMLX(t, m, in, "logits")
			if d := maxAbsDiff(t, "GoMLX vs torchvision", goOut.F32, ref.Logits); d > tol {
				t.Errorf("GoMLX differs from torchvision by %g (max |logit| %.3g, tolerance %.3g)", d, scale, tol)
			} else {
				t.Logf("max |GoMLX - torchvision| = %.3g", d)
			}
		})
	}
}
