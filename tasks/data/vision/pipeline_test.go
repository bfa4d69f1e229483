package vision

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks/data/vision/visiontest"
	"github.com/fob-go/fob/train/config"
)

func fixtureMemory(n int) *Memory {
	return &Memory{C: 3, H: 32, W: 32, Pix: visiontest.Pattern(n*3072, 5), Labels: func() []int64 {
		l := make([]int64, n)
		for i := range l {
			l[i] = int64(i % 100)
		}
		return l
	}()}
}

func fullTransform() *Transform {
	return &Transform{Crop: true, CropSize: 32, Padding: 4, PadMode: PadReflect, Flip: true, FlipP: 0.5,
		Trivial: NewTrivialAugment(NumBins, Bilinear, nil)}
}

var cifarNorm = Normalize{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2023, 0.1994, 0.2010}}

// TestDatasetDeterministic: a batch depends only on the seed and the index list (not on the
// worker count or on earlier calls), and a different epoch's list or seed gives other draws.
func TestDatasetDeterministic(t *testing.T) {
	src := fixtureMemory(40)
	mk := func(seed int64, workers int) *Dataset {
		return &Dataset{Src: src, Aug: fullTransform(), Norm: cifarNorm, Seed: seed, Workers: workers, InputName: "image", LabelName: "label"}
	}
	idx := []int{3, 17, 5, 5, 39, 0, 22, 8}
	a := mk(1, 1).Batch(idx)
	d4 := mk(1, 4)
	d4.Batch([]int{1, 2, 3}) // earlier calls must not matter
	b := d4.Batch(idx)
	x, y := a.Inputs["image"], b.Inputs["image"]
	if !slices.Equal(x.Shape, []int{8, 3, 32, 32}) || !slices.Equal(a.Targets["label"].Shape, []int{8}) || a.Size != 8 {
		t.Fatalf("shapes %v %v size %d", x.Shape, a.Targets["label"].Shape, a.Size)
	}
	if !slices.Equal(x.F32, y.F32) || !slices.Equal(a.Targets["label"].I64, b.Targets["label"].I64) {
		t.Fatal("1 and 4 workers give different batches")
	}
	for i, j := range idx {
		if a.Targets["label"].I64[i] != src.Labels[j] {
			t.Fatalf("label %d = %d, want %d", i, a.Targets["label"].I64[i], src.Labels[j])
		}
	}
	// Duplicates in one batch are augmented independently (positions 2 and 3 are both 5).
	per := 3 * 32 * 32
	if slices.Equal(x.F32[2*per:3*per], x.F32[3*per:4*per]) {
		t.Error("the same example twice in a batch got the same augmentation")
	}
	// Another epoch's order of the same examples, or another seed, draws differently.
	c := mk(2, 2).Batch(idx)
	if slices.Equal(x.F32, c.Inputs["image"].F32) {
		t.Error("seed 1 and 2 give the same batch")
	}
	perm := []int{17, 3, 5, 5, 39, 0, 22, 8}
	e := mk(1, 2).Batch(perm)
	if slices.Equal(x.F32[per:2*per], e.Inputs["image"].F32[:per]) {
		t.Error("example 17 got the same augmentation in a different batch")
	}
}

// TestDatasetNormalize: without augmentation, values are (v/255 - mean)/std per channel.
func TestDatasetNormalize(t *testing.T) {
	src := fixtureMemory(3)
	d := &Dataset{Src: src, Norm: cifarNorm, Workers: 2, InputName: "image", LabelName: "label"}
	b := d.Batch([]int{2, 0})
	x := b.Inputs["image"].F32
	for k, i := range []int{2, 0} {
		for c := 0; c < 3; c++ {
			for p := 0; p < 1024; p++ {
				v := float64(src.Pix[i*3072+c*1024+p])
				want := (v/255 - float64(cifarNorm.Mean[c])) / float64(cifarNorm.Std[c])
				got := float64(x[k*3072+c*1024+p])
				if math.Abs(got-want) > 1e-5 {
					t.Fatalf("example %d channel %d pixel %d: %v, want %v", i, c, p, got, want)
				}
			}
		}
	}
}

// TestTransformSteps checks each step on its own: a crop is a window of the reflect-padded
// image at an offset within the padding, flip p=1 mirrors, p=0 and everything off keep the
// image, and TrivialAugment output is one of its operations' outputs.
func TestTransformSteps(t *testing.T) {
	src := fixtureImages()[4]
	var s Scratch
	var dst, ref Image
	r := rand.New(rand.NewPCG(1, 2))
	crop := &Transform{Crop: true, CropSize: 32, Padding: 4, PadMode: PadReflect}
	seen := map[[2]int]bool{}
	for n := 0; n < 200; n++ {
		crop.Apply(&dst, src, r, &s)
		found := false
		for i := -4; i <= 4 && !found; i++ {
			for j := -4; j <= 4 && !found; j++ {
				Crop(&ref, src, i, j, 32, 32, PadReflect, 0)
				if slices.Equal(ref.Pix, dst.Pix) {
					found = true
					seen[[2]int{i, j}] = true
				}
			}
		}
		if !found {
			t.Fatal("crop output is no window of the padded image")
		}
	}
	if len(seen) < 40 {
		t.Errorf("only %d of 81 crop offsets in 200 draws", len(seen))
	}
	(&Transform{Flip: true, FlipP: 1}).Apply(&dst, src, r, &s)
	HFlip(&ref, src)
	if !slices.Equal(dst.Pix, ref.Pix) {
		t.Error("flip p=1 is not a mirror")
	}
	for _, tr := range []*Transform{nil, {}, {Flip: true, FlipP: 0}} {
		tr.Apply(&dst, src, r, &s)
		if !slices.Equal(dst.Pix, src.Pix) {
			t.Errorf("transform %+v changed the image", tr)
		}
	}
	ta := &Transform{Trivial: NewTrivialAugment(NumBins, Bilinear, nil)}
	pcg := rand.NewPCG(5, 6)
	for n := 0; n < 50; n++ {
		snap := *pcg
		ta.Apply(&dst, src, rand.New(pcg), &s)
		op, mag := ta.Trivial.Draw(rand.New(&snap))
		ApplyOp(&ref, src, op, mag, Bilinear, nil, nil)
		if !slices.Equal(dst.Pix, ref.Pix) {
			t.Fatalf("TrivialAugment output is not %s(%v)", op, mag)
		}
	}
}

// TestTrivialAugmentDraws: operations are uniform over the 14, magnitudes come from the
// bins, signed operations take both signs, unsigned ones never a negative one.
func TestTrivialAugmentDraws(t *testing.T) {
	ta := NewTrivialAugment(0, Bilinear, nil)
	r := rand.New(rand.NewPCG(3, 4))
	count := map[Op]int{}
	neg := map[Op]int{}
	const n = 28000
	for i := 0; i < n; i++ {
		op, m := ta.Draw(r)
		count[op]++
		bins, signed := Magnitudes(op, NumBins)
		if len(bins) == 0 && m != 0 {
			t.Fatalf("%s drew magnitude %v", op, m)
		}
		if len(bins) > 0 && !slices.Contains(bins, math.Abs(m)) && !slices.Contains(bins, m) {
			t.Fatalf("%s drew %v, not a bin", op, m)
		}
		if m < 0 {
			if !signed {
				t.Fatalf("unsigned %s drew %v", op, m)
			}
			neg[op]++
		}
	}
	for _, op := range Ops() {
		if c := count[op]; c < 1800 || c > 2200 {
			t.Errorf("%s drawn %d times of %d (expected about %d)", op, c, n, n/14)
		}
		if _, signed := Magnitudes(op, NumBins); signed && (neg[op] < count[op]/3 || neg[op] > 2*count[op]/3) {
			t.Errorf("%s negative %d of %d times", op, neg[op], count[op])
		}
	}
	// torchvision's posterize bins: 8 down to 2 bits.
	if b, _ := Magnitudes(OpPosterize, NumBins); b[0] != 8 || b[30] != 2 || b[15] != 5 {
		t.Errorf("posterize bins %v", b)
	}
}

// TestTransformConfig reads task.train_transforms like FOB's default.yaml.
func TestTransformConfig(t *testing.T) {
	full := func() config.Map {
		return config.Map{"train_transforms": config.Map{
			"random_crop":     config.Map{"use": true, "size": 32, "padding": 4, "padding_mode": "reflect"},
			"horizontal_flip": config.Map{"use": true, "p": 0.5},
			"trivial_augment": config.Map{"use": true},
		}}
	}
	tr, err := TransformConfig(full())
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Crop || tr.CropSize != 32 || tr.Padding != 4 || tr.PadMode != PadReflect || !tr.Flip || tr.FlipP != 0.5 || tr.Trivial == nil || tr.Trivial.Interp != Bilinear {
		t.Fatalf("transform %+v", tr)
	}
	off, err := TransformConfig(config.Map{})
	if err != nil || off.Crop || off.Flip || off.Trivial != nil {
		t.Fatalf("empty section: %+v, %v", off, err)
	}
	bad := []struct {
		key  string
		val  any
		want string
	}{
		{"train_transforms.random_crop.padding_mode", "wrap", "random_crop.padding_mode"},
		{"train_transforms.random_crop.use", "yes", "train_transforms.random_crop.use"},
		{"train_transforms.random_crop.size", 0, "size 0"},
		{"train_transforms.horizontal_flip.p", 1.5, "horizontal_flip.p"},
		{"train_transforms.trivial_augment.use", 1, "trivial_augment.use"},
	}
	for _, b := range bad {
		m := full()
		config.Set(m, b.key, b.val)
		if _, err := TransformConfig(m); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s = %v: error %v, want one naming %q", b.key, b.val, err, b.want)
		}
	}
	big := &Transform{Crop: true, CropSize: 48, Padding: 4, PadMode: PadReflect}
	if err := big.CheckCrop(32, 32); err == nil || !strings.Contains(err.Error(), "random_crop.size 48") {
		t.Errorf("CheckCrop: %v", err)
	}
}

// TestPaddedGray: a digit centred on a black square, the plane repeated per channel.
func TestPaddedGray(t *testing.T) {
	g, err := NewPaddedGray([]uint8{1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2, []int64{7, 9}, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	var img Image
	g.Image(1, &img)
	plane := []uint8{0, 0, 0, 0, 0, 5, 6, 0, 0, 7, 8, 0, 0, 0, 0, 0}
	want := slices.Concat(plane, plane, plane)
	if !slices.Equal(img.Pix, want) || g.Label(1) != 9 {
		t.Fatalf("image %v label %d", img.Pix, g.Label(1))
	}
	if _, err := NewPaddedGray(make([]uint8, 7), 2, 2, 2, []int64{1, 2}, 3, 4); err == nil {
		t.Error("short pixels accepted")
	}
	if _, err := NewPaddedGray(make([]uint8, 8), 2, 2, 2, []int64{1, 2}, 3, 1); err == nil {
		t.Error("padding to a smaller size accepted")
	}
}

// TestPadIndex checks the four padding modes against numpy.pad's definitions.
func TestPadIndex(t *testing.T) {
	n := 4
	cases := map[PadMode][]int{ // i = -5..8
		PadReflect:   {1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2},
		PadSymmetric: {3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0},
		PadEdge:      {0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3},
	}
	for mode, want := range cases {
		for k, w := range want {
			if got, ok := padIndex(k-5, n, mode); !ok || got != w {
				t.Errorf("%s: index %d → %d, want %d", mode, k-5, got, w)
			}
		}
	}
	if _, ok := padIndex(-1, n, PadConstant); ok {
		t.Error("constant padding read a pixel")
	}
}

// TestFromHWC: interleaved pixels (decoded PNG/JPEG, numpy HWC) become planes.
func TestFromHWC(t *testing.T) {
	m, err := FromHWC([]uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12}; !slices.Equal(m.Pix, want) || m.At(2, 1, 0) != 9 {
		t.Fatalf("planes %v", m.Pix)
	}
	if _, err := FromHWC(make([]uint8, 11), 2, 2, 3); err == nil {
		t.Error("11 bytes accepted as 2x2x3")
	}
	if _, err := FromCHW(make([]uint8, 12), 3, 2, 2); err != nil {
		t.Error(err)
	}
}
