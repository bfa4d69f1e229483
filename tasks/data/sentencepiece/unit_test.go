package sentencepiece

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDartsLongestPrefix(t *testing.T) {
	trie, err := newDartsTrie(buildDarts(map[string]int32{"a": 1, "ab": 2, "abcd": 3, "b": 4, "ﬁ": 5}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in         string
		maxResults int
		length     int
		value      int32
		found      bool
	}{
		{"", 32, 0, 0, false},
		{"x", 32, 0, 0, false},
		{"a", 32, 1, 1, true},
		{"abc", 32, 2, 2, true}, // "abc" is not a key, "ab" is the longest
		{"abcd", 32, 4, 3, true},
		{"abcde", 32, 4, 3, true},
		{"abcd", 1, 1, 1, true}, // only the first match counts
		{"abcd", 2, 2, 2, true},
		{"ba", 32, 1, 4, true},
		{"ﬁne", 32, 3, 5, true},
		{"\xef\xac", 32, 0, 0, false}, // a prefix of a key only
		{"\x00a", 32, 0, 0, false},
	}
	for _, tc := range tests {
		l, v, ok := trie.longestPrefix(tc.in, tc.maxResults)
		if l != tc.length || v != tc.value || ok != tc.found {
			t.Errorf("longestPrefix(%q, %d) = %d, %d, %v; want %d, %d, %v", tc.in, tc.maxResults, l, v, ok, tc.length, tc.value, tc.found)
		}
	}
}

func TestDartsRejectsBadSizes(t *testing.T) {
	for _, n := range []int{0, 3, 5} {
		if _, err := newDartsTrie(make([]byte, n)); err == nil {
			t.Errorf("newDartsTrie of %d bytes: no error", n)
		}
	}
}

func TestByteTrie(t *testing.T) {
	keys := []trieKey{{"▁the", 7}, {"▁t", 3}, {"he", 9}, {"h", 1}, {"e", 2}, {"\xff", 4}}
	trie, err := buildByteTrie(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if got := trie.lookup(k.key); got != k.value {
			t.Errorf("lookup(%q) = %d, want %d", k.key, got, k.value)
		}
	}
	for _, missing := range []string{"", "▁", "▁th", "x", "hee", "\xfe"} {
		if got := trie.lookup(missing); got != -1 {
			t.Errorf("lookup(%q) = %d, want -1", missing, got)
		}
	}
	prefixes := []struct {
		in   string
		max  int
		want int
	}{{"▁there", 64, len("▁the")}, {"▁there", 1, len("▁t")}, {"hex", 64, 2}, {"x", 64, 0}}
	for _, p := range prefixes {
		if got := trie.longestPrefix(p.in, p.max); got != p.want {
			t.Errorf("longestPrefix(%q, %d) = %d, want %d", p.in, p.max, got, p.want)
		}
	}
	for _, bad := range [][]trieKey{{{"a", 1}, {"a", 2}}, {{"", 1}}} {
		if _, err := buildByteTrie(bad); err == nil {
			t.Errorf("buildByteTrie(%v): no error", bad)
		}
	}
}

// TestByteTrieRandom checks lookups of many random keys, which exercises the placement of
// nodes with many children.
func TestByteTrieRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	want := map[string]int32{}
	var keys []trieKey
	for len(keys) < 5000 {
		b := make([]byte, 1+r.IntN(6))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if _, dup := want[string(b)]; dup {
			continue
		}
		want[string(b)] = int32(len(keys))
		keys = append(keys, trieKey{string(b), int32(len(keys))})
	}
	trie, err := buildByteTrie(keys)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got := trie.lookup(k); got != v {
			t.Fatalf("lookup(%q) = %d, want %d", k, got, v)
		}
	}
	for i := 0; i < 5000; i++ {
		k := string([]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		v, ok := want[k]
		if !ok {
			v = -1
		}
		if got := trie.lookup(k); got != v {
			t.Fatalf("lookup(%q) = %d, want %d", k, got, v)
		}
	}
}

func TestNormalize(t *testing.T) {
	charsmap := buildCharsmap(map[string]string{
		"ﬁ": "fi", "Ａ": "A", "\t": " ", "\u00ad": "", "q": "Q", "qu": "KW", "\u3000": " ",
	})
	users, err := buildByteTrie([]trieKey{{"<sep>", 1}, {"ﬁx", 2}})
	if err != nil {
		t.Fatal(err)
	}
	spec := NormalizerSpec{PrecompiledCharsmap: charsmap, AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true}
	mod := func(f func(s *NormalizerSpec)) NormalizerSpec { s := spec; f(&s); return s }
	tests := []struct {
		name     string
		spec     NormalizerSpec
		suffixWS bool
		users    *byteTrie
		in, want string
	}{
		{"empty", spec, false, nil, "", ""},
		{"only spaces", spec, false, nil, " \t \u3000 ", ""},
		{"ligature", spec, false, nil, "ﬁne", "▁fine"},
		{"longest rule wins", spec, false, nil, "qua q", "▁KWa▁Q"},
		{"spaces squeezed and trimmed", spec, false, nil, "\tＡ\t\tb\t", "▁A▁b"},
		{"deleted char", spec, false, nil, "a\u00adb", "▁ab"},
		{"deleted char before space", spec, false, nil, "\u00ad a", "▁a"},
		{"malformed utf-8", spec, false, nil, "a\xffb\xe2\x82", "▁a\uFFFDb\uFFFD\uFFFD"},
		{"real U+FFFD kept", spec, false, nil, "\uFFFD", "▁\uFFFD"},
		{"meta symbol in input", spec, false, nil, "▁x", "▁▁x"},
		{"user symbols not normalized", spec, false, users, "ﬁx<sep>ﬁ", "▁ﬁx<sep>fi"},
		{"no charsmap", mod(func(s *NormalizerSpec) { s.PrecompiledCharsmap = nil }), false, nil, "ﬁ\tx", "▁ﬁ\tx"},
		{"no escaping", mod(func(s *NormalizerSpec) { s.EscapeWhitespaces = false }), false, nil, " a  b ", " a b"},
		{"no dummy prefix", mod(func(s *NormalizerSpec) { s.AddDummyPrefix = false }), false, nil, "a b", "a▁b"},
		{"keep extra spaces", mod(func(s *NormalizerSpec) { s.RemoveExtraWhitespaces = false }), false, nil, " a\t b ", "▁▁a▁▁b▁"},
		{"whitespace as suffix", spec, true, nil, " a  b ", "a▁b▁"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := newNormalizer(tc.spec, tc.suffixWS, tc.users)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(n.normalize(nil, tc.in)); got != tc.want {
				t.Errorf("normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizerRejectsBrokenCharsmap(t *testing.T) {
	good := buildCharsmap(map[string]string{"a": "b"})
	tests := map[string][]byte{
		"too short":        {1, 0},
		"trie size beyond": append([]byte{0xff, 0xff, 0, 0}, good[4:]...),
		"odd trie size":    append([]byte{5, 0, 0, 0}, good[4:]...),
	}
	for name, blob := range tests {
		if _, err := newNormalizer(NormalizerSpec{PrecompiledCharsmap: blob}, false, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseReadsFields(t *testing.T) {
	charsmap := buildCharsmap(map[string]string{"Ａ": "A"})
	trainer := protoMsg(nil).varint(fTrainerModelType, int64(Unigram)).varint(fTrainerVocabSize, 12).
		varint(fTrainerUnkID, 0).varint(fTrainerBOSID, 1).varint(fTrainerEOSID, 2).varint(fTrainerPadID, -1).
		varint(fTrainerSplitDigits, 1).str(fTrainerUserDefinedSymbols, "<sep>").str(fTrainerUnkSurface, "<?>").
		varint(999, 5) // an unknown field is skipped
	norm := protoMsg(nil).str(fNormName, "nmt_nfkc").str(fNormCharsmap, string(charsmap)).varint(fNormAddDummyPrefix, 0)
	m, err := Parse(buildModel(smallPieces, trainer, norm))
	if err != nil {
		t.Fatal(err)
	}
	ts, ns := m.TrainerSpec(), m.NormalizerSpec()
	if ts.VocabSize != 12 || ts.PadID != -1 || !ts.SplitDigits || ts.UnkSurface != "<?>" || !reflect.DeepEqual(ts.UserDefinedSymbols, []string{"<sep>"}) {
		t.Errorf("trainer spec %+v", ts)
	}
	if ns.Name != "nmt_nfkc" || ns.AddDummyPrefix || !ns.RemoveExtraWhitespaces || !ns.EscapeWhitespaces || len(ns.PrecompiledCharsmap) != len(charsmap) {
		t.Errorf("normalizer spec %+v", ns)
	}
	if m.VocabSize() != len(smallPieces) || m.UnkID() != 0 || m.BOSID() != 1 || m.EOSID() != 2 || m.PadID() != -1 {
		t.Errorf("VocabSize %d UnkID %d BOSID %d EOSID %d PadID %d", m.VocabSize(), m.UnkID(), m.BOSID(), m.EOSID(), m.PadID())
	}
	for id, p := range smallPieces {
		got, ok := m.Piece(id)
		if !ok || got.Text != p.text || got.Score != p.score || got.Type != p.typ {
			t.Errorf("Piece(%d) = %+v, want %+v", id, got, p)
		}
		if m.PieceToID(p.text) != id || m.IDToPiece(id) != p.text {
			t.Errorf("PieceToID(%q) = %d, IDToPiece(%d) = %q", p.text, m.PieceToID(p.text), id, m.IDToPiece(id))
		}
	}
	if m.PieceToID("not a piece") != 0 || m.IDToPiece(-1) != "" || m.IDToPiece(len(smallPieces)) != "" {
		t.Error("unknown pieces and ids")
	}
	if got := m.Normalize("Ａ b"); got != "A▁b" {
		t.Errorf("Normalize = %q", got)
	}
}

func TestParseDefaults(t *testing.T) {
	m, err := Parse(buildModel(smallPieces, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := defaultTrainerSpec()
	if got := m.TrainerSpec(); !reflect.DeepEqual(got, want) {
		t.Errorf("trainer spec %+v, want the defaults %+v", got, want)
	}
	if got := m.NormalizerSpec(); !reflect.DeepEqual(got, defaultNormalizerSpec()) {
		t.Errorf("normalizer spec %+v", got)
	}
}

// TestSpecialIDsFollowPieces checks that the accessors report -1 for pieces that are
// missing or of the wrong type, as SentencePieceProcessor does.
func TestSpecialIDsFollowPieces(t *testing.T) {
	pieces := []testPiece{{"<pad>", 0, Control}, {"</s>", 0, Control}, {"<unk>", 0, Unknown}, {"<s>", -1, Normal}, {"x", -1, Normal}}
	m, err := Parse(buildModel(pieces, protoMsg(nil).varint(fTrainerPadID, 0).varint(fTrainerEOSID, 1).varint(fTrainerUnkID, 2).varint(fTrainerBOSID, -1), nil))
	if err != nil {
		t.Fatal(err)
	}
	if m.PadID() != 0 || m.EOSID() != 1 || m.UnkID() != 2 || m.BOSID() != -1 {
		t.Errorf("PadID %d EOSID %d UnkID %d BOSID %d; want 0 1 2 -1", m.PadID(), m.EOSID(), m.UnkID(), m.BOSID())
	}
}

func TestParseErrors(t *testing.T) {
	unigram := protoMsg(nil).varint(fTrainerModelType, int64(Unigram))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no pieces"},
		{"text", []byte("this is not a model\n"), "not a sentencepiece model"},
		{"truncated", buildModel(smallPieces, nil, nil)[:40], "not a sentencepiece model"},
		{"bpe", buildModel(smallPieces, protoMsg(nil).varint(fTrainerModelType, int64(BPE)), nil), "--model_type=bpe"},
		{"no unk", buildModel([]testPiece{{"a", -1, Normal}}, unigram, nil), "no UNKNOWN piece"},
		{"two unk", buildModel([]testPiece{{"<unk>", 0, Unknown}, {"<u2>", 0, Unknown}, {"a", -1, Normal}}, nil, nil), "two <unk>"},
		{"duplicate", buildModel([]testPiece{{"<unk>", 0, Unknown}, {"a", -1, Normal}, {"a", -2, Normal}}, nil, nil), `"a" (id 2) is defined twice`},
		{"empty piece", buildModel([]testPiece{{"<unk>", 0, Unknown}, {"", -1, Normal}}, nil, nil), "piece 1 is empty"},
		{"bad type", buildModel([]testPiece{{"<unk>", 0, Unknown}, {"a", -1, 9}}, nil, nil), "unknown type 9"},
		{"byte without fallback", buildModel([]testPiece{{"<unk>", 0, Unknown}, {"a", -1, Normal}, {"<0x41>", 0, Byte}}, nil, nil), "without byte_fallback"},
		{"bad byte piece", buildModel(append(withBytes(smallPieces), testPiece{"<0xZZ>", 0, Byte}), protoMsg(nil).varint(fTrainerByteFallback, 1), nil), `"<0xZZ>"`},
		{"missing byte piece", buildModel(withBytes(smallPieces)[:len(smallPieces)+200], protoMsg(nil).varint(fTrainerByteFallback, 1), nil), "<0xC8> is missing"},
		{"only specials", buildModel([]testPiece{{"<unk>", 0, Unknown}, {"<s>", 0, Control}}, nil, nil), "no pieces to segment text with"},
		{"bad charsmap", buildModel(smallPieces, nil, protoMsg(nil).str(fNormCharsmap, "\x10\x00\x00\x00ab")), "precompiled_charsmap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("just some text, not a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{text, filepath.Join(dir, "missing.model")} {
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Load(%s) error %v should name the file", p, err)
		}
		if err != nil && strings.Count(err.Error(), "sentencepiece:") != 1 {
			t.Errorf("Load(%s) error %q repeats its prefix", p, err)
		}
	}
	_, err := Load(text)
	if errors.Is(err, errNotUnigram) {
		t.Errorf("a text file is not a non-Unigram model: %v", err)
	}
}

// TestParseNeverPanics feeds truncated and corrupted models to Parse and encodes with
// whatever parses.
func TestParseNeverPanics(t *testing.T) {
	charsmap := buildCharsmap(map[string]string{"ﬁ": "fi", "Ａ": "A"})
	good := buildModel(withBytes(smallPieces), protoMsg(nil).varint(fTrainerByteFallback, 1),
		protoMsg(nil).str(fNormCharsmap, string(charsmap)))
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	try := func(b []byte) {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Parse panicked on %x: %v", b, p)
			}
		}()
		if m, err := Parse(b); err == nil {
			ids := m.Encode("ﬁ Ａ ab\xff 日本 <sep>")
			m.Decode(append(ids, -1, 1<<20, 0, 1))
			m.EncodePieces("zz z")
		}
	}
	for n := 0; n < len(good); n += 7 {
		try(good[:n])
	}
	for i := 0; i < 3000; i++ {
		b := append([]byte(nil), good...)
		for k := 0; k < 1+r.IntN(4); k++ {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		try(b)
	}
}

func TestEncodeSmallModel(t *testing.T) {
	m, err := Parse(buildModel(smallPieces, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in     string
		ids    []int
		pieces []string
	}{
		{"", nil, []string{}},
		{"   ", nil, []string{}},
		{"a", []int{3}, []string{"▁a"}},
		{"ab", []int{5}, []string{"▁ab"}}, // -2.5 beats ▁a + b = -3
		{"abb", []int{5, 4}, []string{"▁ab", "b"}},
		{"a  b", []int{3, 6, 4}, []string{"▁a", "▁", "b"}},
		{"a日本b", []int{3, 0, 4}, []string{"▁a", "日本", "b"}},       // unknowns merged
		{"日x本", []int{6, 0}, []string{"▁", "日x本"}},                // x is unknown too
		{"a<sep>b", []int{3, 8, 4}, []string{"▁a", "<sep>", "b"}}, // user-defined kept whole
		{"zz", []int{6, 11, 11}, []string{"▁", "z", "z"}},         // the unused piece is never used
		{"<s>", []int{6, 0}, []string{"▁", "<s>"}},                // control pieces are not matched in text
		{"c\xffc", []int{6, 9, 0, 9}, []string{"▁", "c", "\uFFFD", "c"}},
	}
	for _, tc := range tests {
		if got := m.Encode(tc.in); !reflect.DeepEqual(got, tc.ids) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.ids)
		}
		if got := m.EncodePieces(tc.in); !reflect.DeepEqual(got, tc.pieces) {
			t.Errorf("EncodePieces(%q) = %q, want %q", tc.in, got, tc.pieces)
		}
	}
}

func TestByteFallback(t *testing.T) {
	m, err := Parse(buildModel(withBytes(smallPieces), protoMsg(nil).varint(fTrainerByteFallback, 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	byteID := func(c byte) int { return m.PieceToID("<0x" + strings.ToUpper(hex2(c)) + ">") }
	ids := m.Encode("aé")
	want := []int{3, byteID(0xc3), byteID(0xa9)}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("Encode = %v, want %v", ids, want)
	}
	if got := m.EncodePieces("aé"); !reflect.DeepEqual(got, []string{"▁a", "<0xC3>", "<0xA9>"}) {
		t.Errorf("EncodePieces = %q", got)
	}
	if got := m.Decode(ids); got != "aé" {
		t.Errorf("Decode = %q", got)
	}
}

func TestDecode(t *testing.T) {
	m, err := Parse(buildModel(withBytes(smallPieces), protoMsg(nil).varint(fTrainerByteFallback, 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	b := func(c byte) int { return m.PieceToID("<0x" + strings.ToUpper(hex2(c)) + ">") }
	tests := []struct {
		name string
		ids  []int
		want string
	}{
		{"nothing", nil, ""},
		{"leading space dropped", []int{3, 4, 3}, "ab a"},
		{"control pieces vanish", []int{1, 3, 2, 5, 2}, "a ab"},
		{"unk surface", []int{0, 3}, " ⁇  a"},
		{"bytes reassembled", []int{b(0xe6), b(0x97), b(0xa5), 4}, "日b"},
		{"broken bytes", []int{b(0xe6), b(0x97), 4, b(0xff)}, "\uFFFD\uFFFDb\uFFFD"},
		{"bytes then space", []int{b('x'), 3}, "x a"},
		{"user-defined", []int{8, 3}, "<sep> a"},
		{"ids out of range skipped", []int{-1, 3, 100000}, "a"},
		{"leading space pieces all dropped", []int{6, 6, 4, 6, 4}, "b b"},
	}
	for _, tc := range tests {
		if got := m.Decode(tc.ids); got != tc.want {
			t.Errorf("%s: Decode(%v) = %q, want %q", tc.name, tc.ids, got, tc.want)
		}
	}
}
