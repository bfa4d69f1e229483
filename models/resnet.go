package models

import (
	"fmt"
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
)

// ResNet block kinds.
const (
	// BasicBlock is two 3×3 convolutions (ResNet-18/34), expansion 1.
	BasicBlock = "basic"
	// Bottleneck is 1×1 → 3×3 (stride here, torchvision's "ResNet v1.5") → 1×1, expansion 4.
	Bottleneck = "bottleneck"
)

// Stem initialisations.
const (
	// StemKaiming draws the stem kernel as every other conv: kaiming_normal, fan_out, relu.
	StemKaiming = "kaiming"
	// StemTorchDefault draws it as a freshly constructed torch.nn.Conv2d (kaiming_uniform with
	// a=√5, i.e. U(±1/√fan_in)): FOB replaces the stem after building the model, so its stem
	// never sees the model's own initialisation.
	StemTorchDefault = "torch_default"
)

// ResNet describes a torchvision/timm ResNet (He et al.) as an ONNX graph in inference form:
// Conv → BatchNormalization (running statistics as initializers, training_mode 0) → Relu,
// residual Add, optional stem MaxPool, GlobalAveragePool, Flatten and a Gemm classifier.
//
// Parameters carry torchvision's state_dict names (conv1.weight, bn1.weight, bn1.bias,
// bn1.running_mean, bn1.running_var, layer1.0.conv1.weight, layer2.0.downsample.0.weight,
// layer2.0.downsample.1.*, fc.weight, fc.bias; num_batches_tracked has no ONNX counterpart),
// so weights can be copied between the two by name and the default parameter groups exempt
// the BatchNorm parameters and biases from weight decay as FOB does.
//
// Initialisation is torchvision's: convs kaiming_normal (fan_out, relu), BatchNorm weight 1 and
// bias 0 (running mean 0, variance 1), the classifier as torch.nn.Linear's default; with
// ZeroInitLast the last BatchNorm of every block starts at weight 0 (timm's zero_init_last,
// torchvision's zero_init_residual). Everything is drawn from one seeded stream, in module order.
type ResNet struct {
	// Block is BasicBlock or Bottleneck.
	Block string
	// Layers are the block counts of the four stages: {2, 2, 2, 2} for ResNet-18.
	Layers [4]int
	// BaseWidth is the bottleneck width per group: 64 for ResNet-50, 128 for Wide ResNet-50-2
	// (BasicBlock requires 64).
	BaseWidth int
	// Classes is the classifier's output size.
	Classes int
	// StemChannels, StemKernel, StemStride and StemPadding describe the stem conv (bias-free):
	// 64, 7, 2, 3 for ImageNet; FOB's small-image stems use 64, 3, 1, 1.
	StemChannels, StemKernel, StemStride, StemPadding int
	// StemInit is StemKaiming or StemTorchDefault.
	StemInit string
	// MaxPool keeps the stem's 3×3 stride-2 max-pool (false: identity, as FOB's maxpool: false).
	MaxPool bool
	// ZeroInitLast zeroes the weight of each block's last BatchNorm.
	ZeroInitLast bool
	// ImageSize fixes the input's height and width; 0 leaves them symbolic ("height", "width").
	ImageSize int
	// Input names the image input float32[batch, 3, H, W]; Output the logits [batch, Classes].
	Input, Output string
}

// ResNet18 is torchvision's resnet18 with classes outputs and an ImageNet stem (7×7, stride 2,
// max-pool); FOB's tasks adjust the stem fields.
func ResNet18(classes int) ResNet {
	return ResNet{Block: BasicBlock, Layers: [4]int{2, 2, 2, 2}, BaseWidth: 64, Classes: classes,
		StemChannels: 64, StemKernel: 7, StemStride: 2, StemPadding: 3, StemInit: StemKaiming, MaxPool: true}
}

// WideResNet50x2 is torchvision's (and timm's) wide_resnet50_2 with classes outputs and an
// ImageNet stem.
func WideResNet50x2(classes int) ResNet {
	return ResNet{Block: Bottleneck, Layers: [4]int{3, 4, 6, 3}, BaseWidth: 128, Classes: classes,
		StemChannels: 64, StemKernel: 7, StemStride: 2, StemPadding: 3, StemInit: StemKaiming, MaxPool: true}
}

func (m ResNet) validate() error {
	switch m.Block {
	case BasicBlock:
		if m.BaseWidth != 64 {
			return fmt.Errorf("models: ResNet BasicBlock only supports base width 64, got %d", m.BaseWidth)
		}
	case Bottleneck:
		if m.BaseWidth <= 0 {
			return fmt.Errorf("models: ResNet base width %d must be positive", m.BaseWidth)
		}
	default:
		return fmt.Errorf("models: ResNet block %q; valid: %s, %s", m.Block, BasicBlock, Bottleneck)
	}
	for i, n := range m.Layers {
		if n <= 0 {
			return fmt.Errorf("models: ResNet stage %d has %d blocks; each stage needs at least 1", i+1, n)
		}
	}
	if m.Classes <= 0 {
		return fmt.Errorf("models: ResNet needs a positive class count, got %d", m.Classes)
	}
	// torchvision fixes layer1's input width (and the stem BatchNorm) at 64, so another stem
	// width breaks the model (FOB's hidden_channel note).
	if m.StemChannels != 64 {
		return fmt.Errorf("models: ResNet stem channels %d: torchvision's layer1 expects 64 (the stem's BatchNorm has 64 channels)", m.StemChannels)
	}
	if m.StemKernel <= 0 || m.StemStride <= 0 || m.StemPadding < 0 || m.StemPadding >= m.StemKernel {
		return fmt.Errorf("models: ResNet stem kernel %d, stride %d, padding %d: need kernel ≥ 1, stride ≥ 1, 0 ≤ padding < kernel",
			m.StemKernel, m.StemStride, m.StemPadding)
	}
	if m.StemInit != StemKaiming && m.StemInit != StemTorchDefault {
		return fmt.Errorf("models: ResNet stem init %q; valid: %s, %s", m.StemInit, StemKaiming, StemTorchDefault)
	}
	if m.ImageSize < 0 {
		return fmt.Errorf("models: ResNet image size %d must be ≥ 0 (0: symbolic)", m.ImageSize)
	}
	if m.Input == "" || m.Output == "" {
		return fmt.Errorf("models: ResNet needs Input and Output names")
	}
	return nil
}

// expansion is the ratio of a block's output channels to its planes.
func (m ResNet) expansion() int {
	if m.Block == Bottleneck {
		return 4
	}
	return 1
}

// Build returns the network as an ONNX graph with a symbolic batch dimension, initialised from
// seed.
func (m ResNet) Build(name string, seed int64) (*onnxpb.ModelProto, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	rng := NewRNG(seed)
	g := newGraph(name)
	var h, w any = "height", "width"
	if m.ImageSize > 0 {
		h, w = m.ImageSize, m.ImageSize
	}
	g.b.Input(m.Input, "float32", "batch", 3, h, w)

	stemInit := kaimingFanOut
	if m.StemInit == StemTorchDefault {
		stemInit = torchConvDefault
	}
	x := g.conv(rng, "conv1", m.Input, 3, m.StemChannels, m.StemKernel, m.StemStride, m.StemPadding, stemInit)
	x = g.op("Relu", g.batchNorm("bn1", x, m.StemChannels, false))
	if m.MaxPool {
		x = g.op("MaxPool", x, onnx.AttrInts("kernel_shape", []int64{3, 3}), onnx.AttrInts("strides", []int64{2, 2}),
			onnx.AttrInts("pads", []int64{1, 1, 1, 1}), onnx.AttrInts("dilations", []int64{1, 1}), onnx.AttrInt("ceil_mode", 0))
	}
	inplanes := m.StemChannels
	for stage, blocks := range m.Layers {
		planes := 64 << stage
		for i := 0; i < blocks; i++ {
			stride := 1
			if stage > 0 && i == 0 {
				stride = 2
			}
			p := fmt.Sprintf("layer%d.%d.", stage+1, i)
			x = m.block(g, rng, p, x, inplanes, planes, stride)
			inplanes = planes * m.expansion()
		}
	}
	x = g.op("Flatten", g.op("GlobalAveragePool", x), axis(1))
	wt, bias := rng.LinearInit(inplanes, m.Classes)
	g.param("fc.weight", wt)
	g.param("fc.bias", bias)
	g.b.Node("Gemm", []string{x, "fc.weight", "fc.bias"}, []string{m.Output},
		onnx.AttrFloat("alpha", 1), onnx.AttrFloat("beta", 1), onnx.AttrInt("transB", 1))
	g.b.Output(m.Output, "float32", "batch", m.Classes)
	return g.model()
}

// block appends one residual block named p (e.g. "layer2.0.") and returns its output.
func (m ResNet) block(g *graph, rng *RNG, p, x string, inplanes, planes, stride int) string {
	out := planes * m.expansion()
	var y string
	if m.Block == BasicBlock {
		y = g.op("Relu", g.batchNorm(p+"bn1", g.conv(rng, p+"conv1", x, inplanes, planes, 3, stride, 1, kaimingFanOut), planes, false))
		y = g.batchNorm(p+"bn2", g.conv(rng, p+"conv2", y, planes, planes, 3, 1, 1, kaimingFanOut), planes, m.ZeroInitLast)
	} else {
		width := planes * m.BaseWidth / 64
		y = g.op("Relu", g.batchNorm(p+"bn1", g.conv(rng, p+"conv1", x, inplanes, width, 1, 1, 0, kaimingFanOut), width, false))
		y = g.op("Relu", g.batchNorm(p+"bn2", g.conv(rng, p+"conv2", y, width, width, 3, stride, 1, kaimingFanOut), width, false))
		y = g.batchNorm(p+"bn3", g.conv(rng, p+"conv3", y, width, out, 1, 1, 0, kaimingFanOut), out, m.ZeroInitLast)
	}
	identity := x
	if stride != 1 || inplanes != out {
		identity = g.batchNorm(p+"downsample.1", g.conv(rng, p+"downsample.0", x, inplanes, out, 1, stride, 0, kaimingFanOut), out, false)
	}
	return g.op("Relu", g.op("Add", y, identity))
}

// convInit names how a conv kernel is drawn.
type convInit int

const (
	kaimingFanOut    convInit = iota // kaiming_normal_(mode="fan_out", nonlinearity="relu")
	torchConvDefault                 // torch.nn.Conv2d's reset_parameters
)

// conv appends a bias-free 2-D convolution with parameter p+".weight" [out, in, k, k]
// (attributes from convAttrs).
func (g *graph) conv(rng *RNG, p, x string, in, out, k, stride, pad int, init convInit) string {
	if init == torchConvDefault {
		g.param(p+".weight", rng.Uniform(1/math.Sqrt(float64(in*k*k)), out, in, k, k))
	} else {
		// gain √2 for relu over √fan_out.
		g.param(p+".weight", rng.Normal(math.Sqrt(2/float64(out*k*k)), out, in, k, k))
	}
	return g.op("Conv", append([]any{x, p + ".weight"}, convAttrs(k, stride, pad, 1)...)...)
}

// convAttrs are a square Conv's attributes (kernel k, stride, symmetric pad, groups), with
// strides, pads and dilations always explicit: onnx-gomlx fails or hangs without them
// (gomlx-notes item 6).
func convAttrs(k, stride, pad, groups int) []any {
	s, d := int64(stride), int64(pad)
	return []any{onnx.AttrInts("kernel_shape", []int64{int64(k), int64(k)}), onnx.AttrInts("strides", []int64{s, s}),
		onnx.AttrInts("pads", []int64{d, d, d, d}), onnx.AttrInts("dilations", []int64{1, 1}), onnx.AttrInt("group", int64(groups))}
}

// batchNorm appends torch.nn.BatchNorm2d(c) in inference form (eps 1e-5; ONNX momentum 0.9 is
// torch's 0.1) with parameters p.weight, p.bias and statistics p.running_mean, p.running_var.
// zeroWeight starts the weight at 0 instead of 1.
func (g *graph) batchNorm(p, x string, c int, zeroWeight bool) string {
	weight := Const(1, c)
	if zeroWeight {
		weight = Const(0, c)
	}
	g.param(p+".weight", weight)
	g.param(p+".bias", Const(0, c))
	g.param(p+".running_mean", Const(0, c))
	g.param(p+".running_var", Const(1, c))
	return g.op("BatchNormalization", x, p+".weight", p+".bias", p+".running_mean", p+".running_var",
		onnx.AttrFloat("epsilon", 1e-5), onnx.AttrFloat("momentum", 0.9))
}
