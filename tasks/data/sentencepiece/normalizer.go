package sentencepiece

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	spaceSymbol      = "\u2581" // ▁ LOWER ONE EIGHTH BLOCK: the escaped space
	replacementChar  = "\uFFFD" // what a malformed UTF-8 byte becomes
	maxCharsmapMatch = 32       // sentencepiece keeps at most this many charsmap matches
	maxUserMatch     = 64       // and this many user-defined symbol matches
)

// normalizer turns raw text into the string the segmenter sees, the way sentencepiece's
// Normalizer does: user-defined symbols are copied as they are, every other prefix is
// rewritten by the longest rule of the precompiled charsmap (or copied one UTF-8 character
// at a time, a malformed byte becoming U+FFFD), runs of spaces are squeezed and trimmed, a
// space is added in front, and spaces become ▁.
type normalizer struct {
	spec     NormalizerSpec
	suffixWS bool      // treat_whitespace_as_suffix: the dummy space goes at the end
	charsmap dartsTrie // empty units: no rules
	rules    string    // NUL-separated replacement strings the charsmap values point into
	userSyms *byteTrie // user-defined symbols; nil when there are none
}

// newNormalizer decodes spec's precompiled charsmap: a little-endian uint32 with the size of
// the double array in bytes, the double array, then the replacement strings.
func newNormalizer(spec NormalizerSpec, suffixWS bool, userSyms *byteTrie) (*normalizer, error) {
	n := &normalizer{spec: spec, suffixWS: suffixWS, userSyms: userSyms}
	blob := spec.PrecompiledCharsmap
	if len(blob) == 0 {
		return n, nil
	}
	if len(blob) <= 4 {
		return nil, fmt.Errorf("precompiled_charsmap of %d bytes is too short to hold a rule table", len(blob))
	}
	size := binary.LittleEndian.Uint32(blob)
	if uint64(size) >= uint64(len(blob)) {
		return nil, fmt.Errorf("precompiled_charsmap says its trie has %d bytes but the blob has %d", size, len(blob))
	}
	rest := blob[4:]
	if uint64(size) > uint64(len(rest)) {
		return nil, fmt.Errorf("precompiled_charsmap trie of %d bytes overruns the %d bytes after its header", size, len(rest))
	}
	trie, err := newDartsTrie(rest[:size])
	if err != nil {
		return nil, fmt.Errorf("precompiled_charsmap: %w", err)
	}
	n.charsmap = trie
	n.rules = string(rest[size:])
	return n, nil
}

// oneCharLen is sentencepiece's OneCharLen: the length of the UTF-8 sequence a lead byte
// announces, 1 for continuation and ASCII bytes. It does not validate.
func oneCharLen(c byte) int {
	return int("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x03\x04"[c>>4])
}

// prefix normalizes the start of s: it returns the replacement text and how many bytes of s
// it stands for (at least 1 for non-empty s).
func (n *normalizer) prefix(s string) (string, int) {
	if n.userSyms != nil {
		if l := n.userSyms.longestPrefix(s, maxUserMatch); l > 0 {
			return s[:l], l
		}
	}
	if n.charsmap.units != nil {
		if l, v, ok := n.charsmap.longestPrefix(s, maxCharsmapMatch); ok {
			if v >= 0 && int(v) < len(n.rules) {
				r := n.rules[v:]
				if end := strings.IndexByte(r, 0); end >= 0 {
					r = r[:end]
				}
				return r, l
			}
			// A value outside the rule strings (a corrupt model): copy the input instead.
		}
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return replacementChar, 1
	}
	return s[:size], size
}

// normalize appends the normalized form of s to dst.
func (n *normalizer) normalize(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	removeExtra := n.spec.RemoveExtraWhitespaces
	escape := n.spec.EscapeWhitespaces
	if removeExtra { // drop leading spaces
		for s != "" {
			r, l := n.prefix(s)
			if r != " " {
				break
			}
			s = s[l:]
		}
	}
	if s == "" {
		return dst
	}
	start := len(dst)
	addSpace := func(dst []byte) []byte {
		if escape {
			return append(dst, spaceSymbol...)
		}
		return append(dst, ' ')
	}
	if !n.suffixWS && n.spec.AddDummyPrefix {
		dst = addSpace(dst)
	}
	prevSpace := removeExtra
	for s != "" {
		r, l := n.prefix(s)
		s = s[l:]
		if prevSpace {
			r = strings.TrimLeft(r, " ")
		}
		if r != "" {
			for i := 0; i < len(r); i++ {
				if escape && r[i] == ' ' {
					dst = append(dst, spaceSymbol...)
				} else {
					dst = append(dst, r[i])
				}
			}
			prevSpace = r[len(r)-1] == ' '
		}
		if !removeExtra {
			prevSpace = false
		}
	}
	if removeExtra { // drop trailing spaces
		sp := " "
		if escape {
			sp = spaceSymbol
		}
		for len(dst)-start >= len(sp) && string(dst[len(dst)-len(sp):]) == sp {
			dst = dst[:len(dst)-len(sp)]
		}
	}
	if n.suffixWS && n.spec.AddDummyPrefix {
		dst = addSpace(dst)
	}
	return dst
}
