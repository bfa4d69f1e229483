package generate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Token names of the toy vocabulary (T5's special ids: 0 is the start token and pad, 1 eos).
const (
	tPad = 0
	tEOS = 1
	tA   = 2
	tB   = 3
)

// scorer gives the next-token logits of a source after a prefix (the tokens after the start).
type scorer func(src int, prefix []int) []float32

// toy is a Stepper over a scorer: it follows every row's history through origin, as a model
// with a cache would, and records the row count of every call.
type toy struct {
	vocab   int
	score   scorer
	rows    []toyRow
	started bool
	calls   []int
	failAt  int // Step fails on this call (1-based; 0 = never)
}

type toyRow struct {
	src    int
	prefix []int
}

func newToy(vocab int, s scorer) *toy { return &toy{vocab: vocab, score: s} }

func (t *toy) Step(_ context.Context, origin []int, tokens []int) ([]float32, error) {
	if len(origin) != len(tokens) {
		return nil, fmt.Errorf("toy: %d origins for %d tokens", len(origin), len(tokens))
	}
	t.calls = append(t.calls, len(tokens))
	if t.failAt == len(t.calls) {
		return nil, errors.New("toy: broken")
	}
	rows := make([]toyRow, len(tokens))
	for i, o := range origin {
		if !t.started {
			rows[i] = toyRow{src: o}
			continue
		}
		if o < 0 || o >= len(t.rows) {
			return nil, fmt.Errorf("toy: origin %d of row %d outside the %d previous rows", o, i, len(t.rows))
		}
		p := t.rows[o]
		rows[i] = toyRow{src: p.src, prefix: append(append([]int(nil), p.prefix...), tokens[i])}
	}
	t.started, t.rows = true, rows
	out := make([]float32, 0, len(rows)*t.vocab)
	for _, r := range rows {
		l := t.score(r.src, r.prefix)
		if len(l) != t.vocab {
			return nil, fmt.Errorf("toy: scorer gave %d logits", len(l))
		}
		out = append(out, l...)
	}
	return out, nil
}

// table is a scorer from explicit next-token probabilities per source and prefix ("" is the
// empty prefix, "2 3" the prefix a b); prefixes not listed get def. Logits are log p.
func table(def []float64, probs ...map[string][]float64) scorer {
	return func(src int, prefix []int) []float32 {
		p, ok := probs[src][strings.Trim(fmt.Sprint(prefix), "[]")]
		if !ok {
			p = def
		}
		out := make([]float32, len(p))
		for i, x := range p {
			out[i] = float32(math.Log(x))
		}
		return out
	}
}

// random is a deterministic scorer: logits drawn from a generator seeded by the source and the
// prefix, with eos growing likelier as the prefix grows.
func random(vocab int, seed uint64) scorer {
	return func(src int, prefix []int) []float32 {
		h := fnv.New64a()
		fmt.Fprint(h, seed, src, prefix)
		r := rand.New(rand.NewPCG(h.Sum64(), seed))
		out := make([]float32, vocab)
		for i := range out {
			out[i] = float32(2 * r.NormFloat64())
		}
		out[tEOS] += float32(-3 + 0.7*float64(len(prefix)))
		return out
	}
}

func TestGreedy(t *testing.T) {
	def := []float64{0.1, 0.6, 0.2, 0.1}
	tab := map[string][]float64{
		"":    {0.1, 0.1, 0.5, 0.3}, // a
		"2":   {0.1, 0.2, 0.1, 0.6}, // b
		"2 3": {0.1, 0.7, 0.1, 0.1}, // eos
	}
	never := map[string][]float64{"": {0.2, 0.05, 0.3, 0.45}} // b, then def... made eos-free below
	noEOS := []float64{0.3, 0.01, 0.5, 0.19}
	cases := []struct {
		name   string
		s      scorer
		maxLen int
		want   []int
		calls  int
	}{
		{"eos", table(def, tab), 10, []int{0, tA, tB, tEOS}, 3},
		{"cut at max length", table(def, tab), 3, []int{0, tA, tB}, 2},
		{"max length 2", table(def, tab), 2, []int{0, tA}, 1},
		{"never eos", table(noEOS, never), 6, []int{0, tB, tA, tA, tA, tA}, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newToy(4, c.s)
			got, err := Search(context.Background(), st, 1, Params{NumBeams: 1, MaxLength: c.maxLen})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, [][]int{c.want}) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if len(st.calls) != c.calls {
				t.Fatalf("%d steps, want %d", len(st.calls), c.calls)
			}
		})
	}
}

// rankRule is worked out by hand (k = 2, length penalty 1, MaxLength 10); sums are of natural
// logs, scores are sum / generated_len:
//
//	step 1: beams a (-0.511), b (-0.942)
//	step 2: candidates a·eos -1.204, a·b -1.309, b·eos -1.452, b·a -1.991: a·eos (rank 0) is kept
//	        (score -0.602); b·eos has rank 2 ≥ k and is dropped; beams ab, ba
//	step 3: ab·a -2.201, ba·pad -2.348 become the beams (1 hypothesis: not done)
//	step 4: ba·pad·eos -3.264 (rank 0) kept, score -0.816; beams aba·a -2.211, ba·pad·a -3.552
//	step 5: ba·pad·a·eos (-0.894) is not above the worst (-0.816) and is rejected
//	step 6: abaa·a·eos -2.326 (rank 0) kept, score -0.388 (drops -0.816); worst -0.602
//	step 7: best candidate abaaa·a·eos -6.644: -6.644/7 = -0.908 ≤ -0.602: done after 7 steps.
//
// Had b·eos been kept at step 2, the two hypotheses would have stopped the search at step 3
// (-2.201/3 ≤ -0.726) with a·eos: the rank rule decides the answer here.
func rankRule() scorer {
	return table([]float64{0.1, 0.4, 0.3, 0.2}, map[string][]float64{
		"":        {0.005, 0.005, 0.6, 0.39},
		"2":       {0.02, 0.5, 0.03, 0.45},
		"3":       {0.02, 0.6, 0.35, 0.03},
		"2 3":     {0.09, 0.3, 0.41, 0.2},
		"2 3 2":   {0.003, 0.004, 0.99, 0.003},
		"2 3 2 2": {0.003, 0.004, 0.99, 0.003},
		// "2 3 2 2 2" ends: eos .9
		"2 3 2 2 2": {0.03, 0.9, 0.04, 0.03},
		"3 2":       {0.7, 0.1, 0.1, 0.1},
	})
}

// lengthRule is worked out by hand (k = 2, length penalty 1, MaxLength 4). a·eos sums -1.000
// over 2 generated tokens (a, eos): -0.500. At MaxLength the running beams are a·b·a (-1.800)
// and a·b·pad (-1.930), 3 generated tokens each: -0.600 and -0.643. a·eos wins; counting the
// start token in the finalized length (transformers < 4.36: -1.800/4 = -0.450) would give a·b·a.
func lengthRule() scorer {
	return table([]float64{0.1, 0.4, 0.3, 0.2}, map[string][]float64{
		"":    {0.02, 0.03, 0.9, 0.05},
		"2":   {0.0413, 0.4087, 0.05, 0.5},
		"2 3": {0.3227, 0.01, 0.3673, 0.3},
	})
}

func TestBeamWorkedOut(t *testing.T) {
	cases := []struct {
		name   string
		s      scorer
		lp     float64
		maxLen int
		want   []int
		score  float64
		steps  int
	}{
		{"rank rule and early finish", rankRule(), 1, 10, []int{0, tA, tB, tA, tA, tA, tEOS}, -2.32643 / 6, 7},
		{"finalized length", lengthRule(), 1, 4, []int{0, tA, tEOS}, -1.00013 / 2, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newToy(4, c.s)
			hyps, err := beamSearch(context.Background(), st, 1, Params{NumBeams: 2, LengthPenalty: c.lp, MaxLength: c.maxLen})
			if err != nil {
				t.Fatal(err)
			}
			if got := hyps[0].output(tEOS); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if math.Abs(hyps[0].score-c.score) > 1e-4 {
				t.Fatalf("score %.5f, want %.5f", hyps[0].score, c.score)
			}
			if len(st.calls) != c.steps {
				t.Fatalf("%d steps, want %d", len(st.calls), c.steps)
			}
		})
	}
}

// TestBeamMaxLength: when no source ever ends, the answer is the best running beam at
// MaxLength, without eos, scored over MaxLength-1 tokens.
func TestBeamMaxLength(t *testing.T) {
	noEOS := table([]float64{0.3, 1e-6, 0.5, 0.2 - 1e-6}, nil)
	for _, lp := range []float64{0.6, 1, 2} {
		st := newToy(4, noEOS)
		hyps, err := beamSearch(context.Background(), st, 1, Params{NumBeams: 3, LengthPenalty: lp, MaxLength: 5})
		if err != nil {
			t.Fatal(err)
		}
		h := hyps[0]
		if want := []int{0, tA, tA, tA, tA}; !reflect.DeepEqual(h.output(tEOS), want) {
			t.Fatalf("lp %v: got %v, want %v", lp, h.output(tEOS), want)
		}
		if want := 4 * math.Log(0.5) / math.Pow(4, lp); math.Abs(h.score-want) > 1e-5 {
			t.Fatalf("lp %v: score %v, want %v", lp, h.score, want)
		}
		if len(st.calls) != 4 {
			t.Fatalf("%d steps, want 4", len(st.calls))
		}
	}
}

// exhaustive scores every sequence a source can end with (eos-ended ones over their length
// with the eos, the ones cut at maxLen over maxLen-1 tokens) and returns the best. Log-probs
// are summed in float32 in generation order, as the search does.
func exhaustive(s scorer, src, vocab, maxLen int, lp float64) (best []int, bestScore float64) {
	bestScore = math.Inf(-1)
	lsm := make([]float32, vocab)
	var walk func(prefix []int, sum float32)
	walk = func(prefix []int, sum float32) {
		logSoftmax(lsm, s(src, prefix))
		l := append([]float32(nil), lsm...)
		length := len(prefix) + 1 // with the start token
		for tok := range vocab {
			sc := l[tok] + sum
			seq := append(append([]int{0}, prefix...), tok)
			switch {
			case tok == tEOS:
				if v := float64(sc) / math.Pow(float64(length), lp); v > bestScore {
					best, bestScore = seq, v
				}
			case length+1 == maxLen:
				if v := float64(sc) / math.Pow(float64(maxLen-1), lp); v > bestScore {
					best, bestScore = seq, v
				}
			default:
				walk(append(append([]int(nil), prefix...), tok), sc)
			}
		}
	}
	walk(nil, 0)
	return best, bestScore
}

// TestBeamExhaustive: with more beams than there are sequences, the search never stops early,
// keeps every extension and every finished sequence, and must find the best sequence by
// enumeration, for each length penalty.
func TestBeamExhaustive(t *testing.T) {
	const vocab, maxLen, k = 4, 5, 128 // 27 prefixes × 4 tokens at the last step: all ranks < k
	for _, lp := range []float64{0.6, 1, 2, 0, -0.5} {
		for seed := range uint64(8) {
			s := random(vocab, seed)
			st := newToy(vocab, s)
			hyps, err := beamSearch(context.Background(), st, 3, Params{NumBeams: k, LengthPenalty: lp, MaxLength: maxLen})
			if err != nil {
				t.Fatal(err)
			}
			for src, h := range hyps {
				want, score := exhaustive(s, src, vocab, maxLen, lp)
				if got := h.output(tEOS); !reflect.DeepEqual(got, want) || h.score != score {
					t.Fatalf("lp %v seed %d source %d: got %v (%v), enumeration %v (%v)", lp, seed, src, got, h.score, want, score)
				}
			}
		}
	}
}

// refHyps is BeamHypotheses transcribed literally.
type refHyps struct {
	beams []refHyp
	worst float64
}

type refHyp struct {
	score float64
	toks  []int
}

func (h *refHyps) add(k int, lp float64, toks []int, sum float64, genLen int) {
	score := sum / math.Pow(float64(genLen), lp)
	if len(h.beams) < k || score > h.worst {
		h.beams = append(h.beams, refHyp{score, toks})
		if len(h.beams) > k {
			type si struct {
				s float64
				i int
			}
			sorted := make([]si, len(h.beams))
			for i, b := range h.beams {
				sorted[i] = si{b.score, i}
			}
			sort.Slice(sorted, func(a, b int) bool {
				if sorted[a].s != sorted[b].s {
					return sorted[a].s < sorted[b].s
				}
				return sorted[a].i < sorted[b].i
			})
			h.beams = append(h.beams[:sorted[0].i], h.beams[sorted[0].i+1:]...)
			h.worst = sorted[1].s
		} else {
			h.worst = math.Min(score, h.worst)
		}
	}
}

// refBeam transcribes transformers 4.38's beam_search + BeamSearchScorer as literally as a
// test can: every row of every source is scored every step (done sources are fed pad and
// point at row 0), top-k runs over the flattened beams × vocabulary of a source, and the result
// is HF's padded batch.
func refBeam(s scorer, vocab, n, k int, lp float64, maxLen int) [][]int {
	ids := make([][]int, n*k)
	beamScores := make([]float32, n*k)
	for r := range ids {
		ids[r] = []int{0}
		if r%k != 0 {
			beamScores[r] = -1e9
		}
	}
	hyps := make([]refHyps, n)
	for i := range hyps {
		hyps[i].worst = 1e9
	}
	done := make([]bool, n)
	lsm := make([]float32, vocab)
	for {
		scores := make([]float32, n*k*vocab)
		for r := range ids {
			logSoftmax(lsm, s(r/k, ids[r][1:]))
			for v := range vocab {
				scores[r*vocab+v] = lsm[v] + beamScores[r]
			}
		}
		curLen := len(ids[0]) + 1
		nextScores := make([]float32, n*k)
		nextTokens := make([]int, n*k)
		nextIdx := make([]int, n*k)
		for b := range n {
			flat := scores[b*k*vocab : (b+1)*k*vocab]
			order := make([]int, len(flat))
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(x, y int) bool { return flat[order[x]] > flat[order[y]] })
			order = order[:2*k]
			if done[b] {
				for j := range k {
					nextScores[b*k+j], nextTokens[b*k+j], nextIdx[b*k+j] = 0, tPad, 0
				}
				continue
			}
			beamIdx := 0
			for rank, flatIdx := range order {
				tok, beam := flatIdx%vocab, flatIdx/vocab
				bbi := b*k + beam
				if tok == tEOS {
					if rank >= k {
						continue
					}
					hyps[b].add(k, lp, append([]int(nil), ids[bbi]...), float64(flat[flatIdx]), curLen-1)
				} else {
					nextScores[b*k+beamIdx], nextTokens[b*k+beamIdx], nextIdx[b*k+beamIdx] = flat[flatIdx], tok, bbi
					beamIdx++
				}
				if beamIdx == k {
					break
				}
			}
			best := float64(flat[order[0]])
			if len(hyps[b].beams) >= k && hyps[b].worst >= best/math.Pow(float64(curLen-1), lp) {
				done[b] = true
			}
		}
		next := make([][]int, n*k)
		for r := range next {
			next[r] = append(append([]int(nil), ids[nextIdx[r]]...), nextTokens[r])
		}
		ids, beamScores = next, nextScores
		all := true
		for _, d := range done {
			all = all && d
		}
		if all || len(ids[0]) >= maxLen {
			break
		}
	}
	best := make([][]int, n)
	lengths := 0
	minLen := math.MaxInt
	for b := range n {
		if !done[b] {
			for j := range k {
				hyps[b].add(k, lp, ids[b*k+j], float64(beamScores[b*k+j]), len(ids[b*k+j])-1)
			}
		}
		sorted := append([]refHyp(nil), hyps[b].beams...)
		sort.SliceStable(sorted, func(x, y int) bool { return sorted[x].score < sorted[y].score })
		best[b] = sorted[len(sorted)-1].toks
		lengths = max(lengths, len(best[b]))
		minLen = min(minLen, len(best[b]))
	}
	width := min(lengths+1, maxLen)
	out := make([][]int, n)
	for b := range n {
		out[b] = make([]int, width)
		for i := range out[b] {
			out[b][i] = -1 // torch.new: garbage, overwritten below
			if minLen != lengths {
				out[b][i] = tPad
			}
		}
		copy(out[b], best[b])
		if len(best[b]) < width {
			out[b][len(best[b])] = tEOS
		}
	}
	return out
}

// refGreedy transcribes greedy_search: every row is scored every step, finished rows are fed
// pad, the batch stops when all rows have produced eos or the length reaches maxLen.
func refGreedy(s scorer, n, maxLen int) [][]int {
	ids := make([][]int, n)
	unfinished := make([]bool, n)
	for i := range ids {
		ids[i], unfinished[i] = []int{0}, true
	}
	for {
		anyLeft := false
		for i := range ids {
			next := argmax(s(i, ids[i][1:]))
			if !unfinished[i] {
				next = tPad
			}
			ids[i] = append(ids[i], next)
			unfinished[i] = unfinished[i] && next != tEOS
			anyLeft = anyLeft || unfinished[i]
		}
		if !anyLeft || len(ids[0]) >= maxLen {
			return ids
		}
	}
}

// TestAgainstLiteralHF compares Search with the literal transcriptions on random scorers:
// several sources finishing at different times, beam widths, length penalties, max lengths.
func TestAgainstLiteralHF(t *testing.T) {
	type cfg struct {
		vocab, n, k, maxLen int
		lp                  float64
	}
	var cases []cfg
	for _, k := range []int{1, 2, 3, 4} {
		for _, lp := range []float64{0.6, 1, 2} {
			for _, maxLen := range []int{2, 4, 9, 20} {
				cases = append(cases, cfg{vocab: 6, n: 5, k: k, maxLen: maxLen, lp: lp})
			}
		}
	}
	cases = append(cases, cfg{vocab: 2, n: 3, k: 2, maxLen: 8, lp: 1}, cfg{vocab: 40, n: 7, k: 4, maxLen: 30, lp: 0.6})
	for _, c := range cases {
		for seed := range uint64(6) {
			s := random(c.vocab, seed)
			name := fmt.Sprintf("V%d n%d k%d max%d lp%v seed%d", c.vocab, c.n, c.k, c.maxLen, c.lp, seed)
			var want [][]int
			if c.k == 1 {
				want = refGreedy(s, c.n, c.maxLen)
			} else {
				want = refBeam(s, c.vocab, c.n, c.k, c.lp, c.maxLen)
			}
			got, err := Search(context.Background(), newToy(c.vocab, s), c.n, Params{NumBeams: c.k, LengthPenalty: c.lp, MaxLength: c.maxLen})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if c.k == 1 {
				// HF keeps padding finished rows until every row is done; compare cut at eos.
				for i := range want {
					want[i] = cutAtEOS(want[i])
				}
			} else {
				got = PadTo(got, tPad)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n got %v\nwant %v", name, got, want)
			}
		}
	}
}

func cutAtEOS(s []int) []int {
	for i := 1; i < len(s); i++ {
		if s[i] == tEOS {
			return s[:i+1]
		}
	}
	return s
}

// TestOneBeamIsGreedy: beam search with one beam picks the argmax and stops at the first eos.
func TestOneBeamIsGreedy(t *testing.T) {
	for seed := range uint64(20) {
		s := random(7, seed)
		want, err := greedy(context.Background(), newToy(7, s), 6, 25, T5Tokens)
		if err != nil {
			t.Fatal(err)
		}
		for _, lp := range []float64{0.6, 1, 2} {
			hyps, err := beamSearch(context.Background(), newToy(7, s), 6, Params{NumBeams: 1, LengthPenalty: lp, MaxLength: 25})
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range hyps {
				if got := h.output(tEOS); !reflect.DeepEqual(got, want[i]) {
					t.Fatalf("seed %d lp %v source %d: beam %v, greedy %v", seed, lp, i, got, want[i])
				}
			}
		}
	}
}

// TestSourcesFinishAtDifferentTimes: a source that is done leaves the batch (fewer rows per
// step) and every source's answer is the one it gets alone.
func TestSourcesFinishAtDifferentTimes(t *testing.T) {
	early := map[string][]float64{"": {0.01, 0.97, 0.01, 0.01}} // eos first, then def (eos .6)
	late := map[string][]float64{}                              // never likely to end
	def := []float64{0.05, 0.6, 0.2, 0.15}
	noEOS := []float64{0.3, 1e-4, 0.4, 0.3 - 1e-4}
	s := func(src int, prefix []int) []float32 {
		switch src {
		case 0:
			return table(def, early)(0, prefix)
		case 1:
			return table(noEOS, late)(0, prefix)
		}
		return rankRule()(0, prefix)
	}
	for _, k := range []int{1, 2, 3} {
		p := Params{NumBeams: k, LengthPenalty: 0.6, MaxLength: 12}
		st := newToy(4, s)
		got, err := Search(context.Background(), st, 3, p)
		if err != nil {
			t.Fatal(err)
		}
		for src := range 3 {
			alone, err := Search(context.Background(), newToy(4, func(_ int, prefix []int) []float32 { return s(src, prefix) }), 1, p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[src], alone[0]) {
				t.Fatalf("k %d source %d: batched %v, alone %v", k, src, got[src], alone[0])
			}
		}
		if st.calls[0] != 3*k || st.calls[len(st.calls)-1] != k || len(st.calls) != 11 {
			t.Fatalf("k %d: rows per step %v: want %d first, %d (the never-ending source) last, 11 steps", k, st.calls, 3*k, k)
		}
		t.Logf("k %d: rows per step %v, outputs %v", k, st.calls, got)
	}
}

func TestSearchErrors(t *testing.T) {
	s := random(5, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	broken := newToy(5, s)
	broken.failAt = 2
	grow := 0
	cases := []struct {
		name string
		ctx  context.Context
		st   Stepper
		p    Params
		want string
	}{
		{"max length", context.Background(), newToy(5, s), Params{MaxLength: 1}, "MaxLength 1"},
		{"negative beams", context.Background(), newToy(5, s), Params{NumBeams: -1, MaxLength: 5}, "NumBeams -1"},
		{"nan penalty", context.Background(), newToy(5, s), Params{NumBeams: 2, LengthPenalty: math.NaN(), MaxLength: 5}, "LengthPenalty NaN"},
		{"cancelled", ctx, newToy(5, s), Params{NumBeams: 2, MaxLength: 5}, "context canceled"},
		{"stepper error", context.Background(), broken, Params{NumBeams: 2, MaxLength: 5}, "step with 6 rows: toy: broken"},
		{"vocabulary changes", context.Background(), stepFunc(func(_, tokens []int) []float32 {
			grow++
			return make([]float32, len(tokens)*(4+grow))
		}), Params{MaxLength: 5}, "returned 18 logits for 3 rows (vocabulary 5 before)"},
		{"ragged logits", context.Background(), stepFunc(func(_, _ []int) []float32 { return make([]float32, 7) }), Params{MaxLength: 5}, "returned 7 logits for 3 rows"},
		{"no logits", context.Background(), stepFunc(func(_, _ []int) []float32 { return nil }), Params{MaxLength: 5}, "returned 0 logits for 3 rows"},
		{"vocabulary 1", context.Background(), newToy(1, func(int, []int) []float32 { return []float32{0} }), Params{NumBeams: 2, MaxLength: 5}, "at least 2 tokens, have 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Search(c.ctx, c.st, 3, c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	if got, err := Search(context.Background(), newToy(5, s), 0, Params{MaxLength: 5}); err != nil || len(got) != 0 {
		t.Fatalf("no sources: %v %v", got, err)
	}
}

// stepFunc is a Stepper from a function.
type stepFunc func(origin, tokens []int) []float32

func (f stepFunc) Step(_ context.Context, origin, tokens []int) ([]float32, error) {
	return f(origin, tokens), nil
}

func TestPadTo(t *testing.T) {
	got := PadTo([][]int{{0, 2, 1}, {0, 1}, {0, 3, 3, 3}}, 0)
	want := [][]int{{0, 2, 1, 0}, {0, 1, 0, 0}, {0, 3, 3, 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
}

func TestHypothesesKeepsBest(t *testing.T) {
	h := newHypotheses(2, 1)
	h.add([]int{0}, -3, 1, true)    // -3
	h.add([]int{0, 2}, -2, 2, true) // -1
	if h.worst != -3 {
		t.Fatalf("worst %v", h.worst)
	}
	h.add([]int{0, 3}, -8, 2, true) // -4: not above the worst, rejected
	h.add([]int{0, 3}, -4, 2, true) // -2: drops -3
	if len(h.beams) != 2 || h.worst != -2 || h.beams[0].score != -1 {
		t.Fatalf("%+v worst %v", h.beams, h.worst)
	}
	h.add([]int{0, 2, 2}, -3, 3, true) // -1 ties the best: drops -2, kept last
	if b := h.best(); !reflect.DeepEqual(b.tokens, []int{0, 2, 2}) {
		t.Fatalf("best on a tie %v, want the latest", b.tokens)
	}
	if !h.done(-2, 2) || h.done(-1.9, 2) {
		t.Fatal("done: worst -1 >= -2/2 but not >= -1.9/2")
	}
}
