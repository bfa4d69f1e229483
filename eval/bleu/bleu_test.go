package bleu

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// The corpus of sacreBLEU's README and of test/test_bleu.py in mjpost/sacrebleu: three
// hypotheses, two reference streams.
var (
	readmeHyps = []string{
		"The dog bit the man.",
		"It wasn't surprising.",
		"The man had just bitten him.",
	}
	readmeRefs = [][]string{
		{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
		{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
	}
)

// raw is sacrebleu.raw_corpus_bleu (sacrebleu/compat.py): no tokenization, floor smoothing with
// the given value, effective order.
func raw(floor float64) Options {
	return Options{Tokenizer: TokenizeNone, Smoothing: SmoothFloor(floor), EffectiveOrder: true}
}

// near reports whether got agrees with a published value to 1e-8 or to the digits printed.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestCorpusSacreBLEUVectors checks the corpus-level cases of sacreBLEU's own test suite
// (test/test_bleu.py in mjpost/sacrebleu, 2.x: test_corpus_bleu_cases, test_raw_bleu_cases,
// test_case_effective_order, test_case_offset, test_bleu_max_order) and the README examples.
func TestCorpusSacreBLEUVectors(t *testing.T) {
	none := Options{Tokenizer: TokenizeNone}
	tests := []struct {
		name  string
		opts  Options
		hyps  []string
		refs  [][]string
		scale float64 // 100 for sacreBLEU's score, 1 where the test divides by 100
		want  float64
		tol   float64
	}{
		// test_corpus_bleu_cases
		{"default settings", Options{}, readmeHyps, readmeRefs, 100, 48.530827, 1e-6},
		{"empty hypotheses are kept", Options{}, []string{"", "", ""}, readmeRefs, 100, 0, 1e-12},
		{"tokenize none", none, readmeHyps, readmeRefs, 100, 49.1919566, 1e-7},
		{"tokenize 13a", Options{Tokenizer: Tokenize13a}, readmeHyps, readmeRefs, 100, 48.530827, 1e-6},
		{"smooth none", Options{Smoothing: Smoothing{Method: None}}, readmeHyps, readmeRefs, 100, 48.530827, 1e-6},
		// test_raw_bleu_cases (raw_corpus_bleu with smooth_value 0.01; score/100)
		{"raw no match (#141)", raw(0.01), []string{"this is a test", "another test"}, [][]string{{"ref1", "ref2"}}, 1, 0, 1e-8},
		{"raw identical", raw(0.01), []string{"this is a test"}, [][]string{{"this is a test"}}, 1, 1, 1e-8},
		{"raw one word off", raw(0.01), []string{"this is a fest"}, [][]string{{"this is a test"}}, 1, 0.223606797749979, 1e-8},
		// test_case_effective_order
		{"effective order 1 token", raw(0.01), []string{"test"}, [][]string{{"a test"}}, 1, 0.3678794411714425, 1e-8},
		{"effective order 2 tokens", raw(0.01), []string{"a test"}, [][]string{{"a test"}}, 1, 1, 1e-8},
		{"effective order 3 tokens", raw(0.01), []string{"a little test"}, [][]string{{"a test"}}, 1, 0.03218297948685433, 1e-8},
		// test_case_offset: floor 0 and the default floor 0.1
		{"offset 0", raw(0), []string{"am I am a character sequence"}, [][]string{{"I am a symbol string sequence a a"}}, 1, 0, 1e-8},
		{"offset default 0.1", raw(0.1), []string{"am I am a character sequence"}, [][]string{{"I am a symbol string sequence a a"}}, 1, 0.1555722182, 1e-8},
		// test_bleu_max_order (compared as printed with 2 decimals)
		{"max order 1", Options{MaxOrder: 1}, readmeHyps, readmeRefs, 100, 77.65, 0.005},
		{"max order 2", Options{MaxOrder: 2}, readmeHyps, readmeRefs, 100, 60.50, 0.005},
		{"max order 3", Options{MaxOrder: 3}, readmeHyps, readmeRefs, 100, 53.93, 0.005},
		{"max order 4", Options{MaxOrder: 4}, readmeHyps, readmeRefs, 100, 48.53, 0.005},
		{"max order 5", Options{MaxOrder: 5}, readmeHyps, readmeRefs, 100, 46.14, 0.005},
		{"max order 6", Options{MaxOrder: 6}, readmeHyps, readmeRefs, 100, 43.28, 0.005},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.opts.Corpus(tc.hyps, tc.refs)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Score / 100 * tc.scale; !near(got, tc.want, tc.tol) {
				t.Errorf("score %.10f, want %.10f (±%g); %v", got, tc.want, tc.tol, s)
			}
		})
	}
}

// TestStatistics is test_case_statistics of test/test_bleu.py.
func TestStatistics(t *testing.T) {
	s, err := raw(0.01).Corpus([]string{"am I am a character sequence"}, [][]string{{"I am a symbol string sequence a a"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{4, 2, 1, 0}; !reflect.DeepEqual(s.Counts, want) {
		t.Errorf("counts %v, want %v", s.Counts, want)
	}
	if want := []int{6, 5, 4, 3}; !reflect.DeepEqual(s.Totals, want) {
		t.Errorf("totals %v, want %v", s.Totals, want)
	}
}

// TestCompute covers test_case_scoring and test_case_degenerate_stats of test/test_bleu.py
// (BLEU.compute_bleu from sufficient statistics; the degenerate cases use floor smoothing).
func TestCompute(t *testing.T) {
	tests := []struct {
		name           string
		smoothing      Smoothing
		correct, total []int
		sysLen, refLen int
		want           float64 // score / 100
	}{
		{"scoring", Smoothing{Method: None}, []int{9, 7, 5, 3}, []int{10, 8, 6, 4}, 11, 11, 0.8375922397},
		{"degenerate no hyp tokens", SmoothFloor(0), []int{0, 0, 0, 0}, []int{4, 4, 2, 1}, 0, 1, 0},
		{"degenerate no matches", SmoothFloor(0), []int{0, 0, 0, 0}, []int{10, 11, 12, 0}, 14, 10, 0},
		{"degenerate all zero", SmoothFloor(0), []int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 0, 0, 0},
		{"degenerate 4-gram precision 0", SmoothFloor(0), []int{6, 5, 4, 0}, []int{6, 5, 4, 3}, 6, 6, 0},
		{"degenerate all zero floor 0.1", SmoothFloor(0.1), []int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 0, 0, 0},
		{"degenerate all zero floor 0.01", SmoothFloor(0.01), []int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 1, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Options{Smoothing: tc.smoothing}.Compute(Stats{SysLen: tc.sysLen, RefLen: tc.refLen, Correct: tc.correct, Total: tc.total})
			if got := s.Score / 100; !near(got, tc.want, 1e-8) {
				t.Errorf("score %.10f, want %.10f; %v", got, tc.want, s)
			}
		})
	}
}

// TestSentenceSacreBLEUVectors checks test/test_sentence_bleu.py of mjpost/sacrebleu (issue #98
// and #141 examples; effective order on; tolerance 1e-3 as there). The intl and char tokenizer
// cases are left out: this package has only 13a and none.
func TestSentenceSacreBLEUVectors(t *testing.T) {
	const (
		ref  = "producţia de zahăr brut se exprimă în zahăr alb;"
		sys  = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"
		ref0 = "okay thanks"
		sys0 = "this is a cat"
	)
	tests := []struct {
		name      string
		smoothing Smoothing
		tok       Tokenizer
		hyp, ref  string
		want      float64
	}{
		{"exp", Smoothing{Method: Exp}, nil, sys, ref, 8.493},
		{"none", Smoothing{Method: None}, nil, sys, ref, 0},
		{"floor default", SmoothFloor(0.1), nil, sys, ref, 4.51688},
		{"floor 0.5", SmoothFloor(0.5), nil, sys, ref, 10.10},
		{"add-k default", SmoothAddK(1), nil, sys, ref, 14.882},
		{"add-k 2", SmoothAddK(2), nil, sys, ref, 21.389},
		{"exp tokenize none", Smoothing{Method: Exp}, TokenizeNone, sys, ref, 7.347},
		{"zero exp", Smoothing{Method: Exp}, nil, sys0, ref0, 0},
		{"zero none", Smoothing{Method: None}, nil, sys0, ref0, 0},
		{"zero floor", SmoothFloor(0.1), nil, sys0, ref0, 0},
		{"zero add-k", SmoothAddK(1), nil, sys0, ref0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Smoothing: tc.smoothing, Tokenizer: tc.tok, EffectiveOrder: true}
			s, err := o.Sentence(tc.hyp, []string{tc.ref})
			if err != nil {
				t.Fatal(err)
			}
			if !near(s.Score, tc.want, 1e-3) {
				t.Errorf("score %.5f, want %.5f; %v", s.Score, tc.want, s)
			}
		})
	}
}

// TestString checks the printed line against sacreBLEU's README (the default settings, and the
// variable number of references with the first reference of the first stream left out).
func TestString(t *testing.T) {
	varRefs := [][]string{
		{"", "It was not unexpected.", "The man bit him first."},
		readmeRefs[1],
	}
	tests := []struct {
		name string
		refs [][]string
		want string
	}{
		{"README", readmeRefs, "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)"},
		{"README variable refs", varRefs, "BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Corpus(readmeHyps, tc.refs)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if got := fmt.Sprint(s); got != tc.want {
				t.Errorf("fmt.Sprint gives %s", got)
			}
		})
	}
}

// TestClosestRefLength checks the reference length rule: the closest length to the hypothesis,
// the shorter one on a tie.
func TestClosestRefLength(t *testing.T) {
	tests := []struct {
		name string
		hyp  string
		refs []string
		want int
	}{
		{"exact", "a b c", []string{"a b", "a b c", "a b c d e"}, 3},
		{"tie goes to shorter", "a b c", []string{"a b c d", "a b"}, 2},
		{"tie goes to shorter, other order", "a b c", []string{"a b", "a b c d"}, 2},
		{"longer only", "a", []string{"a b c", "a b c d"}, 3},
		{"empty reference skipped", "a b", []string{"", "a b c d"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Options{Tokenizer: TokenizeNone}.Sentence(tc.hyp, tc.refs)
			if err != nil {
				t.Fatal(err)
			}
			if s.RefLen != tc.want {
				t.Errorf("ref_len %d, want %d", s.RefLen, tc.want)
			}
		})
	}
}

// TestMultipleReferencesClip checks that a hypothesis n-gram is clipped at its largest count in
// any single reference, not at the sum over references.
func TestMultipleReferencesClip(t *testing.T) {
	s, err := Options{Tokenizer: TokenizeNone}.Sentence("the the the the", []string{"the cat", "the the dog"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[0] != 2 || s.Totals[0] != 4 {
		t.Errorf("unigram matches %d/%d, want 2/4", s.Counts[0], s.Totals[0])
	}
	if s.Counts[1] != 1 || s.Totals[1] != 3 {
		t.Errorf("bigram matches %d/%d, want 1/3", s.Counts[1], s.Totals[1])
	}
}

func TestLowercase(t *testing.T) {
	hyps := []string{"THE DOG BIT THE MAN."}
	refs := [][]string{{"the dog bit the man."}}
	mixed, err := Corpus(hyps, refs)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := Options{Lowercase: true}.Corpus(hyps, refs)
	if err != nil {
		t.Fatal(err)
	}
	if !near(lc.Score, 100, 1e-9) || mixed.Score > 50 {
		t.Errorf("lowercased %.2f (want 100), mixed case %.2f (want under 50)", lc.Score, mixed.Score)
	}
}

// TestTrailingWhitespace checks that segments are right-stripped before tokenization, as
// sacreBLEU does: a trailing "-\n" is then a plain hyphen, not a line join.
func TestTrailingWhitespace(t *testing.T) {
	s, err := Options{}.Sentence("well-\n", []string{"well -"})
	if err != nil {
		t.Fatal(err)
	}
	if s.SysLen != 1 {
		t.Errorf("hyp_len %d, want 1 (the token \"well-\")", s.SysLen)
	}
}

func TestCorpusErrors(t *testing.T) {
	tests := []struct {
		name string
		hyps []string
		refs [][]string
		want []string
	}{
		{"empty corpus", nil, [][]string{{}}, []string{"corpus is empty"}},
		{"no reference streams", []string{"a"}, nil, []string{"no reference streams"}},
		{"short stream", []string{"a", "b"}, [][]string{{"a", "b"}, {"a"}}, []string{"reference stream 1 has 1 lines", "hypotheses 2"}},
		{"long stream", []string{"a"}, [][]string{{"a", "b"}}, []string{"reference stream 0 has 2 lines", "hypotheses 1"}},
		{"segment without reference", []string{"a", "b"}, [][]string{{"a", ""}, {"a", ""}}, []string{"segment 1 (line 2) has no reference"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Corpus(tc.hyps, tc.refs)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestDegenerateCorpora covers corpora where some n-gram orders have no n-grams at all.
func TestDegenerateCorpora(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		hyps      []string
		refs      [][]string
		wantScore float64
		wantBP    float64
	}{
		// One-word hypotheses: no bigrams, so precisions 2-4 are 0 and so is BLEU.
		{"one-word hypotheses", Options{}, []string{"yes", "no"}, [][]string{{"yes", "no"}}, 0, 1},
		// With effective order the missing orders are left out: unigram precision 100%.
		{"one-word hypotheses, effective order", Options{EffectiveOrder: true}, []string{"yes", "no"}, [][]string{{"yes", "no"}}, 100, 1},
		// Empty hypotheses against non-empty references: BP 0, score 0.
		{"all hypotheses empty", Options{}, []string{"", ""}, [][]string{{"a b", "c"}}, 0, 0},
		// Whitespace-only hypotheses are empty after tokenization.
		{"whitespace hypotheses", Options{}, []string{" \t", "\n"}, [][]string{{"a", "b"}}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.opts.Corpus(tc.hyps, tc.refs)
			if err != nil {
				t.Fatal(err)
			}
			if !near(s.Score, tc.wantScore, 1e-9) || !near(s.BP, tc.wantBP, 1e-12) {
				t.Errorf("score %.4f BP %.4f, want %.4f and %.4f; %v", s.Score, s.BP, tc.wantScore, tc.wantBP, s)
			}
		})
	}
}

func TestMethodString(t *testing.T) {
	for m, want := range map[Method]string{Exp: "exp", None: "none", Floor: "floor", AddK: "add-k", Method(9): "Method(9)"} {
		if got := m.String(); got != want {
			t.Errorf("%d: %q, want %q", int(m), got, want)
		}
	}
}

func BenchmarkCorpus(b *testing.B) {
	hyps := make([]string, 3000)
	refs := make([]string, 3000)
	for i := range hyps {
		hyps[i] = fmt.Sprintf("The committee approved %d.5 million euros on %d May, more than expected.", i, i%28+1)
		refs[i] = fmt.Sprintf("On %d May the committee approved %d.5 million euros, more than it had expected.", i%28+1, i)
	}
	for b.Loop() {
		if _, err := Corpus(hyps, [][]string{refs}); err != nil {
			b.Fatal(err)
		}
	}
}
