package bleu

import (
	"strings"
	"unicode/utf8"
)

// Tokenizer turns one segment into space-separated tokens before n-grams are counted.
type Tokenizer func(line string) string

// Tokenize13a is sacreBLEU's default tokenizer "13a", the tokenization of the NIST script
// mteval-v13a.pl that WMT uses. In order:
//
//  1. remove every "<skipped>", remove every "-\n" (a hyphen at a line end joins the lines),
//     then turn every remaining "\n" into a space;
//  2. if the line holds "&", replace the entities &quot; &amp; &lt; &gt;, in that order, one pass
//     each (so "&amp;lt;" ends as "<" but "&amp;quot;" as "&quot;");
//  3. pad the line with one space on each side, then split off punctuation:
//     a. every ASCII character in { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
//     becomes a token of its own (the apostrophe, the hyphen, '.' and ',' are not in the set);
//     b. a '.' or ',' after a character that is not an ASCII digit is split off;
//     c. a '.' or ',' before a character that is not an ASCII digit is split off;
//     d. a '-' after an ASCII digit is split off;
//     steps a to d each scan left to right once, with non-overlapping two-character matches, as
//     the regular expressions of the original do; so "1.5" and "1,000" stay whole and "3-4"
//     becomes "3 - 4";
//  4. collapse runs of whitespace (Python's definition of whitespace, see isPySpace) into single
//     spaces and trim.
//
// The result is what sacreBLEU's Tokenizer13a returns for the same string.
func Tokenize13a(line string) string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.Contains(line, "&") {
		line = strings.ReplaceAll(line, "&quot;", `"`)
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	s := splitPunctuation(" " + line + " ")
	s = splitPeriodCommaAfterNonDigit(s)
	s = splitPeriodCommaBeforeNonDigit(s)
	s = splitDashAfterDigit(s)
	return strings.Join(pyFields(s), " ")
}

// TokenizeNone is sacreBLEU's tokenizer "none": the line as it is (tokens are then its
// whitespace-separated words).
func TokenizeNone(line string) string { return line }

// isPunct13a reports whether b is in the character class
// [\{-\~\[-\` -\&\(-\+\:-\@\/] of mteval-v13a (step 3a of Tokenize13a).
func isPunct13a(b byte) bool {
	switch {
	case b >= '{' && b <= '~', b >= '[' && b <= '`', b >= ' ' && b <= '&', b >= '(' && b <= '+',
		b >= ':' && b <= '@', b == '/':
		return true
	}
	return false
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// The four scans below work on bytes. That is the same as working on characters, as the
// original does, because every character they look for is ASCII and no byte of a multi-byte
// UTF-8 character is ASCII: a byte that is "not a digit" stands for the character it belongs to.

func splitPunctuation(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPunct13a(c) {
			b.WriteByte(' ')
			b.WriteByte(c)
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitPeriodCommaAfterNonDigit is re.sub(r'([^0-9])([\.,])', r'\1 \2 ').
func splitPeriodCommaAfterNonDigit(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		if i+1 < len(s) && !isDigit(s[i]) && (s[i+1] == '.' || s[i+1] == ',') {
			b.WriteByte(s[i])
			b.WriteByte(' ')
			b.WriteByte(s[i+1])
			b.WriteByte(' ')
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitPeriodCommaBeforeNonDigit is re.sub(r'([\.,])([^0-9])', r' \1 \2').
func splitPeriodCommaBeforeNonDigit(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		if i+1 < len(s) && (s[i] == '.' || s[i] == ',') && !isDigit(s[i+1]) {
			b.WriteByte(' ')
			b.WriteByte(s[i])
			b.WriteByte(' ')
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitDashAfterDigit is re.sub(r'([0-9])(-)', r'\1 \2 ').
func splitDashAfterDigit(s string) string {
	if !strings.Contains(s, "-") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		if i+1 < len(s) && isDigit(s[i]) && s[i+1] == '-' {
			b.WriteByte(s[i])
			b.WriteString(" - ")
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isPySpace reports whether r is whitespace for Python's str.split() and str.rstrip(): the
// characters with Unicode bidirectional type WS, B or S, or category Zs. That is Go's
// unicode.IsSpace plus the four ASCII separators U+001C to U+001F.
func isPySpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// pyFields splits s around runs of Python whitespace, as str.split() with no argument does.
func pyFields(s string) []string {
	return strings.FieldsFunc(s, isPySpace)
}

// pyRstrip removes trailing Python whitespace, as str.rstrip() with no argument does.
func pyRstrip(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !isPySpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}
