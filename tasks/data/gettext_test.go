package data

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// moEntry is one message as stored in a .mo file: the msgid with context ("ctxt\x04id") and
// plural ("id\x00plural"), the msgstr with its plural forms separated by NULs.
type moEntry struct{ id, str string }

// moSysdep is a system-dependent message: static segments with segment references between them
// (-1 ends the string), for msgid and msgstr.
type moSysdep struct {
	id, str []moPiece
}

// moPiece is a static segment followed by a system-dependent segment reference (-1: none, end).
type moPiece struct {
	static string
	ref    int
}

// moOptions shape an encoded .mo file.
type moOptions struct {
	order    binary.ByteOrder
	revision uint32
	segments []string   // system-dependent segment names (revision x.1)
	sysdep   []moSysdep // system-dependent messages (revision x.1)
}

// encodeMO writes a .mo file the way GNU msgfmt lays it out: header, original table,
// translation table (and, with system-dependent strings, the segment table and the two
// system-dependent string tables), an empty hash table, then the strings, then the
// system-dependent string descriptors.
func encodeMO(entries []moEntry, o moOptions) []byte {
	if o.order == nil {
		o.order = binary.LittleEndian
	}
	n := uint32(len(entries))
	sys := len(o.segments) > 0 || len(o.sysdep) > 0
	hdr := uint32(28)
	if sys {
		hdr = 48
	}
	origTab := hdr
	transTab := origTab + 8*n
	segTab := transTab + 8*n
	sysOrigTab := segTab + 8*uint32(len(o.segments))
	sysTransTab := sysOrigTab + 4*uint32(len(o.sysdep))
	base := transTab + 8*n // where the strings start
	if sys {
		base = sysTransTab + 4*uint32(len(o.sysdep))
	}
	var strs bytes.Buffer
	add := func(s string) (length, offset uint32) {
		length, offset = uint32(len(s)), base+uint32(strs.Len())
		strs.WriteString(s)
		strs.WriteByte(0)
		return length, offset
	}
	var tables []uint32 // the words of the original, translation and segment tables
	for _, e := range entries {
		l, off := add(e.id)
		tables = append(tables, l, off)
	}
	for _, e := range entries {
		l, off := add(e.str)
		tables = append(tables, l, off)
	}
	for _, s := range o.segments {
		l, off := add(s)
		tables = append(tables, l+1, off) // the segment table counts the NUL
	}
	// The static text of each system-dependent string goes with the strings (its last segment
	// carries the NUL); its descriptor (static offset, then size/reference pairs) after them.
	var statics []uint32
	for _, s := range o.sysdep {
		for _, pieces := range [][]moPiece{s.id, s.str} {
			var static strings.Builder
			for _, p := range pieces {
				static.WriteString(p.static)
			}
			_, off := add(static.String())
			statics = append(statics, off)
		}
	}
	var descs []uint32
	descBase := base + uint32(strs.Len())
	var sysOffsets [2][]uint32
	k := 0
	for _, s := range o.sysdep {
		for side, pieces := range [][]moPiece{s.id, s.str} {
			sysOffsets[side] = append(sysOffsets[side], descBase+4*uint32(len(descs)))
			descs = append(descs, statics[k])
			k++
			for i, p := range pieces {
				size := uint32(len(p.static))
				if i == len(pieces)-1 {
					size++
				}
				ref := uint32(0xffffffff)
				if p.ref >= 0 {
					ref = uint32(p.ref)
				}
				descs = append(descs, size, ref)
			}
		}
	}
	words := []uint32{0x950412de, o.revision, n, origTab, transTab, 0, 0}
	if sys {
		words = append(words, uint32(len(o.segments)), segTab, uint32(len(o.sysdep)), sysOrigTab, sysTransTab)
	}
	words = append(words, tables...)
	words = append(words, sysOffsets[0]...)
	words = append(words, sysOffsets[1]...)
	var b bytes.Buffer
	for _, w := range words {
		binary.Write(&b, o.order, w)
	}
	if uint32(b.Len()) != base {
		panic(fmt.Sprintf("encodeMO: tables end at %d, strings planned at %d", b.Len(), base))
	}
	b.Write(strs.Bytes())
	for _, w := range descs {
		binary.Write(&b, o.order, w)
	}
	return b.Bytes()
}

const utf8Header = "Project-Id-Version: test 1.0\nLanguage: de\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nPlural-Forms: nplurals=2; plural=(n != 1);\n"

func headerWith(charset string) string {
	return strings.Replace(utf8Header, "charset=UTF-8", "charset="+charset, 1)
}

func TestReadMO(t *testing.T) {
	entries := []moEntry{
		{"", utf8Header},
		{"%d file\x00%d files", "%d Datei\x00%d Dateien"},
		{"File", "Datei"},
		{"menu\x04Open", "Öffnen"},
		{"\x04Empty context", "Leerer Kontext"},
		{"ctx\x04%d item\x00%d items", "%d Element\x00%d Elemente"},
	}
	want := []Message{
		{ID: "", Str: []string{utf8Header}},
		{ID: "%d file", IDPlural: "%d files", Str: []string{"%d Datei", "%d Dateien"}},
		{ID: "File", Str: []string{"Datei"}},
		{Context: "menu", HasContext: true, ID: "Open", Str: []string{"Öffnen"}},
		{HasContext: true, ID: "Empty context", Str: []string{"Leerer Kontext"}},
		{Context: "ctx", HasContext: true, ID: "%d item", IDPlural: "%d items", Str: []string{"%d Element", "%d Elemente"}},
	}
	for _, tc := range []struct {
		name     string
		order    binary.ByteOrder
		revision uint32
	}{
		{"little endian", binary.LittleEndian, 0},
		{"big endian", binary.BigEndian, 0},
		{"major revision 1", binary.LittleEndian, 1 << 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "de.mo"), encodeMO(entries, moOptions{order: tc.order, revision: tc.revision}))
			got, err := ReadMO(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %#v\nwant %#v", got, want)
			}
			if !got[0].IsHeader() || got[4].IsHeader() {
				t.Errorf("IsHeader: header %v, empty-context entry %v", got[0].IsHeader(), got[4].IsHeader())
			}
		})
	}
}

func TestReadMOSystemDependent(t *testing.T) {
	entries := []moEntry{{"", utf8Header}, {"Hello", "Hallo"}}
	sysdep := []moSysdep{
		{ // "%<PRIuMAX> byte\0%<PRIuMAX> bytes" → "%<PRIuMAX> Byte\0%<PRIuMAX> Bytes"
			id:  []moPiece{{"%", 0}, {" byte\x00%", 0}, {" bytes", -1}},
			str: []moPiece{{"%", 0}, {" Byte\x00%", 0}, {" Bytes", -1}},
		},
		{ // glibc's one-letter segment "I" is inserted bare: "%Id"
			id:  []moPiece{{"%", 1}, {"d items", -1}},
			str: []moPiece{{"%", 1}, {"d Elemente", -1}},
		},
	}
	want := []Message{
		{ID: "", Str: []string{utf8Header}},
		{ID: "Hello", Str: []string{"Hallo"}},
		{ID: "%<PRIuMAX> byte", IDPlural: "%<PRIuMAX> bytes", Str: []string{"%<PRIuMAX> Byte", "%<PRIuMAX> Bytes"}},
		{ID: "%Id items", Str: []string{"%Id Elemente"}},
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(order.String(), func(t *testing.T) {
			b := encodeMO(entries, moOptions{order: order, revision: 1, segments: []string{"PRIuMAX", "I"}, sysdep: sysdep})
			p := writeFile(t, filepath.Join(t.TempDir(), "sys.mo"), b)
			got, err := ReadMO(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestReadMOCharsets(t *testing.T) {
	tests := []struct {
		name    string
		entries []moEntry
		want    []string // msgstr of entry 1
		wantErr []string
	}{
		{"ISO-8859-1", []moEntry{{"", headerWith("ISO-8859-1")}, {"Size", "Gr\xf6\xdfe \xa4"}}, []string{"Größe ¤"}, nil},
		{"iso-8859-1 lower case", []moEntry{{"", headerWith("iso-8859-1")}, {"Menu", "Men\xfc"}}, []string{"Menü"}, nil},
		{"ISO-8859-15", []moEntry{{"", headerWith("ISO-8859-15")}, {"Price", "Preis \xa4 \xbd\xfc"}}, []string{"Preis € œü"}, nil},
		{"ASCII", []moEntry{{"", headerWith("ASCII")}, {"File", "Datei"}}, []string{"Datei"}, nil},
		{"no header", []moEntry{{"File", "Datei"}, {"Size", "Größe"}}, []string{"Größe"}, nil},
		{"header without charset", []moEntry{{"", "Project-Id-Version: x\n"}, {"Size", "Größe"}}, []string{"Größe"}, nil},
		{"EUC-JP", []moEntry{{"", headerWith("EUC-JP")}, {"File", "\xa5\xd5"}}, nil, []string{`charset "EUC-JP" is not supported`, "msgconv"}},
		{"invalid UTF-8", []moEntry{{"", utf8Header}, {"Size", "Gr\xf6\xdfe"}}, nil, []string{"message 1", `msgid "Size"`, "not valid UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "c.mo"), encodeMO(tc.entries, moOptions{}))
			got, err := ReadMO(p)
			if tc.wantErr != nil {
				mustContain(t, err, append(tc.wantErr, p)...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[1].Str, tc.want) {
				t.Errorf("msgstr %q, want %q", got[1].Str, tc.want)
			}
		})
	}
}

func TestReadMOCorrupt(t *testing.T) {
	valid := encodeMO([]moEntry{{"", utf8Header}, {"File", "Datei"}}, moOptions{})
	le32 := func(b []byte, off int, v uint32) []byte {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	// The msgid table starts at 28: entry 1's length is at 36, its offset at 40.
	notTerminated := append([]byte(nil), valid...)
	off := binary.LittleEndian.Uint32(valid[40:])
	notTerminated[off+4] = 'X'
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "shorter than the 28-byte header"},
		{"short", valid[:20], "shorter than the 28-byte header"},
		{"bad magic", append([]byte("PK\x03\x04"), valid[4:]...), "not a GNU .mo file"},
		{"revision 2", le32(valid, 4, 2<<16), "unsupported .mo revision 2.0"},
		{"huge count", le32(valid, 8, 0x7fffffff), "strings announced"},
		{"table beyond end", le32(valid, 12, 1<<30), "beyond the end"},
		{"string beyond end", le32(valid, 40, 1<<30), "msgid 1"},
		{"long length", le32(valid, 36, 1<<31), "beyond the end"},
		{"not NUL-terminated", notTerminated, "not NUL-terminated"},
		{"truncated strings", valid[:len(valid)-10], "beyond the end"},
		{"revision 1 without sysdep header", le32(valid[:40], 4, 1), "beyond the end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "bad.mo"), tc.content)
			_, err := ReadMO(p)
			mustContain(t, err, tc.want, p)
		})
	}
	if _, err := ReadMO(filepath.Join(t.TempDir(), "missing.mo")); err == nil {
		t.Error("a missing file gave no error")
	}
}

// TestReadMONeverPanics truncates valid files at every length and flips random bytes: every
// result is messages or an error.
func TestReadMONeverPanics(t *testing.T) {
	files := [][]byte{
		encodeMO([]moEntry{{"", utf8Header}, {"a\x00b", "c\x00d"}, {"x\x04y", "z"}}, moOptions{order: binary.BigEndian}),
		encodeMO([]moEntry{{"", utf8Header}}, moOptions{revision: 1, segments: []string{"PRId64"},
			sysdep: []moSysdep{{id: []moPiece{{"%", 0}, {" s", -1}}, str: []moPiece{{"%", 0}, {" S", -1}}}}}),
	}
	rng := rand.New(rand.NewPCG(7, 9))
	check := func(b []byte) {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic on %d bytes %x: %v", len(b), b, r)
			}
		}()
		parseMO(b)
	}
	for _, f := range files {
		if _, err := parseMO(f); err != nil {
			t.Fatalf("valid file: %v", err)
		}
		for n := 0; n < len(f); n++ {
			check(f[:n])
		}
		for range 3000 {
			c := append([]byte(nil), f...)
			for k := rng.IntN(4); k >= 0; k-- {
				c[rng.IntN(len(c))] = byte(rng.IntN(256))
			}
			check(c)
		}
	}
}

func TestCatalogPairRules(t *testing.T) {
	tests := []struct {
		name   string
		en, de string
		want   TextPair
		ok     bool
	}{
		{"plain", "Open the file", "Datei öffnen", TextPair{"Open the file", "Datei öffnen"}, true},
		{"whitespace", "  Line one\nline\ttwo  ", "Zeile eins\n\nZeile  zwei", TextPair{"Line one line two", "Zeile eins Zeile zwei"}, true},
		{"underscore accelerator", "_File", "_Datei", TextPair{"File", "Datei"}, true},
		{"accelerator mid-word in German", "Save _As", "Speichern _unter", TextPair{"Save As", "Speichern unter"}, true},
		{"accelerator German umlaut", "_Open", "Ö_ffnen", TextPair{"Open", "Öffnen"}, true},
		{"ampersand accelerator", "&Quit", "&Beenden", TextPair{"Quit", "Beenden"}, true},
		{"accelerator only in English", "_Help", "Hilfe", TextPair{"Help", "Hilfe"}, true},
		{"German with two markers kept", "_Copy", "_Kopieren_x", TextPair{"Copy", "_Kopieren_x"}, true},
		{"identifier underscore kept", "file_name is missing", "file_name fehlt", TextPair{"file_name is missing", "file_name fehlt"}, true},
		{"two underscores kept", "_a_b", "_c_d", TextPair{"_a_b", "_c_d"}, true},
		{"ampersand in text kept", "Drag & Drop", "Ziehen & Ablegen", TextPair{"Drag & Drop", "Ziehen & Ablegen"}, true},
		{"ampersand mid-word kept", "AT&T network", "AT&T-Netz", TextPair{"AT&T network", "AT&T-Netz"}, true},
		{"identical", "OK", "OK", TextPair{}, false},
		{"identical after accelerator", "_OK", "_OK", TextPair{}, false},
		{"no letters", "1/2 -- 3", "½ — 3", TextPair{}, false},
		{"no letters in German", "Page 12", "12", TextPair{}, false},
		{"identical after whitespace", "%d/%d", "%d/%d ", TextPair{}, false},
		{"empty German", "File", " \n", TextPair{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := catalogPair(tc.en, tc.de)
			if ok != tc.ok || got != tc.want {
				t.Errorf("catalogPair(%q, %q) = %q %v, want %q %v", tc.en, tc.de, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCatalogPairs(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.mo"), encodeMO([]moEntry{
		{"", utf8Header},
		{"%d file\x00%d files", "%d Datei\x00%d Dateien"},
		{"File", "Datei"},
		{"menu\x04File", "Datei"},     // same pair with a context: kept once
		{"Untranslated", ""},          // no translation
		{"%d\x00%d", "%d\x00%d"},      // no letters
		{"Big\x00Bigger", "Groß\x00"}, // empty second plural form
		{"Cancel", "Abbrechen"},
	}, moOptions{}))
	b := writeFile(t, filepath.Join(dir, "b.mo"), encodeMO([]moEntry{
		{"", headerWith("ISO-8859-1")},
		{"File", "Datei"}, // repeated from a.mo
		{"Size", "Gr\xf6\xdfe"},
	}, moOptions{order: binary.BigEndian}))
	got, err := CatalogPairs([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := []TextPair{
		{"%d file", "%d Datei"}, {"%d files", "%d Dateien"}, {"File", "Datei"},
		{"Big", "Groß"}, {"Cancel", "Abbrechen"}, {"Size", "Größe"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	bad := writeFile(t, filepath.Join(dir, "bad.mo"), []byte("not a catalog at all, just text"))
	_, err = CatalogPairs([]string{a, bad})
	mustContain(t, err, bad, "not a GNU .mo file")
}

// germanCatalogs returns the German catalogs of this machine, skipping when there are none.
func germanCatalogs(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob("/usr/share/locale/de/LC_MESSAGES/*.mo")
	if len(paths) == 0 {
		t.Skip("no catalogs in /usr/share/locale/de/LC_MESSAGES")
	}
	return paths
}

// TestCatalogPairsSystem builds the corpus from this machine's German catalogs.
func TestCatalogPairsSystem(t *testing.T) {
	paths := germanCatalogs(t)
	pairs, err := CatalogPairs(paths)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d English→German pairs from %d catalogs in /usr/share/locale/de/LC_MESSAGES", len(pairs), len(paths))
	if len(pairs) < 1000 {
		t.Errorf("only %d pairs", len(pairs))
	}
	seen := map[TextPair]bool{}
	for _, p := range pairs {
		if seen[p] || p.Src == p.Tgt || p.Src != strings.TrimSpace(p.Src) || strings.ContainsAny(p.Src+p.Tgt, "\n\t") {
			t.Fatalf("pair breaks the rules: %q", p)
		}
		seen[p] = true
	}
	again, err := CatalogPairs(paths)
	if err != nil || !reflect.DeepEqual(again, pairs) {
		t.Errorf("second run differs (err %v)", err)
	}
}

// TestReadMOAgainstMsgunfmt compares ReadMO with GNU msgunfmt on every German catalog of this
// machine: the same messages, in the same order, with the same texts.
func TestReadMOAgainstMsgunfmt(t *testing.T) {
	if _, err := exec.LookPath("msgunfmt"); err != nil {
		t.Skip("msgunfmt not installed (Debian package gettext)")
	}
	paths := germanCatalogs(t)
	files, total := 0, 0
	for _, p := range paths {
		msgs, err := ReadMO(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		out, err := exec.Command("msgunfmt", "--no-wrap", p).Output()
		if err != nil {
			t.Errorf("msgunfmt %s: %v", p, err)
			continue
		}
		po, err := parsePO(out)
		if err != nil {
			t.Errorf("parsing msgunfmt output of %s: %v", p, err)
			continue
		}
		// ReadMO converts texts to UTF-8; do the same with msgunfmt's output.
		if cs := moCharset(po[0].Str[0]); po[0].IsHeader() && isLatin(cs) {
			for i := range po {
				for j, s := range po[i].Str {
					po[i].Str[j] = decodeLatin(s, strings.Contains(cs, "15"))
				}
				po[i].ID = decodeLatin(po[i].ID, strings.Contains(cs, "15"))
			}
		}
		if len(po) != len(msgs) {
			t.Errorf("%s: ReadMO has %d messages, msgunfmt %d", p, len(msgs), len(po))
			continue
		}
		for i := range po {
			if !reflect.DeepEqual(po[i], msgs[i]) {
				t.Errorf("%s: message %d differs:\nReadMO   %#v\nmsgunfmt %#v", p, i, msgs[i], po[i])
				break
			}
		}
		files++
		total += len(msgs)
	}
	t.Logf("ReadMO agrees with msgunfmt on %d of %d catalogs, %d messages", files, len(paths), total)
}

func isLatin(cs string) bool {
	cs = strings.ToLower(cs)
	return strings.HasPrefix(cs, "iso-8859-1") || strings.HasPrefix(cs, "iso8859-1")
}

// parsePO reads the PO file msgunfmt --no-wrap writes: entries of msgctxt, msgid, msgid_plural
// and msgstr or msgstr[n] lines, each a C-escaped string possibly continued on following lines.
func parsePO(b []byte) ([]Message, error) {
	var msgs []Message
	var cur *Message
	var target *string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	start := func() {
		if cur == nil {
			msgs = append(msgs, Message{})
			cur = &msgs[len(msgs)-1]
		}
	}
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		switch {
		case l == "":
			cur, target = nil, nil
			continue
		case strings.HasPrefix(l, "#"):
			continue
		case strings.HasPrefix(l, `"`):
			if target == nil {
				return nil, fmt.Errorf("line %d: continuation without a keyword", line)
			}
			s, err := unquotePO(l)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", line, err)
			}
			*target += s
			continue
		}
		key, val, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("line %d: %q", line, l)
		}
		s, err := unquotePO(val)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		start()
		switch {
		case key == "msgctxt":
			cur.HasContext, cur.Context, target = true, s, &cur.Context
		case key == "msgid":
			cur.ID, target = s, &cur.ID
		case key == "msgid_plural":
			cur.IDPlural, target = s, &cur.IDPlural
		case key == "msgstr" || strings.HasPrefix(key, "msgstr["):
			cur.Str = append(cur.Str, s)
			target = &cur.Str[len(cur.Str)-1]
		default:
			return nil, fmt.Errorf("line %d: unknown keyword %q", line, key)
		}
	}
	return msgs, sc.Err()
}

// unquotePO undoes the C escapes of a quoted PO string.
func unquotePO(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("not a quoted string: %q", q)
	}
	q = q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '\\' {
			b.WriteByte(q[i])
			continue
		}
		i++
		if i == len(q) {
			return "", fmt.Errorf("trailing backslash")
		}
		switch c := q[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '"':
			b.WriteByte(c)
		default:
			if c >= '0' && c <= '7' {
				j := i
				for j < len(q) && j < i+3 && q[j] >= '0' && q[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(q[i:j], 8, 8)
				b.WriteByte(byte(v))
				i = j - 1
				continue
			}
			return "", fmt.Errorf("unknown escape \\%c", c)
		}
	}
	return b.String(), nil
}
