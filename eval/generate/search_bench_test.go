package generate

import (
	"context"
	"math/rand/v2"
	"testing"
)

// fixedLogits is a Stepper that returns the same random logits every step and never ends:
// what Search itself costs per step, without a model.
type fixedLogits struct{ logits []float32 }

func (f fixedLogits) Step(_ context.Context, _ []int, tokens []int) ([]float32, error) {
	v := len(f.logits)
	out := make([]float32, len(tokens)*v)
	for i := range tokens {
		copy(out[i*v:], f.logits)
	}
	return out, nil
}

// BenchmarkSearchOverhead measures the search's own work per step at T5's vocabulary
// (log-softmax and top-2k for beams, argmax for greedy) for 16 sources; ms/token is per
// generated token of one source.
func BenchmarkSearchOverhead(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 32128)
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	logits[tEOS] = -100
	for _, k := range []int{1, 4} {
		b.Run(map[int]string{1: "greedy", 4: "beam4"}[k], func(b *testing.B) {
			const n, maxLen = 16, 21
			for b.Loop() {
				if _, err := Search(context.Background(), fixedLogits{logits}, n, Params{NumBeams: k, LengthPenalty: 0.6, MaxLength: maxLen}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*(maxLen-1)*n), "ms/token")
		})
	}
}
