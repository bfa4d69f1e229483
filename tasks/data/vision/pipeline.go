package vision

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
)

// Source is an indexable collection of same-sized labelled images.
type Source interface {
	// Len is the number of examples.
	Len() int
	// Image writes example i into dst (reshaping it); it must be safe for concurrent use.
	Image(i int, dst *Image)
	// Label is example i's class, 0-based.
	Label(i int) int64
	// Shape is the C, H, W of every image.
	Shape() (c, h, w int)
}

// Transform is the training augmentation of the vision tasks, in FOB's order: RandomCrop,
// RandomHorizontalFlip, TrivialAugmentWide; a nil *Transform (or all steps off) leaves the
// image as it is, as for validation and test.
type Transform struct {
	// Crop enables RandomCrop(CropSize, padding=Padding, padding_mode=PadMode).
	Crop     bool
	CropSize int
	Padding  int
	PadMode  PadMode
	// Flip enables RandomHorizontalFlip(p=FlipP).
	Flip  bool
	FlipP float64
	// Trivial, when not nil, applies TrivialAugmentWide.
	Trivial *TrivialAugment
}

// OutShape is the image size the transform produces from a c×h×w image.
func (t *Transform) OutShape(c, h, w int) (int, int, int) {
	if t != nil && t.Crop {
		return c, t.CropSize, t.CropSize
	}
	return c, h, w
}

// Apply augments src into dst with the draws of r (crop offsets, flip, operation, bin, sign,
// in that order), using s's buffers; src is not modified.
func (t *Transform) Apply(dst, src *Image, r *rand.Rand, s *Scratch) {
	cur := src
	next := func() *Image { // alternate scratch buffers that differ from cur
		if cur == &s.a {
			return &s.b
		}
		return &s.a
	}
	if t != nil && t.Crop {
		// torchvision's RandomCrop: pad, then top-left uniform in [0, padded - size].
		hp, wp := src.H+2*t.Padding, src.W+2*t.Padding
		if hp < t.CropSize || wp < t.CropSize {
			panic(fmt.Sprintf("vision: crop %d larger than the padded %dx%d image", t.CropSize, hp, wp))
		}
		i := r.IntN(hp - t.CropSize + 1)
		j := r.IntN(wp - t.CropSize + 1)
		n := next()
		Crop(n, cur, i-t.Padding, j-t.Padding, t.CropSize, t.CropSize, t.PadMode, 0)
		cur = n
	}
	if t != nil && t.Flip && r.Float64() < t.FlipP {
		n := next()
		HFlip(n, cur)
		cur = n
	}
	if t != nil && t.Trivial != nil {
		n := next()
		t.Trivial.Apply(n, cur, r, s)
		cur = n
	}
	dst.CopyFrom(cur)
}

// Normalize is torchvision's ToDtype(float32, scale=True) then Normalize(mean, std): (v/255 -
// mean[c]) / std[c] in float32.
type Normalize struct {
	Mean, Std []float32
}

// Apply writes m normalised into out (len C*H*W, channel-major).
func (n Normalize) Apply(out []float32, m *Image) {
	plane := m.H * m.W
	for c := 0; c < m.C; c++ {
		mean, std := n.Mean[min(c, len(n.Mean)-1)], n.Std[min(c, len(n.Std)-1)]
		p := m.Pix[c*plane : (c+1)*plane]
		o := out[c*plane : (c+1)*plane]
		for i, v := range p {
			o[i] = (float32(v)/255 - mean) / std
		}
	}
}

// Dataset serves a Source as batches {InputName: float32 [B,C,H,W]} / {LabelName: int64
// [B]}, augmenting each example with Aug (nil: none) and normalising, on Workers goroutines.
//
// Augmentation is deterministic: example k of a batch draws from a generator seeded by Seed,
// the batch's index list and k. The trainer's index lists are themselves a function of the
// run seed and the epoch (data.Batches), so a run, resumed or not, sees the same augmented
// images at the same step, and each epoch sees fresh ones.
type Dataset struct {
	Src       Source
	Aug       *Transform
	Norm      Normalize
	Seed      int64
	Workers   int
	InputName string
	LabelName string

	pool sync.Pool
}

var _ tasks.Dataset = (*Dataset)(nil)

// Len implements tasks.Dataset.
func (d *Dataset) Len() int { return d.Src.Len() }

// worker is one goroutine's buffers.
type worker struct {
	src, out Image
	s        Scratch
}

// Batch implements tasks.Dataset.
func (d *Dataset) Batch(idx []int) tasks.Batch {
	c, h, w := d.Aug.OutShape(d.Src.Shape())
	per := c * h * w
	x := make([]float32, len(idx)*per)
	y := make([]int64, len(idx))
	key := batchKey(d.Seed, idx)
	nw := min(max(d.Workers, 1), len(idx))
	var wg sync.WaitGroup
	for k := 0; k < nw; k++ {
		lo, hi := k*len(idx)/nw, (k+1)*len(idx)/nw
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk, _ := d.pool.Get().(*worker)
			if wk == nil {
				wk = &worker{}
			}
			defer d.pool.Put(wk)
			for p := lo; p < hi; p++ {
				d.Src.Image(idx[p], &wk.src)
				img := &wk.src
				if d.Aug != nil {
					r := rand.New(rand.NewPCG(key, uint64(p)))
					d.Aug.Apply(&wk.out, &wk.src, r, &wk.s)
					img = &wk.out
				}
				if img.C != c || img.H != h || img.W != w {
					panic(fmt.Sprintf("vision: example %d is %dx%dx%d, the batch %dx%dx%d", idx[p], img.C, img.H, img.W, c, h, w))
				}
				d.Norm.Apply(x[p*per:(p+1)*per], img)
				y[p] = d.Src.Label(idx[p])
			}
		}()
	}
	wg.Wait()
	return tasks.Batch{
		Inputs:  map[string]tensor.Tensor{d.InputName: tensor.F32s(x, len(idx), c, h, w)},
		Targets: map[string]tensor.Tensor{d.LabelName: tensor.I64s(y, len(idx))},
		Size:    len(idx),
	}
}

// batchKey hashes the seed and the batch's indices (splitmix64 steps).
func batchKey(seed int64, idx []int) uint64 {
	h := mix64(uint64(seed) ^ 0x9e3779b97f4a7c15)
	for _, i := range idx {
		h = mix64(h ^ uint64(i))
	}
	return mix64(h ^ uint64(len(idx)))
}

func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Memory is an in-memory Source of channel-major images stored back to back.
type Memory struct {
	C, H, W int
	Pix     []uint8 // Len()*C*H*W bytes
	Labels  []int64
}

// Len implements Source.
func (m *Memory) Len() int { return len(m.Labels) }

// Shape implements Source.
func (m *Memory) Shape() (int, int, int) { return m.C, m.H, m.W }

// Label implements Source.
func (m *Memory) Label(i int) int64 { return m.Labels[i] }

// Image implements Source.
func (m *Memory) Image(i int, dst *Image) {
	n := m.C * m.H * m.W
	dst.Reshape(m.C, m.H, m.W)
	copy(dst.Pix, m.Pix[i*n:(i+1)*n])
}

// Subset returns a Source of the examples idx of src (shared, not copied).
func Subset(src Source, idx []int) Source { return subset{src, idx} }

type subset struct {
	src Source
	idx []int
}

func (s subset) Len() int                { return len(s.idx) }
func (s subset) Shape() (int, int, int)  { return s.src.Shape() }
func (s subset) Label(i int) int64       { return s.src.Label(s.idx[i]) }
func (s subset) Image(i int, dst *Image) { s.src.Image(s.idx[i], dst) }
