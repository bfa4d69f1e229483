package generate

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/fob-go/fob/models"
)

var (
	smallOnce     sync.Once
	smallEnc      []byte
	smallDec      []byte
	smallBuildErr error
)

// BenchmarkT5Small times generation with t5-small's dimensions (random weights, which seldom
// produce eos, so every source runs to MaxLength) from 30-token sources, greedy and with 4
// beams, 1 and 16 sources at a time. ms/token is wall time per output token of one source (a
// batch of 16 shares each step); ms/step is wall time per decoder step of the batch.
//
//	go test ./eval/generate -run '^$' -bench T5Small -benchtime 2x
func BenchmarkT5Small(b *testing.B) {
	smallOnce.Do(func() {
		m := models.T5Small()
		trained, err := m.Build("t5", 1)
		if err != nil {
			smallBuildErr = err
			return
		}
		e, d, err := m.DecodingGraphs(trained)
		if err != nil {
			smallBuildErr = err
			return
		}
		if smallEnc, smallBuildErr = marshalModel(e); smallBuildErr == nil {
			smallDec, smallBuildErr = marshalModel(d)
		}
	})
	if smallBuildErr != nil {
		b.Fatal(smallBuildErr)
	}
	gen, err := NewT5(smallEnc, smallDec, T5Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer gen.Close()
	const srcLen, maxLen = 30, 32
	for _, k := range []int{1, 4} {
		for _, batch := range []int{1, 16} {
			name := fmt.Sprintf("%s/batch%d", map[int]string{1: "greedy", 4: "beam4"}[k], batch)
			b.Run(name, func(b *testing.B) {
				src := make([][]int, batch)
				for i := range src {
					src[i] = randomSources(1, 32128, srcLen, uint64(i))[0]
					for len(src[i]) < srcLen { // exactly srcLen tokens, eos last
						src[i] = append([]int{5 + i}, src[i]...)
					}
				}
				p := Params{NumBeams: k, LengthPenalty: 0.6, MaxLength: maxLen, BatchSize: batch}
				tokens, steps := 0, 0
				for b.Loop() {
					out, err := gen.Generate(context.Background(), src, p)
					if err != nil {
						b.Fatal(err)
					}
					longest := 0
					for _, o := range out {
						tokens += len(o) - 1
						longest = max(longest, len(o)-1)
					}
					steps += longest
				}
				ms := float64(b.Elapsed().Microseconds()) / 1000
				b.ReportMetric(ms/float64(tokens), "ms/token")
				b.ReportMetric(ms/float64(steps), "ms/step")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
