package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// pyarrowTranslationSchema is the parquet schema pyarrow writes for an Arrow column
// translation: struct<de: string, en: string> with nullable struct and fields (see parquet.go).
const pyarrowTranslationSchema = `message schema {
	optional group translation {
		optional binary de (STRING);
		optional binary en (STRING);
	}
}`

func samplePairs(n int) []TextPair {
	pairs := make([]TextPair, n)
	for i := range pairs {
		pairs[i] = TextPair{
			Src: fmt.Sprintf("Sentence %d of the corpus, with %s.", i, strings.Repeat("words ", i%7)),
			Tgt: fmt.Sprintf("Satz %d des Korpus, mit Umlauten äöüß %s.", i, strings.Repeat("Wörter ", i%5)),
		}
	}
	return pairs
}

func TestTranslationsRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		pairs []TextPair
	}{
		{"empty", nil},
		{"one", []TextPair{{"Hello", "Hallo"}}},
		{"empty strings and unicode", []TextPair{{"", ""}, {"a", ""}, {"", "b"}, {"日本語 🙂", "Größe\n\tzwei Zeilen"}}},
		{"long string", []TextPair{{strings.Repeat("x", 1<<20), "kurz"}}},
		// More rows than one row group (100,000) and many pages.
		{"several row groups", samplePairs(250_001)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "train-00000-of-00001.parquet")
			if err := WriteTranslations(p, "en", "de", tc.pairs); err != nil {
				t.Fatal(err)
			}
			got, err := ReadTranslations(p, "en", "de")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.pairs) {
				t.Fatalf("read %d pairs, wrote %d", len(got), len(tc.pairs))
			}
			for i := range got {
				if got[i] != tc.pairs[i] {
					t.Fatalf("pair %d: got %q, wrote %q", i, got[i], tc.pairs[i])
				}
			}
			// The other direction swaps the fields.
			n := 0
			rows, err := ScanTranslations(p, "de", "en", func(pr TextPair) error {
				if want := (TextPair{tc.pairs[n].Tgt, tc.pairs[n].Src}); pr != want {
					return fmt.Errorf("row %d: %q, want %q", n, pr, want)
				}
				n++
				return nil
			})
			if err != nil || rows != int64(len(tc.pairs)) {
				t.Errorf("ScanTranslations de→en: %d rows, %v", rows, err)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp*")); len(left) != 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

// TestWriteTranslationsLayout checks that the written file has pyarrow's schema, levels and
// settings for a struct<de: string, en: string> column.
func TestWriteTranslationsLayout(t *testing.T) {
	p := filepath.Join(t.TempDir(), "validation-00000-of-00001.parquet")
	if err := WriteTranslations(p, "en", "de", samplePairs(3)); err != nil {
		t.Fatal(err)
	}
	f, closeFile := openParquet(t, p)
	defer closeFile()
	if got := f.Schema().String(); got != pyarrowTranslationSchema {
		t.Errorf("schema\n%s\nwant\n%s", got, pyarrowTranslationSchema)
	}
	// Fields in name order whatever the argument order: de is column 0, en column 1.
	for i, lang := range []string{"de", "en"} {
		leaf, ok := f.Schema().Lookup("translation", lang)
		if !ok || leaf.ColumnIndex != i || leaf.MaxDefinitionLevel != 2 || leaf.MaxRepetitionLevel != 0 {
			t.Errorf("translation.%s: found %v, column %d, max definition level %d, max repetition level %d; want column %d, 2, 0",
				lang, ok, leaf.ColumnIndex, leaf.MaxDefinitionLevel, leaf.MaxRepetitionLevel, i)
		}
	}
	for col, want := range [][]byte{{2, 2, 2}, {2, 2, 2}} {
		def, rep := pageLevels(t, f, col)
		if !reflect.DeepEqual(def, want) || len(rep) != 0 {
			t.Errorf("column %d: definition levels %v (want %v), repetition levels %v (want none)", col, def, want, rep)
		}
	}
	meta, ok := f.Lookup("huggingface")
	if want := `{"info": {"features": {"translation": {"languages": ["de", "en"], "_type": "Translation"}}}}`; !ok || meta != want {
		t.Errorf("huggingface metadata %q, want %q", meta, want)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Metadata().RowGroups[0].Columns {
		if got := fmt.Sprint(c.MetaData.Encoding); got != "[PLAIN RLE]" {
			t.Errorf("column %v: encodings %v, want PLAIN values and RLE levels", c.MetaData.PathInSchema, c.MetaData.Encoding)
		}
		if c.MetaData.Codec != format.Snappy {
			t.Errorf("column %v: codec %v, want SNAPPY", c.MetaData.PathInSchema, c.MetaData.Codec)
		}
		// The first page header is thrift compact: field 1 (type, i32) then the page type as a
		// zigzag varint: 0x15 0x00 is DATA_PAGE (version 1), 0x15 0x06 would be DATA_PAGE_V2.
		if off := c.MetaData.DataPageOffset; raw[off] != 0x15 || raw[off+1] != 0x00 {
			t.Errorf("column %v: first page header starts % x, want 15 00 (DATA_PAGE)", c.MetaData.PathInSchema, raw[off:off+2])
		}
	}
}

// hfRow is a row of a Hugging Face translation file as a Go struct: parquet-go derives the
// nullable struct of nullable strings from the pointers, the same schema pyarrow writes.
type hfRow struct {
	Translation *hfTranslation `parquet:"translation,optional"`
}

type hfTranslation struct {
	De *string `parquet:"de,optional"`
	En *string `parquet:"en,optional"`
}

// TestReadTranslationsNulls reads a file written through parquet-go's own struct mapping, with
// a null struct and null strings: the definition levels are the ones pyarrow writes for them
// (0 null struct, 1 null field, 2 value), and ReadTranslations reads the nulls as "".
func TestReadTranslationsNulls(t *testing.T) {
	s := func(v string) *string { return &v }
	rows := []hfRow{
		{&hfTranslation{De: s("Hallo"), En: s("Hello")}},
		{nil},
		{&hfTranslation{De: nil, En: s("only English")}},
		{&hfTranslation{De: s("nur Deutsch"), En: nil}},
		{&hfTranslation{De: s(""), En: s("")}},
	}
	p := filepath.Join(t.TempDir(), "nulls.parquet")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// The root is named "schema" as pyarrow names it (parquet-go would use the type name).
	schema := parquet.NewSchema("schema", parquet.SchemaOf(hfRow{}))
	w := parquet.NewGenericWriter[hfRow](fh, schema, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	f, closeFile := openParquet(t, p)
	if got := f.Schema().String(); got != pyarrowTranslationSchema {
		t.Errorf("parquet-go's struct schema\n%s\nwant\n%s", got, pyarrowTranslationSchema)
	}
	for col, want := range [][]byte{{2, 0, 1, 2, 2}, {2, 0, 2, 1, 2}} {
		if def, _ := pageLevels(t, f, col); !reflect.DeepEqual(def, want) {
			t.Errorf("column %d: definition levels %v, want %v", col, def, want)
		}
	}
	closeFile()

	got, err := ReadTranslations(p, "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	want := []TextPair{{"Hello", "Hallo"}, {"", ""}, {"only English", ""}, {"", "nur Deutsch"}, {"", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestReadTranslationsIndependentWriters reads files that two other parquet writers produced for
// the same five rows (testdata/make_translation_fixtures.mjs): arrow-rs, the Rust Arrow
// implementation, and DuckDB. Both give pyarrow's schema (only the root's name differs) and
// the definition levels TestReadTranslationsNulls expects, and read back the same.
func TestReadTranslationsIndependentWriters(t *testing.T) {
	want := []TextPair{{"Hello world", "Hallo Welt"}, {"", ""}, {"only English", ""}, {"", "nur Deutsch"}, {"", "Größe"}}
	for _, tc := range []struct{ file, root string }{
		{"translation_arrow_rs.parquet", "arrow_schema"},
		{"translation_duckdb.parquet", "duckdb_schema"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join("testdata", tc.file)
			f, closeFile := openParquet(t, p)
			defer closeFile()
			if got := strings.Replace(f.Schema().String(), tc.root, "schema", 1); got != pyarrowTranslationSchema {
				t.Errorf("schema\n%s\nwant\n%s", got, pyarrowTranslationSchema)
			}
			for col, want := range [][]byte{{2, 0, 1, 2, 2}, {2, 0, 2, 1, 2}} {
				if def, rep := pageLevels(t, f, col); !reflect.DeepEqual(def, want) || len(rep) != 0 {
					t.Errorf("column %d: definition levels %v (want %v), repetition levels %v (want none)", col, def, want, rep)
				}
			}
			got, err := ReadTranslations(p, "en", "de")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestReadTranslationsRequired accepts a struct whose group and fields are required (maximum
// definition level 0), as writers that know the data has no nulls may produce.
func TestReadTranslationsRequired(t *testing.T) {
	schema := parquet.NewSchema("schema", parquet.Group{
		"translation": parquet.Group{"de": parquet.String(), "en": parquet.String()},
	})
	p := writeParquetRows(t, schema, [][2]string{{"eins", "one"}, {"zwei", "two"}}, 0)
	got, err := ReadTranslations(p, "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	if want := []TextPair{{"one", "eins"}, {"two", "zwei"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadTranslationsErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	if err := WriteTranslations(good, "en", "de", samplePairs(100)); err != nil {
		t.Fatal(err)
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	textCol := writeParquetRows(t, parquet.NewSchema("schema", parquet.Group{
		"text": parquet.Optional(parquet.String()),
	}), nil, 0)
	intField := writeParquetRows(t, parquet.NewSchema("schema", parquet.Group{
		"translation": parquet.Optional(parquet.Group{"de": parquet.Optional(parquet.Int(64)), "en": parquet.Optional(parquet.String())}),
	}), nil, 0)
	flat := writeParquetRows(t, parquet.NewSchema("schema", parquet.Group{
		"translation": parquet.Optional(parquet.String()),
	}), nil, 0)
	listField := writeParquetRows(t, parquet.NewSchema("schema", parquet.Group{
		"translation": parquet.Optional(parquet.Group{"de": parquet.Repeated(parquet.String()), "en": parquet.Optional(parquet.String())}),
	}), nil, 0)
	jsonField := writeParquetRows(t, parquet.NewSchema("schema", parquet.Group{
		"translation": parquet.Optional(parquet.Group{"de": parquet.Optional(parquet.JSON()), "en": parquet.Optional(parquet.String())}),
	}), nil, 0)
	tests := []struct {
		name     string
		path     string
		src, tgt string
		want     []string
	}{
		{"missing file", filepath.Join(dir, "absent.parquet"), "en", "de", []string{"absent.parquet"}},
		{"not parquet", writeFile(t, filepath.Join(dir, "text.parquet"), []byte("just some text, not parquet")), "en", "de", []string{"not a readable parquet file", "fetch it again"}},
		{"truncated", writeFile(t, filepath.Join(dir, "cut.parquet"), goodBytes[:len(goodBytes)/2]), "en", "de", []string{"cut.parquet"}},
		{"no translation column", textCol, "en", "de", []string{`no column "translation" (columns: text)`, "expected column \"translation\" of type struct<de: string, en: string>"}},
		{"language missing", good, "en", "fr", []string{`column "translation" has no field "fr" (fields: de, en)`, "struct<en: string, fr: string>"}},
		{"integer field", intField, "en", "de", []string{"field translation.de is optional INT(64,true), not a string", "optional binary de (STRING)"}},
		{"not a struct", flat, "en", "de", []string{`column "translation" is optional STRING, not a struct`}},
		{"repeated field", listField, "en", "de", []string{"field translation.de is repeated STRING, not a string"}},
		{"JSON field", jsonField, "en", "de", []string{"field translation.de is binary with logical type JSON, not a string"}},
		{"same language twice", good, "en", "en", []string{`two different language codes, got "en" and "en"`}},
		{"no language", good, "", "de", []string{"two different language codes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTranslations(tc.path, tc.src, tc.tgt)
			mustContain(t, err, append(tc.want, tc.path)...)
		})
	}
}

func TestScanTranslationsStops(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.parquet")
	if err := WriteTranslations(p, "en", "de", samplePairs(10_000)); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	rows, err := ScanTranslations(p, "en", "de", func(pr TextPair) error {
		if strings.HasPrefix(pr.Src, "Sentence 5000 ") {
			return stop
		}
		return nil
	})
	if err != stop || rows != 5000 {
		t.Errorf("got %d rows and %v, want 5000 and the callback's error", rows, err)
	}
}

func TestWriteTranslationsErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, src, tgt string
		want                 string
	}{
		{"missing folder", filepath.Join(dir, "no", "such", "dir", "a.parquet"), "en", "de", "no/such/dir"},
		{"same language", filepath.Join(dir, "a.parquet"), "de", "de", `two different language codes, got "de" and "de"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteTranslations(tc.path, tc.src, tc.tgt, samplePairs(2))
			mustContain(t, err, tc.want, tc.path)
		})
	}
}

func TestWMT17DeEnParquet(t *testing.T) {
	names, urls, err := WMT17DeEnParquet("train")
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"train-00000-of-00004.parquet", "train-00001-of-00004.parquet", "train-00002-of-00004.parquet", "train-00003-of-00004.parquet"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("names %v, want %v", names, wantNames)
	}
	if want := "https://huggingface.co/datasets/wmt/wmt17/resolve/54d3aacfb5429020b9b85b170a677e4bc92f2449/de-en/train-00003-of-00004.parquet"; urls[3] != want {
		t.Errorf("url %s, want %s", urls[3], want)
	}
	for _, split := range []string{"validation", "test"} {
		names, _, err := WMT17DeEnParquet(split)
		if err != nil || len(names) != 1 || names[0] != split+"-00000-of-00001.parquet" {
			t.Errorf("%s: %v %v", split, names, err)
		}
	}
	_, _, err = WMT17DeEnParquet("dev")
	mustContain(t, err, `no split "dev"`)
}

// BenchmarkReadTranslations reads a 200,000-pair file and reports pairs per second.
func BenchmarkReadTranslations(b *testing.B) {
	p := filepath.Join(b.TempDir(), "bench.parquet")
	pairs := samplePairs(200_000)
	if err := WriteTranslations(p, "en", "de", pairs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		n, err := ScanTranslations(p, "en", "de", func(TextPair) error { return nil })
		if err != nil || n != int64(len(pairs)) {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	b.ReportMetric(float64(len(pairs))*float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// openParquet opens a parquet file for inspection.
func openParquet(t *testing.T, path string) (*parquet.File, func()) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return f, func() { fh.Close() }
}

// pageLevels returns the definition and repetition levels stored in the pages of leaf column
// col of the first row group.
func pageLevels(t *testing.T, f *parquet.File, col int) (def, rep []byte) {
	t.Helper()
	pages := f.RowGroups()[0].ColumnChunks()[col].Pages()
	defer pages.Close()
	for {
		pg, err := pages.ReadPage()
		if err == io.EOF {
			return def, rep
		}
		if err != nil {
			t.Fatal(err)
		}
		def = append(def, pg.DefinitionLevels()...)
		rep = append(rep, pg.RepetitionLevels()...)
	}
}

// writeParquetRows writes rows of two byte-array values (columns 0 and 1 of schema, at
// definition level def) to a new file; with no rows it writes an empty file of that schema.
func writeParquetRows(t *testing.T, schema *parquet.Schema, rows [][2]string, def int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fixture.parquet")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(fh, schema)
	for _, r := range rows {
		row := parquet.Row{
			parquet.ByteArrayValue([]byte(r[0])).Level(0, def, 0),
			parquet.ByteArrayValue([]byte(r[1])).Level(0, def, 1),
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
