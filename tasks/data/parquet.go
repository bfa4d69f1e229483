package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/fob-go/fob/internal/atomicfile"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Parallel corpora in the parquet form the Hugging Face hub serves, as FOB's translation task
// loads them with datasets.load_dataset("wmt17", "de-en").
//
// The hub's wmt/wmt17 repository: at revision e126783e58293db0be0c11dca4a4d2e6f4dcf0cd
// ("Replace wmt18 main branch with main-zip") it holds only the loading script (wmt17.py,
// wmt_utils.py, README.md), which downloads the original WMT archives; the parquet files arrive
// in the next commit, 54d3aacfb5429020b9b85b170a677e4bc92f2449 ("Convert dataset to Parquet
// (#8)"), still the head of main. Its README declares the config de-en with data_files
// de-en/train-*, de-en/validation-*, de-en/test-* and the feature translation:
// Translation(languages [de, en]); splits train 5,906,184 rows, validation 2,999 (newstest2016),
// test 3,004 (newstest2017). The files, at
//
//	https://huggingface.co/datasets/wmt/wmt17/resolve/54d3aacfb5429020b9b85b170a677e4bc92f2449/de-en/<name>
//
// are train-00000-of-00004.parquet (274 MB), train-00001-of-00004.parquet (261 MB),
// train-00002-of-00004.parquet (267 MB), train-00003-of-00004.parquet (208 MB),
// validation-00000-of-00001.parquet (475 kB) and test-00000-of-00001.parquet (471 kB)
// (download_size 1,011,327,465 bytes). The dataset viewer's branch refs/convert/parquet now holds
// copies of the same four train files as de-en/train/0000.parquet … 0003.parquet, with
// de-en/validation/0000.parquet and de-en/test/0000.parquet (earlier conversions used
// de-en/wmt17-train-0000N-of-00004.parquet, wmt17-validation.parquet, wmt17-test.parquet, with
// different train sizes); the branch moves, so the commit above is the one to pin.
//
// Every file has one column, translation, of Arrow type struct<de: string, en: string> (the
// Translation feature's languages, sorted). pyarrow writes an Arrow struct column with nullable
// fields as the parquet schema
//
//	message schema {
//	  optional group translation {
//	    optional binary de (STRING);
//	    optional binary en (STRING);
//	  }
//	}
//
// that is, two leaf columns translation.de and translation.en, maximum repetition level 0 (no
// repetition levels are stored) and maximum definition level 2: a row with both strings has
// definition level 2 in both columns, a null string 1 in its column, a null struct 0 in both.
// WriteTranslations writes exactly this schema and these levels; ReadTranslations also accepts
// required groups or fields (lower maximum definition levels), and reads any null as "".

// WMT17ParquetRevision is the wmt/wmt17 commit on the Hugging Face hub holding the parquet files.
const WMT17ParquetRevision = "54d3aacfb5429020b9b85b170a677e4bc92f2449"

// wmt17DeEnShards is the number of parquet files of each split of wmt/wmt17 de-en.
var wmt17DeEnShards = map[string]int{"train": 4, "validation": 1, "test": 1}

// WMT17DeEnParquet returns the file names of a split of wmt/wmt17 de-en ("train", "validation"
// or "test") and their download URLs at WMT17ParquetRevision.
func WMT17DeEnParquet(split string) (names, urls []string, err error) {
	n, ok := wmt17DeEnShards[split]
	if !ok {
		return nil, nil, fmt.Errorf("data: wmt17 de-en has no split %q (it has train, validation, test)", split)
	}
	for i := range n {
		name := fmt.Sprintf("%s-%05d-of-%05d.parquet", split, i, n)
		names = append(names, name)
		urls = append(urls, "https://huggingface.co/datasets/wmt/wmt17/resolve/"+WMT17ParquetRevision+"/de-en/"+name)
	}
	return names, urls, nil
}

// TextPair is one sentence in two languages: Src in the source language, Tgt in the target.
type TextPair struct {
	Src, Tgt string
}

// translationColumn is the name of the struct column of Hugging Face translation datasets.
const translationColumn = "translation"

// expectedSchema describes the schema ReadTranslations expects, for error messages.
func expectedSchema(src, tgt string) string {
	a, b := src, tgt
	if b < a {
		a, b = b, a
	}
	return fmt.Sprintf("column %q of type struct<%s: string, %s: string> (parquet: optional group %s { optional binary %s (STRING); optional binary %s (STRING); })",
		translationColumn, a, b, translationColumn, a, b)
}

// ReadTranslations reads the translation column of a Hugging Face parquet file, returning one
// pair per row in file order: Src from the struct field src, Tgt from tgt (language codes,
// e.g. "en" and "de"). A null struct or string reads as "". See ScanTranslations for the
// streaming form.
func ReadTranslations(path, src, tgt string) ([]TextPair, error) {
	var out []TextPair
	_, err := scanTranslations(path, src, tgt, func(f *parquet.File) { out = make([]TextPair, 0, f.NumRows()) },
		func(p TextPair) error {
			out = append(out, p)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanTranslations calls fn for every row of the translation column of a Hugging Face parquet
// file, in file order, and returns the number of rows. It reads a few thousand values of each
// string column at a time, so memory does not grow with the file; an error from fn stops the
// scan and is returned as it is.
func ScanTranslations(path, src, tgt string, fn func(TextPair) error) (int64, error) {
	return scanTranslations(path, src, tgt, nil, fn)
}

func scanTranslations(path, src, tgt string, start func(*parquet.File), fn func(TextPair) error) (rows int64, err error) {
	if src == "" || tgt == "" || src == tgt {
		return 0, fmt.Errorf("data: reading %s: need two different language codes, got %q and %q", path, src, tgt)
	}
	fh, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("data: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return 0, fmt.Errorf("data: %w", err)
	}
	inCallback := false
	// parquet-go may panic on corrupt input; report that as an error naming the file (a panic in
	// fn is the caller's and goes on).
	defer func() {
		if r := recover(); r != nil {
			if inCallback {
				panic(r)
			}
			rows, err = 0, fmt.Errorf("data: %s: corrupt parquet file: %v", path, r)
		}
	}()
	f, err := parquet.OpenFile(fh, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, fmt.Errorf("data: %s is not a readable parquet file (%v); delete it and fetch it again", path, err)
	}
	cols := [2]string{src, tgt}
	var leaves [2]parquet.LeafColumn
	for i, lang := range cols {
		leaf, err := translationLeaf(f.Schema(), lang)
		if err != nil {
			return 0, fmt.Errorf("data: %s: %v; expected %s", path, err, expectedSchema(src, tgt))
		}
		leaves[i] = leaf
	}
	if start != nil {
		start(f)
	}
	sc := &translationScanner{path: path, cols: cols, fn: fn, inCallback: &inCallback}
	for g, rg := range f.RowGroups() {
		if err := sc.rowGroup(g, rg, leaves); err != nil {
			return sc.rows, err
		}
	}
	return sc.rows, nil
}

// translationScanner reads row groups of a translation file in batches of scanBatch rows.
type translationScanner struct {
	path       string
	cols       [2]string // the languages of Src and Tgt
	fn         func(TextPair) error
	inCallback *bool
	rows       int64
	vals       [2][]parquet.Value
	strs       [2][]string
}

const scanBatch = 4096

// rowGroup passes the rows of row group g to fn, reading the two string columns side by side.
func (sc *translationScanner) rowGroup(g int, rg parquet.RowGroup, leaves [2]parquet.LeafColumn) error {
	if sc.vals[0] == nil {
		for i := range sc.vals {
			sc.vals[i] = make([]parquet.Value, scanBatch)
			sc.strs[i] = make([]string, 0, scanBatch)
		}
	}
	chunks := rg.ColumnChunks()
	var readers [2]parquet.ColumnChunkValueReader
	for i, leaf := range leaves {
		readers[i] = parquet.NewColumnChunkValueReader(chunks[leaf.ColumnIndex])
		defer readers[i].Close()
	}
	colErr := func(i int, err error) error {
		return fmt.Errorf("data: %s: row group %d, column %s.%s: %w", sc.path, g, translationColumn, sc.cols[i], err)
	}
	var n int64
	for {
		// Up to scanBatch values of the first column, then as many of the second.
		for i := range sc.strs {
			sc.strs[i] = sc.strs[i][:0]
		}
		if err := readStrings(readers[0], sc.vals[0], scanBatch, &sc.strs[0]); err != nil {
			return colErr(0, err)
		}
		want := len(sc.strs[0])
		if want == 0 {
			// The second column must end here too.
			want = 1
		}
		if err := readStrings(readers[1], sc.vals[1], want, &sc.strs[1]); err != nil {
			return colErr(1, err)
		}
		if len(sc.strs[1]) != len(sc.strs[0]) {
			return fmt.Errorf("data: %s: corrupt parquet file: row group %d has %d values of %s.%s but %d of %s.%s from row %d on",
				sc.path, g, len(sc.strs[0]), translationColumn, sc.cols[0], len(sc.strs[1]), translationColumn, sc.cols[1], n)
		}
		if len(sc.strs[0]) == 0 {
			break
		}
		n += int64(len(sc.strs[0]))
		*sc.inCallback = true
		for k := range sc.strs[0] {
			if err := sc.fn(TextPair{Src: sc.strs[0][k], Tgt: sc.strs[1][k]}); err != nil {
				return err
			}
			sc.rows++
		}
		*sc.inCallback = false
	}
	if n != rg.NumRows() {
		return fmt.Errorf("data: %s: corrupt parquet file: row group %d announces %d rows but holds %d", sc.path, g, rg.NumRows(), n)
	}
	return nil
}

// readStrings appends up to want strings read from r (copies: the values point into page
// buffers that the next read may reuse), fewer only at the end of the column chunk.
func readStrings(r parquet.ColumnChunkValueReader, buf []parquet.Value, want int, out *[]string) error {
	for len(*out) < want {
		n, err := r.ReadValues(buf[:want-len(*out)])
		for _, v := range buf[:n] {
			if v.IsNull() {
				*out = append(*out, "")
			} else {
				*out = append(*out, string(v.ByteArray()))
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// translationLeaf finds the leaf translation.<lang> and checks that it is a non-repeated string
// inside a non-repeated group.
func translationLeaf(s *parquet.Schema, lang string) (parquet.LeafColumn, error) {
	var group parquet.Field
	for _, f := range s.Fields() {
		if f.Name() == translationColumn {
			group = f
		}
	}
	if group == nil {
		var names []string
		for _, f := range s.Fields() {
			names = append(names, f.Name())
		}
		return parquet.LeafColumn{}, fmt.Errorf("no column %q (columns: %s)", translationColumn, strings.Join(names, ", "))
	}
	if group.Leaf() || group.Repeated() {
		return parquet.LeafColumn{}, fmt.Errorf("column %q is %s, not a struct", translationColumn, nodeShape(group))
	}
	leaf, ok := s.Lookup(translationColumn, lang)
	if !ok {
		var names []string
		for _, f := range group.Fields() {
			names = append(names, f.Name())
		}
		return parquet.LeafColumn{}, fmt.Errorf("column %q has no field %q (fields: %s)", translationColumn, lang, strings.Join(names, ", "))
	}
	if !leaf.Node.Leaf() || leaf.MaxRepetitionLevel != 0 || leaf.Node.Type().Kind() != parquet.ByteArray {
		return parquet.LeafColumn{}, fmt.Errorf("field %s.%s is %s, not a string", translationColumn, lang, nodeShape(leaf.Node))
	}
	if lt := leaf.Node.Type().LogicalType(); lt != nil && lt.Value != nil {
		if _, ok := lt.Value.(*format.StringType); !ok {
			return parquet.LeafColumn{}, fmt.Errorf("field %s.%s is binary with logical type %s, not a string", translationColumn, lang, lt)
		}
	}
	return leaf, nil
}

// nodeShape describes a schema node for error messages.
func nodeShape(n parquet.Node) string {
	rep := "required"
	switch {
	case n.Repeated():
		rep = "repeated"
	case n.Optional():
		rep = "optional"
	}
	if n.Leaf() {
		return rep + " " + n.Type().String()
	}
	return rep + " group"
}

// translationSchema is the parquet schema pyarrow writes for a Hugging Face Translation feature
// with the two languages: fields sorted by name, everything optional.
func translationSchema(src, tgt string) *parquet.Schema {
	return parquet.NewSchema("schema", parquet.Group{
		translationColumn: parquet.Optional(parquet.Group{
			src: parquet.Optional(parquet.String()),
			tgt: parquet.Optional(parquet.String()),
		}),
	})
}

// translationRowGroupRows bounds the rows of one row group WriteTranslations writes.
const translationRowGroupRows = 100_000

// WriteTranslations writes pairs as a Hugging Face translation parquet file: one column
// translation of type struct<src, tgt> (fields in name order), in the parquet schema and
// levels pyarrow writes (see the comment at the top of this file), with pyarrow's defaults of
// snappy compression, data page version 1 and PLAIN-encoded strings (pyarrow tries a dictionary
// first and falls back to PLAIN once it outgrows 1 MiB, as sentences make it do), and with the
// datasets library's "huggingface" metadata naming the Translation feature. The file goes to a
// temporary file next to path, which is renamed into place: path never holds a partial file.
func WriteTranslations(path, src, tgt string, pairs []TextPair) error {
	if src == "" || tgt == "" || src == tgt {
		return fmt.Errorf("data: writing %s: need two different language codes, got %q and %q", path, src, tgt)
	}
	langs := []string{src, tgt}
	sort.Strings(langs)
	meta := fmt.Sprintf(`{"info": {"features": {%q: {"languages": [%q, %q], "_type": "Translation"}}}}`, translationColumn, langs[0], langs[1])
	schema := translationSchema(src, tgt)
	srcLeaf, _ := schema.Lookup(translationColumn, src)
	tgtLeaf, _ := schema.Lookup(translationColumn, tgt)

	err := atomicfile.WriteFunc(path, func(out io.Writer) error {
		w := parquet.NewWriter(out, schema,
			parquet.Compression(&parquet.Snappy),
			parquet.DataPageVersion(1),
			parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.Plain),
			parquet.MaxRowsPerRowGroup(translationRowGroupRows),
			parquet.KeyValueMetadata("huggingface", meta),
			parquet.CreatedBy("fob", "", ""),
		)
		const batch = 1024
		rows := make([]parquet.Row, 0, batch)
		for i, p := range pairs {
			// Both strings present: definition level 2 (group and field defined), repetition 0.
			row := make(parquet.Row, 2)
			row[srcLeaf.ColumnIndex] = parquet.ByteArrayValue([]byte(p.Src)).Level(0, 2, srcLeaf.ColumnIndex)
			row[tgtLeaf.ColumnIndex] = parquet.ByteArrayValue([]byte(p.Tgt)).Level(0, 2, tgtLeaf.ColumnIndex)
			rows = append(rows, row)
			if len(rows) == batch || i == len(pairs)-1 {
				if _, err := w.WriteRows(rows); err != nil {
					return err
				}
				rows = rows[:0]
			}
		}
		return w.Close()
	})
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}
