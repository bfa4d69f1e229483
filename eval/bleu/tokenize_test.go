package bleu

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The expected tokenizations follow the rules of mteval-v13a as sacreBLEU implements them
// (sacrebleu/tokenizers/tokenizer_13a.py and tokenizer_re.py in mjpost/sacrebleu), worked out
// by hand.
func TestTokenize13a(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"only spaces", "  \t ", ""},
		{"comma and exclamation", "Hello, world!", "Hello , world !"},
		{"apostrophe stays", "It wasn't surprising.", "It wasn't surprising ."},
		{"numbers keep . and ,", "1,000.50 and 3.5", "1,000.50 and 3.5"},
		{"number then comma", "pi=3.14, e=2.72", "pi = 3.14 , e = 2.72"},
		{"dash after digit", "1990-2000", "1990 - 2000"},
		{"dash after letter", "state-of-the-art x-1 -5", "state-of-the-art x-1 -5"},
		{"decimal then dash", "10.5-11", "10.5 - 11"},
		{"abbreviation", "U.S. e.g., i.e.", "U . S . e . g . , i . e ."},
		{"double period", "a..b", "a . . b"},
		{"ellipsis", "Wait...", "Wait . . ."},
		{"brackets", "(a)[b]{c}", "( a ) [ b ] { c }"},
		{"symbols", "x/y@z#1 50% $5.00 a+b=c", "x / y @ z # 1 50 % $ 5.00 a + b = c"},
		{"backslash caret underscore backtick", "a\\b^c_d`e|f~g", "a \\ b ^ c _ d ` e | f ~ g"},
		{"quotes", `He said "no".`, `He said " no " .`},
		{"skipped tag", "<skipped> text <skipped>", "text"},
		{"hyphen at line end joins", "hyphen-\nated line\nbreak", "hyphenated line break"},
		{"entities", "&quot;quoted&quot; &amp; &lt;tag&gt;", `" quoted " & < tag >`},
		{"entity order lt", "&amp;lt;", "<"},
		{"entity order quot", "&amp;quot;", "& quot ;"},
		{"unknown entity", "&nbsp;", "& nbsp ;"},
		{"non-ASCII untouched", "Müller’s café.", "Müller’s café ."},
		{"non-ASCII before comma", "Straße,Weg", "Straße , Weg"},
		{"comma before non-ASCII", "1,é", "1 , é"},
		{"digit comma digit", "1,2", "1,2"},
		{"period before digit after letter", "v.2", "v . 2"},
		{"tab and carriage return", "a\tb\r\nc", "a b c"},
		{"python whitespace separators", "a\x1cb\x1dc\x1ed\x1fe", "a b c d e"},
		{"unicode spaces", "a\u00a0b\u2009c\u3000d\u0085e", "a b c d e"},
		{"zero width space is no space", "a\u200bb", "a\u200bb"},
		{"colon and semicolon", "Note: one; two", "Note : one ; two"},
		{"trailing period after number", "in 2017.", "in 2017 ."},
		{"comma after number before space", "3, 4", "3 , 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tokenize13a(tc.in); got != tc.want {
				t.Errorf("Tokenize13a(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// regexp13a is the post-tokenizer written with sacreBLEU's regular expressions (Go's regexp
// replaces leftmost, non-overlapping matches, as Python's re.sub does). Tokenize13a's byte scans
// must agree with it on any input.
func regexp13a(line string) string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.Contains(line, "&") {
		line = strings.ReplaceAll(line, "&quot;", `"`)
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	rules := []struct {
		re   *regexp.Regexp
		repl string
	}{
		{regexp.MustCompile(`([\{-\~\[-\x60 -\&\(-\+\:-\@\/])`), " $1 "},
		{regexp.MustCompile(`([^0-9])([\.,])`), "$1 $2 "},
		{regexp.MustCompile(`([\.,])([^0-9])`), " $1 $2"},
		{regexp.MustCompile(`([0-9])(-)`), "$1 $2 "},
	}
	s := " " + line + " "
	for _, r := range rules {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return strings.Join(pyFields(s), " ")
}

func TestTokenize13aMatchesRegexps(t *testing.T) {
	pieces := []string{"a", "Z", "0", "7", ".", ",", "-", "'", " ", "\n", "-\n", "\t", "&", "&amp;",
		"&quot;", "&lt;", "<skipped>", "(", ")", "$", "%", "/", "@", "ü", "€", "—", "\u00a0", "\x1c", "_", "`"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(12); n >= 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		in := b.String()
		if got, want := Tokenize13a(in), regexp13a(in); got != want {
			t.Fatalf("Tokenize13a(%q) = %q, the regular expressions give %q", in, got, want)
		}
	}
}

func TestPyRstrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"abc \t\n", "abc"},
		{"abc\u3000\x1f", "abc"},
		{" abc", " abc"},
		{"\u200b", "\u200b"},
		{"", ""},
		{" \n ", ""},
	}
	for _, tc := range tests {
		if got := pyRstrip(tc.in); got != tc.want {
			t.Errorf("pyRstrip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkTokenize13a(b *testing.B) {
	line := `Die Kommission hat am 3. Mai 2017 (laut "Bericht" Nr. 12-34) 1.234,5 Mio. € bewilligt, d.h. mehr als erwartet; siehe www.example.org/a-b.`
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		Tokenize13a(line)
	}
}
