package generate

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/ort"
)

// tinyT5 is a small random-weight T5 with more decoder than encoder layers and relative
// distances that reach the clipped buckets within the test's lengths.
func tinyT5() models.T5 {
	return models.T5{
		VocabSize: 40, DModel: 32, DKV: 8, DFF: 48, NumHeads: 4, NumLayers: 2, NumDecoderLayers: 3,
		RelativeAttentionNumBuckets: 8, RelativeAttentionMaxDistance: 12,
		DropoutRate: 0.1, LayerNormEpsilon: 1e-6, PadID: 0, EOSID: 1,
	}
}

// t5Graphs builds m from seed and returns its teacher-forcing, encoder and decoder-step graphs,
// serialized. eosScale multiplies the eos row of the shared embedding (which makes the eos
// logit larger in magnitude: a random T5 otherwise hardly ever ends).
func t5Graphs(t testing.TB, m models.T5, seed int64, eosScale float32) (full, enc, dec []byte) {
	t.Helper()
	trained, err := m.Build("t5", seed)
	if err != nil {
		t.Fatal(err)
	}
	if eosScale != 1 {
		tp := onnx.Initializers(trained)["shared.weight"]
		w, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		for i := m.EOSID * m.DModel; i < (m.EOSID+1)*m.DModel; i++ {
			w.F32[i] *= eosScale
		}
		onnx.SetTensor(tp, w)
	}
	e, d, err := m.DecodingGraphs(trained)
	if err != nil {
		t.Fatal(err)
	}
	marshal := func(g *onnxpb.ModelProto) []byte {
		b, err := onnx.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return marshal(trained), marshal(e), marshal(d)
}

// TestT5ModelCacheMatchesFullGraph is TestT5CacheMatchesFullGraph with models.T5's graphs: a
// random-weight T5 decoded through its KV-cached step graph gives what re-running its
// teacher-forcing graph on every prefix gives, greedy and beam, at batch sizes 1 and several.
func TestT5ModelCacheMatchesFullGraph(t *testing.T) {
	m := tinyT5()
	// Seed 1 with the eos row doubled: some outputs end after 1 to 8 tokens, others at MaxLength.
	fullB, encB, decB := t5Graphs(t, m, 1, 2)
	gen, err := NewT5(encB, decB, T5Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	if gen.Layers() != m.NumDecoderLayers {
		t.Fatalf("%d layers found, the model has %d", gen.Layers(), m.NumDecoderLayers)
	}
	full, err := ort.NewSession(fullB, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	src := randomSources(9, m.VocabSize, 12, 5)
	ended, cut := 0, 0
	for _, p := range []Params{
		{NumBeams: 1, LengthPenalty: 1, MaxLength: 24},
		{NumBeams: 4, LengthPenalty: 0.6, MaxLength: 24},
		{NumBeams: 2, LengthPenalty: 2, MaxLength: 10},
	} {
		want := searchBatched(t, full, src, p, len(src))
		if one := searchBatched(t, full, src, p, 1); !reflect.DeepEqual(one, want) {
			t.Fatalf("%+v: full graph, batch 1 %v, batch %d %v", p, one, len(src), want)
		}
		for _, bs := range []int{1, 4, len(src)} {
			p.BatchSize = bs
			got, err := gen.Generate(context.Background(), src, p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v: cached %v, full graph %v", p, got, want)
			}
		}
		t.Logf("beams %d: %s", p.NumBeams, summary(want))
		for _, o := range want {
			if o[len(o)-1] == tEOS {
				ended++
			} else {
				cut++
			}
		}
	}
	if ended == 0 || cut == 0 {
		t.Fatalf("%d outputs end with eos, %d at MaxLength: the test wants both kinds", ended, cut)
	}
}

// summary gives the output lengths (negative: cut at MaxLength) and the number of distinct
// outputs, to see that a test exercises both kinds of ending.
func summary(outs [][]int) string {
	var lens []int
	distinct := map[string]bool{}
	for _, o := range outs {
		l := len(o)
		if o[l-1] != tEOS {
			l = -l
		}
		lens = append(lens, l)
		distinct[fmt.Sprint(o)] = true
	}
	return fmt.Sprintf("lengths %v, %d distinct", lens, len(distinct))
}

func marshalModel(m *onnxpb.ModelProto) ([]byte, error) { return onnx.Marshal(m) }
