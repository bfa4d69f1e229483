package vision

import (
	"math/rand/v2"
	"testing"

	"github.com/fob-go/fob/tasks/data/vision/visiontest"
)

// benchImages are n random size×size RGB images (content does not change the cost much).
func benchMemory(n, size int) *Memory {
	m := &Memory{C: 3, H: size, W: size, Pix: visiontest.Pattern(n*3*size*size, 9), Labels: make([]int64, n)}
	return m
}

// benchAugment times the per-example pipeline on one goroutine: read, RandomCrop(reflect),
// flip, TrivialAugmentWide (bilinear) and normalisation to float32; images/s per core is
// reported as img/s. Compare with testdata/torchvision_bench.py (torch.set_num_threads(1)).
func benchAugment(b *testing.B, size int) {
	src := benchMemory(256, size)
	tr := &Transform{Crop: true, CropSize: size, Padding: 4, PadMode: PadReflect, Flip: true, FlipP: 0.5,
		Trivial: NewTrivialAugment(NumBins, Bilinear, nil)}
	norm := Normalize{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	r := rand.New(rand.NewPCG(1, 2))
	var in, out Image
	var s Scratch
	buf := make([]float32, 3*size*size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src.Image(i%src.Len(), &in)
		tr.Apply(&out, &in, r, &s)
		norm.Apply(buf, &out)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkAugment32(b *testing.B) { benchAugment(b, 32) }
func BenchmarkAugment64(b *testing.B) { benchAugment(b, 64) }

// BenchmarkOp times each TrivialAugment operation alone on a 32×32 image.
func BenchmarkOp(b *testing.B) {
	src := benchMemory(1, 32)
	var in, out Image
	var s Scratch
	src.Image(0, &in)
	for _, op := range Ops() {
		bins, _ := Magnitudes(op, NumBins)
		mag := 0.0
		if len(bins) > 0 {
			mag = bins[17]
		}
		b.Run(op.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ApplyOp(&out, &in, op, mag, Bilinear, nil, &s)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkBatch128 times Dataset.Batch (batch 128 of 32×32, all transforms) with 2
// workers, as the trainer calls it.
func BenchmarkBatch128(b *testing.B) {
	d := &Dataset{Src: benchMemory(1024, 32), Aug: &Transform{Crop: true, CropSize: 32, Padding: 4, PadMode: PadReflect,
		Flip: true, FlipP: 0.5, Trivial: NewTrivialAugment(NumBins, Bilinear, nil)},
		Norm: Normalize{Mean: []float32{0.5}, Std: []float32{0.25}}, Workers: 2, InputName: "image", LabelName: "label"}
	idx := make([]int, 128)
	for i := 0; i < b.N; i++ {
		for k := range idx {
			idx[k] = (i*128 + k) % 1024
		}
		d.Batch(idx)
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "img/s")
}
