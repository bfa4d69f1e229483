// Package generate decodes sequences from an encoder-decoder model the way Hugging Face
// transformers' generate() does for FOB's translation task: greedy search (validation) and beam
// search with a length penalty (test).
//
// The search (Search) is written against a small interface, Stepper, that hands out next-token
// logits for a set of live decoder rows; the ONNX/onnxruntime T5 implementation (T5) is one
// Stepper, a table of log-probabilities in the tests is another.
//
// # Semantics
//
// The rules are those of transformers 4.38 (FOB pins transformers~=4.38.0), GenerationMixin's
// greedy_search and beam_search with BeamSearchScorer/BeamHypotheses, with FOB's settings:
// do_sample false, no logits processors (no repetition penalty, no n-gram blocking, no minimum
// length), early_stopping false, one eos id, decoder start token = pad = 0 and eos = 1 for T5.
//
// Greedy: every row takes the argmax of its logits (the first index on ties) until it produces
// eos or the output reaches MaxLength tokens (the start token included).
//
// Beam search (NumBeams = k ≥ 2), per source:
//   - beam scores start at 0 for beam 0 and -1e9 for the others (float32, as in PyTorch);
//   - each step a beam's candidates score log_softmax(logits) + beam score (float32); the top
//     2k candidates over beams × vocabulary are taken, best first (ties: lower beam, then lower
//     token id);
//   - walking them in order, a candidate that is eos becomes a finished hypothesis only if its
//     rank is < k, any other candidate becomes one of the next k beams until k are filled;
//   - a finished hypothesis scores sum_logprobs / generated_len^length_penalty, where
//     generated_len counts the generated tokens including the eos (the start token excluded):
//     the length of the prefix before the eos, start token included (HF 4.37+: generated_len =
//     cur_len - decoder_prompt_len with cur_len = prefix length + 1 and decoder_prompt_len = 1);
//   - the source keeps the k best hypotheses (a new one enters only if fewer than k are kept or
//     it beats the worst strictly; the worst is then dropped, the earliest added on ties);
//   - the source is done once it holds k hypotheses and the best candidate score of the step
//     (the top of the 2k, eos candidates included) divided by (prefix length)^length_penalty
//     is not above the worst kept score (HF 4.37+ BeamHypotheses.is_done with
//     early_stopping=False: worst_score >= best_sum_logprobs / (cur_len -
//     decoder_prompt_len)^length_penalty);
//   - when the output reaches MaxLength, the running beams of sources not done are added as
//     hypotheses with generated_len = MaxLength - 1 (their tokens after the start, no eos);
//   - the answer is the hypothesis with the highest score (the latest kept on ties).
//
// Only these rules (transformers 4.37 and 4.38) are implemented. Other releases count lengths
// differently: 4.27 to 4.35 divide a hypothesis finalized at MaxLength by MaxLength (the start
// token counted) and test is_done against (prefix length + 1)^length_penalty; 4.36 leaves the
// eos out of a finished hypothesis's length.
//
// Outputs begin with the start token and end with eos (or stop at MaxLength tokens without
// one). HF pads shorter rows of a batch with pad after the eos; that padding depends on the
// other rows of the batch, so it is left out here (PadTo restores it).
package generate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
)

// Stepper computes next-token logits for a set of live decoder rows, one token at a time. It
// owns the decoder state of each row (for a transformer: the key/value caches) and reorders it
// as Step's origin says.
type Stepper interface {
	// Step appends tokens[i] to row i and returns the next-token logits of every row,
	// row-major [len(tokens), vocabulary] (the vocabulary size must be the same every call).
	//
	// On the first call of a search every row has an empty history and origin[i] is the source
	// (0..n-1 of the search) that row i decodes; several rows may decode one source (beams).
	// On later calls origin[i] is the row of the previous call whose history row i continues:
	// rows may be repeated (beams that split), reordered or dropped (finished ones), and row i
	// decodes the source of that row.
	Step(ctx context.Context, origin []int, tokens []int) ([]float32, error)
}

// Tokens are the special token ids of a vocabulary.
type Tokens struct {
	// Start is the decoder start token: every output begins with it.
	Start int
	// EOS ends a sequence.
	EOS int
	// Pad fills rows after their eos (PadTo).
	Pad int
}

// T5Tokens are T5's ids: the decoder starts with pad (0) and eos is 1.
var T5Tokens = Tokens{Start: 0, EOS: 1, Pad: 0}

// Params configures a search.
type Params struct {
	// NumBeams is the beam width; 0 or 1 is greedy search.
	NumBeams int
	// LengthPenalty is the exponent of the length that divides a finished hypothesis's summed
	// log-probability (beam search only). It is used as given: HF's default is 1.0, FOB tests
	// with 0.6.
	LengthPenalty float64
	// MaxLength bounds the output length, the start token included (HF max_length; FOB: 126).
	MaxLength int
	// BatchSize is the number of sources decoded together by T5.Generate (0: 32). Search itself
	// decodes all the sources it is given together.
	BatchSize int
	// Tokens are the special ids; nil means T5Tokens.
	Tokens *Tokens
}

func (p Params) tokens() Tokens {
	if p.Tokens == nil {
		return T5Tokens
	}
	return *p.Tokens
}

func (p Params) validate() error {
	if p.MaxLength < 2 {
		return fmt.Errorf("generate: MaxLength %d: need at least 2 (the start token and one generated token)", p.MaxLength)
	}
	if p.NumBeams < 0 {
		return fmt.Errorf("generate: NumBeams %d is negative", p.NumBeams)
	}
	if math.IsNaN(p.LengthPenalty) || math.IsInf(p.LengthPenalty, 0) {
		return fmt.Errorf("generate: LengthPenalty %v is not a finite number", p.LengthPenalty)
	}
	return nil
}

// Search decodes n sources through s: greedy when p.NumBeams ≤ 1, beam search otherwise (see
// the package documentation for the exact rules). It returns one token sequence per source,
// beginning with the start token.
func Search(ctx context.Context, s Stepper, n int, p Params) ([][]int, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if n == 0 {
		return [][]int{}, nil
	}
	if p.NumBeams <= 1 {
		return greedy(ctx, s, n, p.MaxLength, p.tokens())
	}
	hyps, err := beamSearch(ctx, s, n, p)
	if err != nil {
		return nil, err
	}
	out := make([][]int, n)
	for i, h := range hyps {
		out[i] = h.output(p.tokens().EOS)
	}
	return out, nil
}

// PadTo pads the sequences to a common length with pad, as HF returns a batch.
func PadTo(seqs [][]int, pad int) [][]int {
	width := 0
	for _, s := range seqs {
		width = max(width, len(s))
	}
	out := make([][]int, len(seqs))
	for i, s := range seqs {
		out[i] = make([]int, width)
		copy(out[i], s)
		for j := len(s); j < width; j++ {
			out[i][j] = pad
		}
	}
	return out
}

// step calls the stepper and returns the logits with the vocabulary size, checked against
// want (0: the first step, any size).
func step(ctx context.Context, s Stepper, origin, tokens []int, want int) ([]float32, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("generate: %w", err)
	}
	logits, err := s.Step(ctx, origin, tokens)
	if err != nil {
		return nil, 0, fmt.Errorf("generate: step with %d rows: %w", len(tokens), err)
	}
	v := len(logits) / len(tokens)
	if len(logits) == 0 || len(logits)%len(tokens) != 0 || (want != 0 && v != want) {
		return nil, 0, fmt.Errorf("generate: stepper returned %d logits for %d rows (vocabulary %d before)", len(logits), len(tokens), want)
	}
	return logits, v, nil
}

// greedy is HF's greedy_search: argmax until eos or maxLen.
func greedy(ctx context.Context, s Stepper, n, maxLen int, tok Tokens) ([][]int, error) {
	out := make([][]int, n)
	live := make([]int, n)   // source of each live row
	origin := make([]int, n) // the first Step gets sources
	tokens := make([]int, n)
	for i := range n {
		out[i] = append(make([]int, 0, 16), tok.Start)
		live[i], origin[i], tokens[i] = i, i, tok.Start
	}
	v := 0
	for length := 1; ; length++ {
		logits, vocab, err := step(ctx, s, origin, tokens, v)
		if err != nil {
			return nil, err
		}
		v = vocab
		nextLive, nextOrigin, nextTokens := live[:0:0], origin[:0:0], tokens[:0:0]
		for r, src := range live {
			t := argmax(logits[r*v : (r+1)*v])
			out[src] = append(out[src], t)
			if t != tok.EOS {
				nextLive, nextOrigin, nextTokens = append(nextLive, src), append(nextOrigin, r), append(nextTokens, t)
			}
		}
		if len(nextLive) == 0 || length+1 >= maxLen {
			return out, nil
		}
		live, origin, tokens = nextLive, nextOrigin, nextTokens
	}
}

// argmax returns the index of the largest value, the first one on ties (as torch.argmax).
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// hypothesis is a finished (or, at MaxLength, finalized) beam.
type hypothesis struct {
	score float64
	// tokens are the start token and the generated tokens, without the eos.
	tokens []int
	// eos says the hypothesis ended with eos (to be appended to the output).
	eos bool
}

func (h hypothesis) output(eos int) []int {
	out := append(make([]int, 0, len(h.tokens)+1), h.tokens...)
	if h.eos {
		out = append(out, eos)
	}
	return out
}

// hypotheses keeps the k best finished hypotheses of one source (HF BeamHypotheses).
type hypotheses struct {
	k             int
	lengthPenalty float64
	beams         []hypothesis
	worst         float64
}

func newHypotheses(k int, lengthPenalty float64) *hypotheses {
	return &hypotheses{k: k, lengthPenalty: lengthPenalty, worst: 1e9}
}

// add scores a hypothesis of summed log-probability sum over genLen generated tokens and keeps
// it if it is among the k best.
func (h *hypotheses) add(tokens []int, sum float64, genLen int, eos bool) {
	score := sum / math.Pow(float64(genLen), h.lengthPenalty)
	if len(h.beams) >= h.k && !(score > h.worst) {
		return
	}
	h.beams = append(h.beams, hypothesis{score: score, tokens: tokens, eos: eos})
	if len(h.beams) <= h.k {
		h.worst = math.Min(score, h.worst)
		return
	}
	// Drop the lowest score (the earliest added on ties); the worst is then the next lowest.
	order := make([]int, len(h.beams))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return h.beams[order[a]].score < h.beams[order[b]].score })
	h.worst = h.beams[order[1]].score
	drop := order[0]
	h.beams = append(h.beams[:drop], h.beams[drop+1:]...)
}

// done says no running beam can beat the kept hypotheses any more: k are kept and the best
// candidate score of the step, normalised by prefixLen^lengthPenalty, is not above the worst.
func (h *hypotheses) done(bestSum float64, prefixLen int) bool {
	if len(h.beams) < h.k {
		return false
	}
	return h.worst >= bestSum/math.Pow(float64(prefixLen), h.lengthPenalty)
}

// best is the highest-scoring hypothesis, the latest kept on ties (HF: the last of a stable
// ascending sort).
func (h *hypotheses) best() hypothesis {
	b := 0
	for i, x := range h.beams {
		if x.score >= h.beams[b].score {
			b = i
		}
	}
	return h.beams[b]
}

// runningBeam is one live beam of a source.
type runningBeam struct {
	tokens []int // start token and generated tokens
	score  float32
}

// candidate is one (beam, token) extension.
type candidate struct {
	beam, token int
	score       float32
}

// beamSource is the search state of one source.
type beamSource struct {
	src   int
	hyps  *hypotheses
	beams []runningBeam
	done  bool
}

// beamSearch is HF's beam_search with BeamSearchScorer; it returns the best hypothesis of every
// source.
func beamSearch(ctx context.Context, s Stepper, n int, p Params) ([]hypothesis, error) {
	k, tok, v := p.NumBeams, p.tokens(), 0
	if k < 1 {
		return nil, fmt.Errorf("generate: beam search with %d beams", k)
	}
	sources := make([]*beamSource, n)
	live := make([]*beamSource, n)
	origin := make([]int, 0, n*k)
	tokens := make([]int, 0, n*k)
	for i := range n {
		b := &beamSource{src: i, hyps: newHypotheses(k, p.LengthPenalty), beams: make([]runningBeam, k)}
		for j := range k {
			b.beams[j] = runningBeam{tokens: []int{tok.Start}}
			if j > 0 {
				b.beams[j].score = -1e9
			}
			origin, tokens = append(origin, i), append(tokens, tok.Start)
		}
		sources[i], live[i] = b, b
	}
	cands := make([]candidate, 0, 2*k)
	var top *rowTops
	for length := 1; ; length++ {
		logits, vocab, err := step(ctx, s, origin, tokens, v)
		if err != nil {
			return nil, err
		}
		if v == 0 {
			if v = vocab; v < 2 {
				return nil, fmt.Errorf("generate: beam search needs a vocabulary of at least 2 tokens, have %d", v)
			}
			top = newRowTops(n*k, 2*k, v)
		}
		scores := top.beamScores[:0]
		for _, b := range live {
			for _, r := range b.beams {
				scores = append(scores, r.score)
			}
		}
		top.compute(logits, scores, k)
		nextLive := live[:0:0]
		nextOrigin, nextTokens := make([]int, 0, len(origin)), make([]int, 0, len(tokens))
		for pos, b := range live {
			cands = cands[:0]
			for j := range k {
				cands = mergeCandidates(cands, 2*k, top.rows[pos*k+j])
			}
			next := make([]runningBeam, 0, k)
			for rank, c := range cands {
				parent := b.beams[c.beam]
				if c.token == tok.EOS {
					if rank >= k {
						continue
					}
					b.hyps.add(parent.tokens, float64(c.score), length, true)
				} else {
					t := append(make([]int, 0, length+1), parent.tokens...)
					next = append(next, runningBeam{tokens: append(t, c.token), score: c.score})
					nextOrigin = append(nextOrigin, pos*k+c.beam)
					nextTokens = append(nextTokens, c.token)
				}
				if len(next) == k {
					break
				}
			}
			if len(next) < k {
				return nil, fmt.Errorf("generate: source %d: only %d of the top %d candidates are not eos", b.src, len(next), 2*k)
			}
			b.beams = next
			b.done = b.hyps.done(float64(cands[0].score), length)
			if b.done {
				nextOrigin, nextTokens = nextOrigin[:len(nextOrigin)-k], nextTokens[:len(nextTokens)-k]
			} else {
				nextLive = append(nextLive, b)
			}
		}
		if len(nextLive) == 0 || length+1 >= p.MaxLength {
			break
		}
		live, origin, tokens = nextLive, nextOrigin, nextTokens
	}
	out := make([]hypothesis, n)
	for i, b := range sources {
		if !b.done {
			for _, r := range b.beams {
				b.hyps.add(r.tokens, float64(r.score), len(r.tokens)-1, false)
			}
		}
		if len(b.hyps.beams) == 0 {
			return nil, errors.New("generate: internal error: a source ended without hypotheses")
		}
		out[i] = b.hyps.best()
	}
	return out, nil
}

// logSoftmax writes log_softmax(x) into dst in PyTorch's order of operations: (x - max) -
// log(sum(exp(x - max))), in float32 (the sum accumulated in float64).
func logSoftmax(dst, x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	ls := float32(math.Log(sumExpShifted(x, m)))
	for i, v := range x {
		dst[i] = (v - m) - ls
	}
}

// rowTops computes the best extensions of every row of a step, rows spread over the CPUs.
type rowTops struct {
	size, vocab int
	rows        [][]candidate // per row, at most size candidates, best first
	beamScores  []float32     // per row, the beam score (filled by the caller)
	lsm         [][]float32   // per worker, a log-softmax buffer
}

func newRowTops(maxRows, size, vocab int) *rowTops {
	t := &rowTops{size: size, vocab: vocab, rows: make([][]candidate, maxRows), beamScores: make([]float32, 0, maxRows)}
	for i := range t.rows {
		t.rows[i] = make([]candidate, 0, size)
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), maxRows))
	t.lsm = make([][]float32, workers)
	for i := range t.lsm {
		t.lsm[i] = make([]float32, vocab)
	}
	return t
}

// compute fills rows[r] with the best size extensions of row r (log_softmax of its logits plus
// beamScores[r]); row r is beam r%k of its source.
func (t *rowTops) compute(logits []float32, beamScores []float32, k int) {
	n := len(beamScores)
	one := func(w, lo, hi int) {
		for r := lo; r < hi; r++ {
			logSoftmax(t.lsm[w], logits[r*t.vocab:(r+1)*t.vocab])
			t.rows[r] = topCandidates(t.rows[r][:0], t.size, r%k, t.lsm[w], beamScores[r])
		}
	}
	workers := min(len(t.lsm), n)
	if workers <= 1 {
		one(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { one(w, w*n/workers, (w+1)*n/workers) })
	}
	wg.Wait()
}

// mergeCandidates inserts the candidates of one beam (best first) into cands (at most size,
// best first). Beams are merged in increasing order and a candidate only passes strictly worse
// ones, so ties order by beam, then token: the order of top-k over the flattened beams ×
// vocabulary.
func mergeCandidates(cands []candidate, size int, beam []candidate) []candidate {
	for _, c := range beam {
		if len(cands) == size && !(c.score > cands[size-1].score) {
			break // the rest of this beam is no better
		}
		i := len(cands)
		if i < size {
			cands = append(cands, candidate{})
		} else {
			i = size - 1
		}
		for i > 0 && c.score > cands[i-1].score {
			cands[i] = cands[i-1]
			i--
		}
		cands[i] = c
	}
	return cands
}

// topCandidates merges the extensions of beam j (scores lsm[t] + beamScore) into cands, which
// holds at most size candidates sorted best first. Beams are merged in increasing order, so a
// candidate enters only if it is strictly better than the ones it passes: ties keep the lower
// beam and token.
func topCandidates(cands []candidate, size, j int, lsm []float32, beamScore float32) []candidate {
	for t, l := range lsm {
		sc := l + beamScore
		if len(cands) == size && !(sc > cands[size-1].score) {
			continue
		}
		i := len(cands)
		if i < size {
			cands = append(cands, candidate{})
		} else {
			i = size - 1
		}
		for i > 0 && sc > cands[i-1].score {
			cands[i] = cands[i-1]
			i--
		}
		cands[i] = candidate{beam: j, token: t, score: sc}
	}
	return cands
}
