package vision

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Op is one of TrivialAugmentWide's 14 operations, numbered in torchvision's order.
type Op int

// The operations of torchvision's TrivialAugmentWide._augmentation_space, in its order.
const (
	OpIdentity Op = iota
	OpShearX
	OpShearY
	OpTranslateX
	OpTranslateY
	OpRotate
	OpBrightness
	OpColor
	OpContrast
	OpSharpness
	OpPosterize
	OpSolarize
	OpAutoContrast
	OpEqualize
	numOps
)

var opNames = [numOps]string{"Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate",
	"Brightness", "Color", "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize"}

// String is torchvision's operation name.
func (o Op) String() string {
	if o >= 0 && o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Ops lists the 14 operations.
func Ops() []Op {
	out := make([]Op, numOps)
	for i := range out {
		out[i] = Op(i)
	}
	return out
}

// NumBins is TrivialAugmentWide's default num_magnitude_bins.
const NumBins = 31

// Magnitudes returns op's magnitude bins for nBins bins as TrivialAugmentWide defines them
// (float32 torch.linspace values widened to float64, as .item() does), nil for the operations
// without magnitude, and whether the magnitude's sign is drawn at random.
func Magnitudes(op Op, nBins int) (bins []float64, signed bool) {
	lin := func(a, b float32) []float64 {
		v := linspace32(a, b, nBins)
		out := make([]float64, nBins)
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	switch op {
	case OpShearX, OpShearY, OpBrightness, OpColor, OpContrast, OpSharpness:
		return lin(0, 0.99), true
	case OpTranslateX, OpTranslateY:
		return lin(0, 32), true
	case OpRotate:
		return lin(0, 135), true
	case OpPosterize:
		// 8 - round(arange(n) / ((n-1)/6)), the division in float32.
		out := make([]float64, nBins)
		div := float32(float64(nBins-1) / 6)
		for i := range out {
			out[i] = float64(8 - int(math.RoundToEven(float64(float32(i)/div))))
		}
		return out, false
	case OpSolarize:
		return lin(255, 0), false
	}
	return nil, false
}

// Scratch holds a worker's temporary images so augmentation does not allocate per example.
type Scratch struct {
	a, b, gray Image
}

// ApplyOp writes op at magnitude applied to src into dst, as torchvision's autoaugment._apply_op
// does for a uint8 tensor (interp and fill go to the geometric operations). scratch may be
// nil.
func ApplyOp(dst, src *Image, op Op, magnitude float64, interp Interp, fill []float64, scratch *Scratch) {
	if scratch == nil {
		scratch = &Scratch{}
	}
	switch op {
	case OpIdentity:
		dst.CopyFrom(src)
	case OpShearX:
		Affine(dst, src, AffineParams{Scale: 1, Shear: [2]float64{math.Atan(magnitude) * 180 / math.Pi, 0}, Center: &[2]float64{}}, interp, fill)
	case OpShearY:
		Affine(dst, src, AffineParams{Scale: 1, Shear: [2]float64{0, math.Atan(magnitude) * 180 / math.Pi}, Center: &[2]float64{}}, interp, fill)
	case OpTranslateX:
		Affine(dst, src, AffineParams{Scale: 1, Translate: [2]float64{float64(int(magnitude)), 0}}, interp, fill)
	case OpTranslateY:
		Affine(dst, src, AffineParams{Scale: 1, Translate: [2]float64{0, float64(int(magnitude))}}, interp, fill)
	case OpRotate:
		Rotate(dst, src, magnitude, interp, fill)
	case OpBrightness:
		AdjustBrightness(dst, src, 1+magnitude)
	case OpColor:
		AdjustSaturation(dst, src, &scratch.gray, 1+magnitude)
	case OpContrast:
		AdjustContrast(dst, src, &scratch.gray, 1+magnitude)
	case OpSharpness:
		AdjustSharpness(dst, src, &scratch.gray, 1+magnitude)
	case OpPosterize:
		Posterize(dst, src, int(magnitude))
	case OpSolarize:
		Solarize(dst, src, magnitude)
	case OpAutoContrast:
		AutoContrast(dst, src)
	case OpEqualize:
		Equalize(dst, src)
	default:
		panic(fmt.Sprintf("vision: unknown operation %d", int(op)))
	}
}

// TrivialAugment is torchvision's TrivialAugmentWide: one operation drawn uniformly from the
// 14, one magnitude bin drawn uniformly, its sign flipped with probability 1/2 for signed
// operations. The draws come from the caller's generator (not torch's), so a run is
// reproducible from its seed.
type TrivialAugment struct {
	Bins   int       // num_magnitude_bins; 0 means NumBins
	Interp Interp    // torchvision's default is Nearest; FOB uses Bilinear
	Fill   []float64 // nil: torchvision's fill=None (zeros outside); else the mask blend
	table  [numOps][]float64
	signed [numOps]bool
	ready  bool
}

// NewTrivialAugment returns TrivialAugmentWide with nBins bins (0: 31).
func NewTrivialAugment(nBins int, interp Interp, fill []float64) *TrivialAugment {
	t := &TrivialAugment{Bins: nBins, Interp: interp, Fill: fill}
	t.init()
	return t
}

func (t *TrivialAugment) init() {
	if t.Bins <= 0 {
		t.Bins = NumBins
	}
	for op := Op(0); op < numOps; op++ {
		t.table[op], t.signed[op] = Magnitudes(op, t.Bins)
	}
	t.ready = true
}

// Draw picks an operation and signed magnitude from r.
func (t *TrivialAugment) Draw(r *rand.Rand) (Op, float64) {
	if !t.ready {
		t.init()
	}
	op := Op(r.IntN(int(numOps)))
	bins := t.table[op]
	mag := 0.0
	if len(bins) > 0 {
		mag = bins[r.IntN(len(bins))]
	}
	if t.signed[op] && r.IntN(2) == 1 {
		mag = -mag
	}
	return op, mag
}

// Apply draws an operation from r and applies it to src into dst.
func (t *TrivialAugment) Apply(dst, src *Image, r *rand.Rand, scratch *Scratch) {
	op, mag := t.Draw(r)
	ApplyOp(dst, src, op, mag, t.Interp, t.Fill, scratch)
}
