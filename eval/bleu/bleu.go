// Package bleu computes corpus BLEU exactly as sacreBLEU (2.x) does: the same tokenizer (13a by
// default), n-gram clipping against several references, closest reference length (ties go to
// the shorter reference), brevity penalty, the smoothing methods exp (default), floor, add-k and
// none, and effective order. Corpus(hyps, refs) is sacrebleu.corpus_bleu(hyps, refs) with its
// defaults, and Score.String prints the line sacreBLEU prints.
//
// Differences from sacreBLEU, all outside its defaults or in error handling:
//   - reference streams shorter or longer than the hypotheses are an error (sacreBLEU's zip
//     silently drops the extra lines);
//   - an empty corpus is an error (sacreBLEU fails with an IndexError);
//   - Score.Counts and Score.Totals are the plain match counts; with add-k smoothing sacreBLEU
//     returns them with k added from the bigrams on (the precisions and the score agree);
//   - Lowercase uses Go's strings.ToLower, which differs from Python's str.lower for a handful
//     of characters that lowercase to two (such as U+0130);
//   - there is no warning for hypotheses that look tokenized, and only the tokenizers 13a and
//     none (sacreBLEU also has intl, char, zh, ja-mecab, ko-mecab, spm, flores101/200).
package bleu

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// MaxNgramOrder is sacreBLEU's default maximum n-gram order.
const MaxNgramOrder = 4

// Method is a smoothing method for n-gram precisions without matches (Chen and Cherry, 2014,
// "A Systematic Comparison of Smoothing Techniques for Sentence-Level BLEU").
type Method int

const (
	// Exp is sacreBLEU's default, the NIST method of mteval-v13a (method 3): the k-th precision
	// without matches becomes 1/(2^k * total).
	Exp Method = iota
	// None applies no smoothing: a precision without matches is 0 and so is the score.
	None
	// Floor (method 1) uses Value/total for a precision without matches (sacreBLEU default 0.1).
	Floor
	// AddK (method 2) adds Value to the matches and the totals of every order from 2 up
	// (sacreBLEU default 1).
	AddK
)

// String returns sacreBLEU's name of the method.
func (m Method) String() string {
	switch m {
	case Exp:
		return "exp"
	case None:
		return "none"
	case Floor:
		return "floor"
	case AddK:
		return "add-k"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// Smoothing is a smoothing method with its value (used by Floor and AddK only).
type Smoothing struct {
	Method Method
	Value  float64
}

// SmoothFloor returns floor smoothing with value v (sacreBLEU's default value is 0.1).
func SmoothFloor(v float64) Smoothing { return Smoothing{Method: Floor, Value: v} }

// SmoothAddK returns add-k smoothing with k (sacreBLEU's default k is 1).
func SmoothAddK(k float64) Smoothing { return Smoothing{Method: AddK, Value: k} }

// Options are the settings of sacreBLEU's BLEU metric. The zero value is sacreBLEU's default:
// tokenizer 13a, exp smoothing, mixed case, maximum order 4, no effective order.
type Options struct {
	// Tokenizer tokenizes every segment; nil means Tokenize13a.
	Tokenizer Tokenizer
	// Smoothing is the smoothing method; the zero value is Exp.
	Smoothing Smoothing
	// Lowercase lowercases hypotheses and references first (sacreBLEU's lowercase / -lc).
	Lowercase bool
	// MaxOrder is the maximum n-gram order; 0 means MaxNgramOrder (4).
	MaxOrder int
	// EffectiveOrder stops at the first n-gram order with no n-grams in the hypotheses instead
	// of counting its precision as 0 (sacreBLEU's effective_order, meant for sentence BLEU).
	EffectiveOrder bool
}

// Score is a BLEU score with its sufficient statistics, as sacreBLEU's BLEUScore.
type Score struct {
	// Score is BLEU on sacreBLEU's 0–100 scale.
	Score float64
	// Counts[n-1] is the number of hypothesis n-grams that match a reference (clipped).
	Counts []int
	// Totals[n-1] is the number of hypothesis n-grams.
	Totals []int
	// Precisions[n-1] is the (smoothed) n-gram precision in percent.
	Precisions []float64
	// BP is the brevity penalty.
	BP float64
	// SysLen is the number of hypothesis tokens; RefLen the sum of the closest reference lengths.
	SysLen, RefLen int
}

// Ratio is SysLen/RefLen, or 0 when RefLen is 0 (as sacreBLEU prints it).
func (s Score) Ratio() float64 {
	if s.RefLen == 0 {
		return 0
	}
	return float64(s.SysLen) / float64(s.RefLen)
}

// String formats the score as sacreBLEU prints it, e.g.
// "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)".
func (s Score) String() string { return s.Format(2) }

// Format is String with width decimals for the score (sacreBLEU's --width, default 2).
func (s Score) Format(width int) string {
	prec := make([]string, len(s.Precisions))
	for i, p := range s.Precisions {
		prec[i] = fmt.Sprintf("%.1f", p)
	}
	return fmt.Sprintf("BLEU = %.*f %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		width, s.Score, strings.Join(prec, "/"), s.BP, s.Ratio(), s.SysLen, s.RefLen)
}

// Stats are BLEU's sufficient statistics, summed over segments.
type Stats struct {
	SysLen, RefLen int
	// Correct[n-1] and Total[n-1] are the matched and the hypothesis n-grams of order n.
	Correct, Total []int
}

// Corpus is sacrebleu.corpus_bleu(hyps, refs) with sacreBLEU's defaults: refs holds one or more
// reference streams, each with one line per hypothesis. An empty reference line means that
// segment has one reference fewer (as in sacreBLEU); a segment without any reference is an
// error.
func Corpus(hyps []string, refs [][]string) (Score, error) {
	return Options{}.Corpus(hyps, refs)
}

// Corpus scores hypotheses against reference streams with the options o.
func (o Options) Corpus(hyps []string, refs [][]string) (Score, error) {
	st, err := o.Stats(hyps, refs)
	if err != nil {
		return Score{}, err
	}
	return o.Compute(st), nil
}

// Sentence scores one hypothesis against its references (sacreBLEU's sentence_score). sacreBLEU
// recommends EffectiveOrder for sentence BLEU; o is used as given.
func (o Options) Sentence(hyp string, refs []string) (Score, error) {
	streams := make([][]string, len(refs))
	for i, r := range refs {
		streams[i] = []string{r}
	}
	return o.Corpus([]string{hyp}, streams)
}

func (o Options) order() int {
	if o.MaxOrder > 0 {
		return o.MaxOrder
	}
	return MaxNgramOrder
}

func (o Options) preprocess(s string) string {
	if o.Lowercase {
		s = strings.ToLower(s)
	}
	tok := o.Tokenizer
	if tok == nil {
		tok = Tokenize13a
	}
	return tok(pyRstrip(s))
}

// Stats tokenizes the corpus and sums the segment statistics.
func (o Options) Stats(hyps []string, refs [][]string) (Stats, error) {
	if len(hyps) == 0 {
		return Stats{}, errors.New("bleu: no hypotheses: the corpus is empty")
	}
	if len(refs) == 0 {
		return Stats{}, errors.New("bleu: no reference streams: pass at least one reference per hypothesis")
	}
	for i, r := range refs {
		if len(r) != len(hyps) {
			return Stats{}, fmt.Errorf("bleu: reference stream %d has %d lines, the hypotheses %d: every stream needs one line per hypothesis", i, len(r), len(hyps))
		}
	}
	n := o.order()
	st := Stats{Correct: make([]int, n), Total: make([]int, n)}
	refNgrams := map[string]int{}
	var keyBuf []byte
	for i, h := range hyps {
		clear(refNgrams)
		closest, closestDiff, nrefs := 0, -1, 0
		hypTokens := pyFields(o.preprocess(h))
		for _, stream := range refs {
			if stream[i] == "" {
				continue
			}
			nrefs++
			toks := pyFields(o.preprocess(stream[i]))
			if d := abs(len(hypTokens) - len(toks)); closestDiff < 0 || d < closestDiff || (d == closestDiff && len(toks) < closest) {
				closest, closestDiff = len(toks), d
			}
			for k, c := range countNgrams(toks, n, &keyBuf) {
				if c > refNgrams[k] {
					refNgrams[k] = c
				}
			}
		}
		if nrefs == 0 {
			return Stats{}, fmt.Errorf("bleu: segment %d (line %d) has no reference: every reference stream is empty there", i, i+1)
		}
		st.SysLen += len(hypTokens)
		st.RefLen += closest
		for k, c := range countNgrams(hypTokens, n, &keyBuf) {
			order := strings.Count(k, " ") + 1
			st.Total[order-1] += c
			st.Correct[order-1] += min(c, refNgrams[k])
		}
	}
	return st, nil
}

// countNgrams counts the n-grams of orders 1..maxOrder, each keyed by its tokens joined with
// single spaces (tokens never contain whitespace).
func countNgrams(toks []string, maxOrder int, buf *[]byte) map[string]int {
	m := make(map[string]int, len(toks)*maxOrder)
	for n := 1; n <= maxOrder; n++ {
		for i := 0; i+n <= len(toks); i++ {
			b := (*buf)[:0]
			for j := i; j < i+n; j++ {
				if j > i {
					b = append(b, ' ')
				}
				b = append(b, toks[j]...)
			}
			*buf = b
			m[string(b)]++
		}
	}
	return m
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// myLog is sacreBLEU's my_log: the natural logarithm, with log(0) taken as -9999999999.
func myLog(x float64) float64 {
	if x == 0 {
		return -9999999999
	}
	return math.Log(x)
}

// Compute turns sufficient statistics into a score (sacreBLEU's BLEU.compute_bleu with the
// options' smoothing, effective order and maximum order; len(st.Correct) must be that order).
func (o Options) Compute(st Stats) Score {
	n := o.order()
	s := Score{
		Counts:     append([]int(nil), st.Correct...),
		Totals:     append([]int(nil), st.Total...),
		Precisions: make([]float64, n),
		SysLen:     st.SysLen,
		RefLen:     st.RefLen,
		BP:         1,
	}
	for len(s.Counts) < n {
		s.Counts = append(s.Counts, 0)
	}
	for len(s.Totals) < n {
		s.Totals = append(s.Totals, 0)
	}
	if st.SysLen < st.RefLen {
		if st.SysLen > 0 {
			s.BP = math.Exp(1 - float64(st.RefLen)/float64(st.SysLen))
		} else {
			s.BP = 0
		}
	}
	anyMatch := false
	for _, c := range s.Counts[:n] {
		anyMatch = anyMatch || c != 0
	}
	if !anyMatch {
		return s // sacreBLEU returns 0 when nothing matches, whatever the smoothing
	}
	smoothMteval := 1.0
	effOrder := n
	for k := 1; k <= n; k++ {
		correct, total := float64(s.Counts[k-1]), float64(s.Totals[k-1])
		if o.Smoothing.Method == AddK && k > 1 {
			correct += o.Smoothing.Value
			total += o.Smoothing.Value
		}
		if total == 0 {
			break
		}
		if o.EffectiveOrder {
			effOrder = k
		}
		switch {
		case correct != 0:
			s.Precisions[k-1] = 100 * correct / total
		case o.Smoothing.Method == Exp:
			smoothMteval *= 2
			s.Precisions[k-1] = 100 / (smoothMteval * total)
		case o.Smoothing.Method == Floor:
			s.Precisions[k-1] = 100 * o.Smoothing.Value / total
		}
	}
	sum := 0.0
	for _, p := range s.Precisions[:effOrder] {
		sum += myLog(p)
	}
	s.Score = s.BP * math.Exp(sum/float64(effOrder))
	return s
}
