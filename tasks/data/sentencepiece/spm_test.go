package sentencepiece

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// spmConfig is one way of training a model with spm_train.
type spmConfig struct {
	name  string
	vocab int
	flags []string
	// normalizeComparable: spm_normalize applies the NormalizerSpec alone, without the
	// user-defined symbols and treat_whitespace_as_suffix the encoder adds.
	normalizeComparable bool
}

var spmConfigs = []spmConfig{
	{name: "nmt_nfkc", vocab: 4000, normalizeComparable: true},
	{name: "identity", vocab: 2000, flags: []string{"--normalization_rule_name=identity"}, normalizeComparable: true},
	{name: "nfkc_cf", vocab: 1000, flags: []string{"--normalization_rule_name=nmt_nfkc_cf"}, normalizeComparable: true},
	{name: "byte_fallback", vocab: 3000, flags: []string{"--byte_fallback=true", "--character_coverage=0.999"}, normalizeComparable: true},
	{name: "user_defined", vocab: 3000, flags: []string{"--user_defined_symbols=<sep>,[MASK],<x>,<xy>,<xyz>,@@,ﬁ,foo"}},
	{name: "split_digits", vocab: 1000, flags: []string{"--split_digits=true", "--control_symbols=<ctl>,<2de>"}, normalizeComparable: true},
	{name: "t5_ids", vocab: 8000, flags: []string{"--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1"}, normalizeComparable: true},
	{name: "keep_whitespace", vocab: 2000, flags: []string{"--remove_extra_whitespaces=false", "--normalization_rule_name=identity"}, normalizeComparable: true},
	{name: "no_dummy_prefix", vocab: 2000, flags: []string{"--add_dummy_prefix=false", "--byte_fallback=true"}, normalizeComparable: true},
	{name: "whitespace_suffix", vocab: 2000, flags: []string{"--treat_whitespace_as_suffix=true"}},
}

// trainSPM trains a Unigram model with spm_train on the corpus and returns its path.
func trainSPM(t testing.TB, dir string, train []string, vocab int, flags ...string) string {
	t.Helper()
	input := writeLines(t, dir, "train.txt", train)
	prefix := filepath.Join(dir, "m")
	args := append([]string{
		"--input=" + input, "--model_prefix=" + prefix, "--vocab_size=" + strconv.Itoa(vocab),
		"--hard_vocab_limit=false", "--num_threads=2", "--shuffle_input_sentence=false",
		"--minloglevel=2",
	}, flags...)
	runSPM(t, "spm_train", args...)
	return prefix + ".model"
}

// TestMatchesSentencepiece trains models in several configurations with spm_train and checks
// that Encode, EncodePieces, Normalize and Decode give exactly what spm_encode,
// spm_normalize and spm_decode give, line for line.
func TestMatchesSentencepiece(t *testing.T) {
	spmTool(t, "spm_train")
	c := loadCorpus(t)
	for _, cfg := range spmConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			modelPath := trainSPM(t, dir, c.train, cfg.vocab, cfg.flags...)
			m, err := Load(modelPath)
			if err != nil {
				t.Fatal(err)
			}
			input := writeLines(t, dir, "eval.txt", c.eval)
			n := len(c.eval)

			// Ids.
			wantIDs := outputLines(t, runSPM(t, "spm_encode", "--model="+modelPath, "--output_format=id", "--input="+input), n, "spm_encode")
			stats := compareLines(t, "Encode", c.eval, wantIDs, func(s string) string { return joinInts(m.Encode(s)) })

			// Pieces.
			wantPieces := outputLines(t, runSPM(t, "spm_encode", "--model="+modelPath, "--output_format=piece", "--input="+input), n, "spm_encode")
			compareLines(t, "EncodePieces", c.eval, wantPieces, func(s string) string { return strings.Join(m.EncodePieces(s), " ") })

			// Normalization alone.
			if cfg.normalizeComparable {
				wantNorm := outputLines(t, runSPM(t, "spm_normalize", "--model="+modelPath, "--use_internal_normalization", "--input="+input), n, "spm_normalize")
				compareLines(t, "Normalize", c.eval, wantNorm, m.Normalize)
			}

			// Decoding the reference ids, and random id sequences.
			idLines := append([]string(nil), wantIDs...)
			idLines = append(idLines, randomIDLines(m, 500)...)
			idFile := writeLines(t, dir, "ids.txt", idLines)
			wantText := outputLines(t, runSPM(t, "spm_decode", "--model="+modelPath, "--input_format=id", "--input="+idFile), len(idLines), "spm_decode")
			compareLines(t, "Decode", idLines, wantText, func(s string) string { return m.Decode(parseInts(t, s)) })

			// The accessors follow the ids spm_train was given (-1: no such piece).
			ts := m.TrainerSpec()
			for _, a := range []struct {
				name      string
				got, want int
			}{{"UnkID", m.UnkID(), ts.UnkID}, {"BOSID", m.BOSID(), ts.BOSID}, {"EOSID", m.EOSID(), ts.EOSID}, {"PadID", m.PadID(), ts.PadID}} {
				if a.got != a.want {
					t.Errorf("%s() = %d, spm_train was given %d", a.name, a.got, a.want)
				}
			}

			// The lines must have exercised what the configuration is about.
			counts := map[PieceType]int{}
			for _, l := range wantIDs {
				for _, id := range parseInts(t, l) {
					p, _ := m.Piece(id)
					counts[p.Type]++
				}
			}
			unk, bytePieces := counts[Unknown], counts[Byte]
			if ts.ByteFallback && (bytePieces == 0 || unk != 0) {
				t.Errorf("byte_fallback model: %d byte pieces and %d <unk> in the output; want some and none", bytePieces, unk)
			}
			if !ts.ByteFallback && unk == 0 {
				t.Errorf("no <unk> in the output: the unknown-character path went untested")
			}
			if len(ts.UserDefinedSymbols) > 0 && counts[UserDefined] == 0 {
				t.Errorf("no user-defined piece in the output")
			}
			t.Logf("%s: vocab %d; %d lines (%d tokens, %d <unk>, %d byte pieces) encoded, "+
				"%d id lines decoded, compared with spm_encode/spm_normalize/spm_decode",
				cfg.name, m.VocabSize(), n, stats.tokens, unk, bytePieces, len(idLines))
		})
	}
}

type compareStats struct{ tokens int }

// compareLines checks got(inputs[i]) == want[i] for every line and reports the first few
// differences with the share of equal lines.
func compareLines(t *testing.T, what string, inputs, want []string, got func(string) string) compareStats {
	t.Helper()
	var st compareStats
	bad := 0
	for i, in := range inputs {
		g := got(in)
		st.tokens += len(strings.Fields(want[i]))
		if g != want[i] {
			bad++
			if bad <= 5 {
				t.Errorf("%s line %d %q:\n got  %q\n want %q", what, i, in, g, want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d lines differ (%.3f%% equal)", what, bad, len(inputs),
			100*float64(len(inputs)-bad)/float64(len(inputs)))
	}
	return st
}

// randomIDLines makes space-separated id sequences mixing all piece types. Byte pieces for
// newline and carriage return are left out: they would split spm_decode's output lines.
func randomIDLines(m *Model, n int) []string {
	r := rand.New(rand.NewPCG(1, uint64(m.VocabSize())))
	lines := make([]string, 0, n)
	for len(lines) < n {
		k := 1 + r.IntN(12)
		ids := make([]int, 0, k)
		for len(ids) < k {
			id := r.IntN(m.VocabSize())
			if r.IntN(4) == 0 { // favour the low ids: specials and byte pieces
				id = r.IntN(min(300, m.VocabSize()))
			}
			if p := m.IDToPiece(id); p == "<0x0A>" || p == "<0x0D>" {
				continue
			}
			ids = append(ids, id)
		}
		lines = append(lines, joinInts(ids))
	}
	return lines
}

func joinInts(ids []int) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(id))
	}
	return b.String()
}

func parseInts(t testing.TB, s string) []int {
	t.Helper()
	var ids []int
	for _, f := range strings.Fields(s) {
		id, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("bad id %q in %q", f, s)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestLoadRejectsOtherModelTypes trains BPE, word and char models and checks that Load
// refuses them with an error naming the file and the type.
func TestLoadRejectsOtherModelTypes(t *testing.T) {
	spmTool(t, "spm_train")
	c := loadCorpus(t)
	train := spread(c.train, 2000)
	for _, typ := range []ModelType{BPE, Word, Char} {
		t.Run(typ.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := trainSPM(t, dir, train, 500, "--model_type="+typ.String())
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) of a %s model: no error", path, typ)
			}
			if !errors.Is(err, errNotUnigram) || !strings.Contains(err.Error(), path) ||
				!strings.Contains(err.Error(), "--model_type="+typ.String()) {
				t.Errorf("error %q should name the file and the model type", err)
			}
		})
	}
}
