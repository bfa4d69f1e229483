package sentencepiece

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The comparison tests train models with Debian's spm_train on text found on every Debian
// system: the German gettext catalogs (msgid in English, msgstr in German) and the license
// texts. Nothing of it is stored in the repository.
const (
	moGlob       = "/usr/share/locale/de/LC_MESSAGES/*.mo"
	licenseGlob  = "/usr/share/common-licenses/*"
	maxTrain     = 10000
	maxEval      = 4000
	minTextLines = 2000
)

// spmTool returns the path of a sentencepiece command-line tool, failing the test with the
// install command when it is missing (CI installs the package; a silent skip would hide
// that the comparison never ran).
func spmTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: the comparison with the reference sentencepiece needs Debian's "+
			"sentencepiece tools; install them with `apt-get install sentencepiece`", name)
	}
	return p
}

// runSPM runs a sentencepiece tool and returns its standard output.
func runSPM(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(spmTool(t, name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.String()
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes()
}

// outputLines splits a tool's output into lines, expecting want of them.
func outputLines(t testing.TB, out []byte, want int, what string) []string {
	t.Helper()
	s := strings.TrimSuffix(string(out), "\n")
	lines := strings.Split(s, "\n")
	if want == 0 && s == "" {
		lines = nil
	}
	if len(lines) != want {
		t.Fatalf("%s printed %d lines for %d inputs", what, len(lines), want)
	}
	return lines
}

// readMO returns the message ids and translations of a gettext .mo catalog.
func readMO(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 20 {
		return nil, fmt.Errorf("%s: too short for a .mo file", path)
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0x950412de:
		order = binary.LittleEndian
	case 0xde120495:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%s: not a .mo file", path)
	}
	n := int(order.Uint32(b[8:]))
	tables := []int{int(order.Uint32(b[12:])), int(order.Uint32(b[16:]))}
	var out []string
	for i := 0; i < n; i++ {
		for _, table := range tables {
			e := table + 8*i
			if e < 0 || e+8 > len(b) {
				return nil, fmt.Errorf("%s: string table entry %d out of range", path, i)
			}
			l, off := int(order.Uint32(b[e:])), int(order.Uint32(b[e+4:]))
			if off < 0 || l < 0 || off+l > len(b) {
				return nil, fmt.Errorf("%s: string %d out of range", path, i)
			}
			out = append(out, string(b[off:off+l]))
		}
	}
	return out, nil
}

// corpusLines collects distinct non-blank lines of the catalogs and license texts, in a fixed
// order.
func corpusLines() ([]string, error) {
	var lines []string
	seen := map[string]bool{}
	add := func(text string) {
		for _, l := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == 0 || r == 4 }) {
			if strings.TrimSpace(l) == "" || strings.ContainsRune(l, '\r') || seen[l] {
				continue
			}
			seen[l] = true
			lines = append(lines, l)
		}
	}
	mos, _ := filepath.Glob(moGlob)
	sort.Strings(mos)
	for _, p := range mos {
		msgs, err := readMO(p)
		if err != nil {
			return nil, err
		}
		for i, m := range msgs {
			if i < 2 {
				continue // the catalog header
			}
			add(m)
		}
	}
	licenses, _ := filepath.Glob(licenseGlob)
	sort.Strings(licenses)
	for _, p := range licenses {
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		add(string(b))
	}
	return lines, nil
}

// testCorpus is the training text and the lines to compare on.
type testCorpus struct {
	train []string // one sentence per line, for spm_train
	eval  []string
}

var (
	corpusOnce sync.Once
	corpus     testCorpus
	corpusErr  error
)

// loadCorpus collects the corpus once per test binary.
func loadCorpus(t testing.TB) testCorpus {
	t.Helper()
	corpusOnce.Do(func() {
		lines, err := corpusLines()
		if err != nil {
			corpusErr = err
			return
		}
		if len(lines) < minTextLines {
			corpusErr = fmt.Errorf("found only %d lines of text in %s and %s; the comparison needs %d "+
				"(install some packages with German translations, e.g. `apt-get install coreutils`)",
				len(lines), moGlob, licenseGlob, minTextLines)
			return
		}
		var train, eval []string
		for i, l := range lines {
			if i%5 == 0 {
				eval = append(eval, l)
			} else {
				train = append(train, l)
			}
		}
		corpus.train = append(spread(train, maxTrain), trickyLines[:len(trickyLines)/2]...)
		corpus.eval = append(spread(eval, maxEval), trickyLines...)
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpus
}

// writeLines writes lines, one per line, to name in dir and returns the path.
func writeLines(t testing.TB, dir, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// spread returns at most n lines evenly spread over lines.
func spread(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	out := make([]string, n)
	for i := range out {
		out[i] = lines[i*len(lines)/n]
	}
	return out
}

// trickyLines exercise normalization, unknown characters and whitespace handling. The first
// half also goes into the training text.
var trickyLines = []string{
	"  multiple   spaces   inside  and around  ",
	"\ttabs\tand\t\tmore tabs\t",
	"Ｆｕｌｌ－ｗｉｄｔｈ　ｔｅｘｔ：ＡＢＣ　１２３",
	"ligatures: ﬁnd the ﬂow, ﬀ ﬃ ﬄ ﬅ ﬆ",
	"decomposed: Cafe\u0301 Mu\u0308ller Sta\u0308dte a\u030angstro\u0308m",
	"composed: Café Müller Städte ångström ÄÖÜ äöü ß ẞ",
	"digits 3.14159, 1,000,000 and 2024-01-01 at 12:34:56",
	"circled ①②③, superscripts x² y³ ¹, fractions ½ ¾, roman Ⅻ ⅷ",
	"units ㎏ ㎞ ℃ ℡ № ™ ©",
	"emoji: I ❤️ Go 😀🎉👍🏽 👨‍👩‍👧 🇩🇪",
	"Japanese 日本語のテキストです。カタカナ",
	"Greek Ελληνικά, Russian Русский текст, Hebrew עברית",
	"Arabic العربية and Hindi हिन्दी and Georgian ქართული",
	"math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 ∀x∈ℝ: x²≥0",
	"quotes „Anführungszeichen“ «Guillemets» ‹einfach› “double” ‘single’ — – …",
	"no\u00a0break\u00a0space, zero\u200bwidth, soft\u00adhyphen, \ufeffBOM",
	"ideographic\u3000space and ａ　ｂ",
	"the meta symbol ▁ itself ▁▁ and ▁word",
	"literal specials <unk> <s> </s> <pad> <0x41> <sep>",
	"İstanbul ǅemal Ǆ ǆ ﬀ ΣΑΣ ς",
	"bell\x07char and escape\x1b[0m and del\x7f",
	"a\x00NUL byte",
	"carriage\rreturn",
	"bad utf-8 \xff\xfe and \xc3 alone",
	"truncated \xe2\x82 euro and overlong \xc0\xaf and surrogate \xed\xa0\x80 end",
	"trailing lead byte \xe2",
	"\xf0\x9f\x98 cut emoji",
	"user symbols foo<sep>bar [MASK] <x><xy><xyz> @@ ﬁx",
	"digits123abc456def7890",
	"   ",
	"\t",
	"x",
	"▁",
	"A",
	"Zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
	strings.Repeat("Die Datei konnte nicht geöffnet werden; the file could not be opened. ", 30),
	strings.Repeat("ünïcödé", 50),
	"Ünïcödé ÜBER straße STRASSE Fuß",
	"\u00e9\u0301 e\u0301\u0301 \u1e9b\u0323 \u0f77",
	"Hangul 한국어 and jamo \u1100\u1161\u11a8",
	"control \u0085 next line \u2028 line sep \u2029 para sep \u000b vt \u000c ff",
	"wide  ＡＢＣ  ａｂｃ  ！？  ｶﾀｶﾅ",
	"ǈ ǉ ﬃ ℌ ℍ ℎ ℏ",
	"e-mail: user@example.org, URL https://example.org/a?b=c&d=e#f",
	"C:\\Windows\\path and /usr/share/locale",
	"%s %d %1$s %%",
	"$HOME ${VAR} `cmd` 'quoted' \"double\"",
	"tabs\t\tbetween\t\t\twords",
}
