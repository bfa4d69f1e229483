package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reading GNU gettext message catalogs (.mo files), and building an English→German parallel
// corpus from the catalogs every Debian system carries in /usr/share/locale/de/LC_MESSAGES.
//
// The .mo layout (GNU gettext manual, "The Format of GNU MO Files"): a header of 32-bit words in
// the writer's byte order — magic 0x950412de (read as 0xde120495 when the byte order is the
// other one), revision (major<<16 | minor), the number of strings N, the offsets of the
// original and the translation string tables (N pairs of length and offset each) and of the
// hash table. Every string is NUL-terminated. A msgid may carry a context ("ctxt\x04msgid") and
// a plural form ("msgid\x00msgid_plural"), in which case the msgstr holds the plural forms
// separated by NULs. Minor revision 1 adds system-dependent strings (for format macros such as
// <PRIuMAX>): five more header words — the number and offset of the segment-name table and the
// number and offsets of the original and translated system-dependent string tables — where each
// string is a run of static segments with named system-dependent segments between them.

// moMagic is the .mo magic number in the writer's byte order.
const moMagic = 0x950412de

// Message is one entry of a gettext catalog.
type Message struct {
	// Context is the msgctxt; HasContext tells an empty context from none.
	Context    string
	HasContext bool
	// ID is the msgid (the untranslated text, English for most catalogs); the header entry has
	// an empty ID and no context.
	ID string
	// IDPlural is the msgid_plural of a plural entry, "" otherwise.
	IDPlural string
	// Str holds the msgstr: one string for a singular entry, msgstr[0], msgstr[1], ... for a
	// plural entry.
	Str []string
}

// IsHeader reports whether m is the catalog header (empty msgid, no context).
func (m Message) IsHeader() bool { return m.ID == "" && !m.HasContext }

// ReadMO reads a GNU .mo catalog in either byte order, revisions 0.x and 1.x, including
// system-dependent strings, which come after the others and read as msgunfmt prints them: a
// segment name longer than one character in angle brackets ("%<PRIuMAX>"), a one-character name
// bare. Messages come in file order, the header entry (empty msgid) included. Texts are UTF-8:
// the header's Content-Type charset must be UTF-8 or ASCII (or absent, which gettext reads as
// UTF-8), or ISO-8859-1 or ISO-8859-15, which are converted; another charset, invalid UTF-8, and
// a truncated or corrupt file are errors naming the file.
func ReadMO(path string) ([]Message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	msgs, err := parseMO(b)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return msgs, nil
}

// moReader reads 32-bit words of a .mo file with bounds checks.
type moReader struct {
	b     []byte
	order binary.ByteOrder
}

func (r moReader) u32(off uint64, what string) (uint32, error) {
	if off+4 > uint64(len(r.b)) {
		return 0, fmt.Errorf("truncated or corrupt .mo file: %s at byte %d lies beyond the end (%d bytes)", what, off, len(r.b))
	}
	return r.order.Uint32(r.b[off:]), nil
}

// str returns the NUL-terminated string of length n at offset off.
func (r moReader) str(n, off uint32, what string) ([]byte, error) {
	end := uint64(off) + uint64(n)
	if end >= uint64(len(r.b)) {
		return nil, fmt.Errorf("truncated or corrupt .mo file: %s (%d bytes at %d) lies beyond the end (%d bytes)", what, n, off, len(r.b))
	}
	if r.b[end] != 0 {
		return nil, fmt.Errorf("corrupt .mo file: %s (%d bytes at %d) is not NUL-terminated", what, n, off)
	}
	return r.b[off:end], nil
}

// rawMessage is an entry as stored: msgid with context and plural, msgstr with plural forms.
type rawMessage struct{ id, str []byte }

func parseMO(b []byte) ([]Message, error) {
	if len(b) < 28 {
		return nil, fmt.Errorf("not a .mo file: %d bytes, shorter than the 28-byte header", len(b))
	}
	r := moReader{b: b}
	switch {
	case binary.LittleEndian.Uint32(b) == moMagic:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(b) == moMagic:
		r.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("not a GNU .mo file: magic %#08x, expected %#08x in either byte order", binary.LittleEndian.Uint32(b), moMagic)
	}
	rev, _ := r.u32(4, "revision")
	major, minor := rev>>16, rev&0xffff
	if major > 1 {
		return nil, fmt.Errorf("unsupported .mo revision %d.%d (this reader knows major revisions 0 and 1)", major, minor)
	}
	n, _ := r.u32(8, "string count")
	origTab, _ := r.u32(12, "original table offset")
	transTab, _ := r.u32(16, "translation table offset")
	var raws []rawMessage
	if uint64(n)*8 > uint64(len(b)) {
		return nil, fmt.Errorf("corrupt .mo file: %d strings announced, more than %d bytes can hold", n, len(b))
	}
	for i := uint32(0); i < n; i++ {
		m, err := r.tableString(origTab, i, fmt.Sprintf("msgid %d", i))
		if err != nil {
			return nil, err
		}
		t, err := r.tableString(transTab, i, fmt.Sprintf("msgstr %d", i))
		if err != nil {
			return nil, err
		}
		raws = append(raws, rawMessage{m, t})
	}
	if minor >= 1 {
		sys, err := r.sysdepMessages()
		if err != nil {
			return nil, err
		}
		raws = append(raws, sys...)
	}
	msgs := make([]Message, len(raws))
	for i, raw := range raws {
		msgs[i] = splitMessage(raw)
	}
	return msgs, convertCatalog(msgs)
}

// tableString reads entry i of the string table at tab.
func (r moReader) tableString(tab, i uint32, what string) ([]byte, error) {
	at := uint64(tab) + 8*uint64(i)
	n, err := r.u32(at, what+" length")
	if err != nil {
		return nil, err
	}
	off, err := r.u32(at+4, what+" offset")
	if err != nil {
		return nil, err
	}
	return r.str(n, off, what)
}

// sysdepMessages reads the system-dependent strings of a minor revision 1 file.
func (r moReader) sysdepMessages() ([]rawMessage, error) {
	var h [5]uint32
	for i := range h {
		v, err := r.u32(28+4*uint64(i), "system-dependent string header")
		if err != nil {
			return nil, err
		}
		h[i] = v
	}
	nSeg, segTab, nStr, origTab, transTab := h[0], h[1], h[2], h[3], h[4]
	if uint64(nSeg)*8 > uint64(len(r.b)) || uint64(nStr)*8 > uint64(len(r.b)) {
		return nil, fmt.Errorf("corrupt .mo file: %d system-dependent segments and %d strings announced, more than %d bytes can hold", nSeg, nStr, len(r.b))
	}
	segs := make([][]byte, nSeg)
	for i := range segs {
		at := uint64(segTab) + 8*uint64(i)
		n, err := r.u32(at, "system-dependent segment length")
		if err != nil {
			return nil, err
		}
		off, err := r.u32(at+4, "system-dependent segment offset")
		if err != nil {
			return nil, err
		}
		// The stored length counts the terminating NUL.
		if n == 0 {
			return nil, fmt.Errorf("corrupt .mo file: system-dependent segment %d is empty", i)
		}
		s, err := r.str(n-1, off, fmt.Sprintf("system-dependent segment %d", i))
		if err != nil {
			return nil, err
		}
		if j := bytes.IndexByte(s, 0); j >= 0 {
			s = s[:j]
		}
		segs[i] = s
	}
	out := make([]rawMessage, nStr)
	for i := range out {
		for k, tab := range []uint32{origTab, transTab} {
			what := fmt.Sprintf("system-dependent msgid %d", i)
			if k == 1 {
				what = fmt.Sprintf("system-dependent msgstr %d", i)
			}
			at, err := r.u32(uint64(tab)+4*uint64(i), what+" offset")
			if err != nil {
				return nil, err
			}
			s, err := r.sysdepString(at, segs, what)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				out[i].id = s
			} else {
				out[i].str = s
			}
		}
	}
	return out, nil
}

// sysdepString assembles the system-dependent string described at offset at: the offset of its
// static segments, then (size, segment reference) pairs ending with the reference 0xffffffff.
// The static segments end with the string's NUL, which is dropped.
func (r moReader) sysdepString(at uint32, segs [][]byte, what string) ([]byte, error) {
	static, err := r.u32(uint64(at), what)
	if err != nil {
		return nil, err
	}
	var out []byte
	pos := uint64(static)
	for p := uint64(at) + 4; ; p += 8 {
		size, err := r.u32(p, what+" segment size")
		if err != nil {
			return nil, err
		}
		ref, err := r.u32(p+4, what+" segment reference")
		if err != nil {
			return nil, err
		}
		if pos+uint64(size) > uint64(len(r.b)) {
			return nil, fmt.Errorf("truncated or corrupt .mo file: %s: static segment of %d bytes at %d lies beyond the end (%d bytes)", what, size, pos, len(r.b))
		}
		out = append(out, r.b[pos:pos+uint64(size)]...)
		pos += uint64(size)
		if ref == 0xffffffff {
			break
		}
		if ref >= uint32(len(segs)) {
			return nil, fmt.Errorf("corrupt .mo file: %s refers to system-dependent segment %d of %d", what, ref, len(segs))
		}
		if name := segs[ref]; len(name) > 1 {
			out = append(append(append(out, '<'), name...), '>')
		} else {
			out = append(out, name...)
		}
		// Real strings stay well within this (the static text is part of the file, and each
		// reference costs 8 bytes of it); a corrupt file could otherwise repeat a long segment.
		if len(out) > 4*len(r.b)+1024 {
			return nil, fmt.Errorf("corrupt .mo file: %s grows past %d bytes", what, len(out))
		}
	}
	if len(out) == 0 || out[len(out)-1] != 0 {
		return nil, fmt.Errorf("corrupt .mo file: %s is not NUL-terminated", what)
	}
	return out[:len(out)-1], nil
}

// splitMessage separates context, msgid and msgid_plural, and the plural forms of the msgstr.
func splitMessage(raw rawMessage) Message {
	var m Message
	id := raw.id
	if i := bytes.IndexByte(id, 4); i >= 0 {
		m.Context, m.HasContext, id = string(id[:i]), true, id[i+1:]
	}
	if i := bytes.IndexByte(id, 0); i >= 0 {
		m.ID, m.IDPlural = string(id[:i]), string(id[i+1:])
		for s := range bytes.SplitSeq(raw.str, []byte{0}) {
			m.Str = append(m.Str, string(s))
		}
		return m
	}
	m.ID = string(id)
	m.Str = []string{string(raw.str)}
	return m
}

// moCharset returns the charset named in the Content-Type line of a header msgstr ("" if none).
func moCharset(header string) string {
	for line := range strings.SplitSeq(header, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
			continue
		}
		i := strings.Index(strings.ToLower(value), "charset=")
		if i < 0 {
			return ""
		}
		cs := value[i+len("charset="):]
		if j := strings.IndexAny(cs, " \t;"); j >= 0 {
			cs = cs[:j]
		}
		return strings.TrimSpace(cs)
	}
	return ""
}

// latin9 maps the eight ISO-8859-15 bytes that differ from ISO-8859-1.
var latin9 = map[byte]rune{0xa4: '€', 0xa6: 'Š', 0xa8: 'š', 0xb4: 'Ž', 0xb8: 'ž', 0xbc: 'Œ', 0xbd: 'œ', 0xbe: 'Ÿ'}

// convertCatalog turns every text of msgs into UTF-8 according to the header's charset.
func convertCatalog(msgs []Message) error {
	charset := ""
	for _, m := range msgs {
		if m.IsHeader() && len(m.Str) > 0 {
			charset = moCharset(m.Str[0])
			break
		}
	}
	var conv func(string) string
	switch strings.ToLower(charset) {
	case "", "utf-8", "utf8", "ascii", "us-ascii", "ansi_x3.4-1968":
	case "iso-8859-1", "iso8859-1", "latin1", "iso_8859-1":
		conv = func(s string) string { return decodeLatin(s, false) }
	case "iso-8859-15", "iso8859-15", "latin9", "iso_8859-15":
		conv = func(s string) string { return decodeLatin(s, true) }
	default:
		return fmt.Errorf("catalog charset %q is not supported (UTF-8, ASCII, ISO-8859-1 and ISO-8859-15 are): convert it with `msgconv -t UTF-8`", charset)
	}
	for i := range msgs {
		m := &msgs[i]
		fields := []*string{&m.Context, &m.ID, &m.IDPlural}
		for j := range m.Str {
			fields = append(fields, &m.Str[j])
		}
		for _, f := range fields {
			if conv != nil {
				*f = conv(*f)
			} else if !utf8.ValidString(*f) {
				return fmt.Errorf("message %d (msgid %q) is not valid UTF-8 although the catalog's charset is %q", i, m.ID, charset)
			}
		}
	}
	return nil
}

// decodeLatin converts ISO-8859-1 (or, with latin9, ISO-8859-15) to UTF-8.
func decodeLatin(s string, latin9Table bool) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if r, ok := latin9[c]; ok && latin9Table {
			b.WriteRune(r)
			continue
		}
		b.WriteRune(rune(c))
	}
	return b.String()
}

// CatalogPairs builds an English→German parallel corpus (Src English, Tgt German) from .mo
// catalogs whose msgids are English and msgstrs German, such as
// /usr/share/locale/de/LC_MESSAGES/*.mo. The rules, applied per message in file order, files in
// the order given:
//   - the header and messages without a translation are skipped; msgctxt is ignored;
//   - a singular entry gives (msgid, msgstr); a plural entry gives (msgid, msgstr[0]) and
//     (msgid_plural, msgstr[1]), each only where that msgstr is not empty;
//   - both sides have every run of whitespace (newlines and tabs included) turned into one
//     space and are trimmed;
//   - keyboard accelerators are dropped only where clearly one: the English has exactly one '_'
//     (or exactly one '&'), at the start of a word and before a letter or digit ("_File",
//     "Save _As", "&Open"); then that character is removed from the English, and from the German
//     when the German has exactly one of it before a letter or digit ("_Datei", "Ö_ffnen");
//   - pairs whose two sides are equal, or where a side has no letter (Unicode category L; the
//     letters of format directives such as %d count), are skipped;
//   - repeated pairs are kept once, at their first place.
func CatalogPairs(paths []string) ([]TextPair, error) {
	var out []TextPair
	seen := map[TextPair]bool{}
	for _, p := range paths {
		msgs, err := ReadMO(p)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.IsHeader() || len(m.Str) == 0 {
				continue
			}
			cands := []TextPair{{m.ID, m.Str[0]}}
			if m.IDPlural != "" && len(m.Str) > 1 {
				cands = append(cands, TextPair{m.IDPlural, m.Str[1]})
			}
			for _, c := range cands {
				pr, ok := catalogPair(c.Src, c.Tgt)
				if !ok || seen[pr] {
					continue
				}
				seen[pr] = true
				out = append(out, pr)
			}
		}
	}
	return out, nil
}

// catalogPair applies CatalogPairs' rules to one English/German pair.
func catalogPair(en, de string) (TextPair, bool) {
	en, de = normalizeSpace(en), normalizeSpace(de)
	if en == "" || de == "" {
		return TextPair{}, false
	}
	for _, marker := range []byte{'_', '&'} {
		if isAccelerated(en, marker) {
			en = strings.Replace(en, string(marker), "", 1)
			if i, ok := singleMarker(de, marker); ok {
				de = de[:i] + de[i+1:]
			}
			break
		}
	}
	if en == de || !hasLetter(en) || !hasLetter(de) {
		return TextPair{}, false
	}
	return TextPair{Src: en, Tgt: de}, true
}

// normalizeSpace turns runs of whitespace into single spaces and trims.
func normalizeSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// singleMarker returns the index of the only occurrence of marker in s, when there is exactly
// one and a letter or digit follows it.
func singleMarker(s string, marker byte) (int, bool) {
	i := strings.IndexByte(s, marker)
	if i < 0 || strings.IndexByte(s[i+1:], marker) >= 0 {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(s[i+1:])
	return i, unicode.IsLetter(r) || unicode.IsDigit(r)
}

// isAccelerated reports whether s has exactly one marker, word-initial and before a letter or
// digit.
func isAccelerated(s string, marker byte) bool {
	i, ok := singleMarker(s, marker)
	return ok && (i == 0 || s[i-1] == ' ')
}

func hasLetter(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}
