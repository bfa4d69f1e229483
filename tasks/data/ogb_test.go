package data_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks/data"
)

// writeZip writes files (path in the zip → content, gzip'd when the name ends in .gz) as a zip.
func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, text := range files {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			gz := gzip.NewWriter(f)
			gz.Write([]byte(text))
			gz.Close()
		} else {
			f.Write([]byte(text))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hivFiles is a two-molecule set in OGB's CSV layout, written by hand: graph 0 has 3 atoms
// and bonds (0,1), (1,2); graph 1 has 2 atoms and bond (0,1); labels 0 and 1.
func hivFiles() map[string]string {
	return map[string]string{
		"hiv/mapping/mol.csv.gz":          "HIV_active,smiles,mol_id\n0,CCO,1\n1,CN,2\n",
		"hiv/raw/num_node_list.csv.gz":    "3\n2\n",
		"hiv/raw/num_edge_list.csv.gz":    "2\n1\n",
		"hiv/raw/node_feat.csv.gz":        "5,0,4,5,3,0,2,0,0\n7,0,4,5,3,0,2,0,0\n5,0,4,5,3,0,2,0,0\n5,0,4,5,3,0,2,0,0\n6,0,3,5,3,0,2,0,0\n",
		"hiv/raw/edge.csv.gz":             "0,1\n1,2\n0,1\n",
		"hiv/raw/edge_feat.csv.gz":        "0,0,0\n1,0,1\n0,0,0\n",
		"hiv/raw/graph-label.csv.gz":      "0\n1\n",
		"hiv/split/scaffold/train.csv.gz": "0\n",
		"hiv/split/scaffold/valid.csv.gz": "1\n",
		"hiv/split/scaffold/test.csv.gz":  "1\n0\n",
	}
}

// TestReadOGB reads the hand-written set from the zip and from the extracted folder, with
// inverse edges interleaved as ogb.io.read_csv_graph_raw adds them, and writes it back with
// WriteOGBZip to the same content.
func TestReadOGB(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "hiv.zip")
	writeZip(t, zipPath, hivFiles())
	extracted := filepath.Join(dir, "x")
	for name, text := range hivFiles() {
		p := filepath.Join(extracted, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		gz.Write([]byte(text))
		gz.Close()
		os.WriteFile(p, buf.Bytes(), 0o644)
	}
	want := &data.OGBGraphs{
		NodeStart: []int{0, 3, 5}, EdgeStart: []int{0, 4, 6},
		NodeFeat: []int64{5, 0, 4, 5, 3, 0, 2, 0, 0, 7, 0, 4, 5, 3, 0, 2, 0, 0, 5, 0, 4, 5, 3, 0, 2, 0, 0,
			5, 0, 4, 5, 3, 0, 2, 0, 0, 6, 0, 3, 5, 3, 0, 2, 0, 0},
		NodeFeatDim: 9, EdgeFeatDim: 3,
		Src:      []int64{0, 1, 1, 2, 0, 1},
		Dst:      []int64{1, 0, 2, 1, 1, 0},
		EdgeFeat: []int64{0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0},
		Labels:   []float64{0, 1},
		Splits:   map[string][]int{"train": {0}, "valid": {1}, "test": {1, 0}},
	}
	for _, src := range []string{zipPath, extracted} {
		got, err := data.ReadOGB(src, "hiv", "scaffold", true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", src, got, want)
		}
		if err := got.CheckVocab([]int{119, 5, 12, 12, 10, 6, 6, 2, 2}, []int{5, 6, 2}); err != nil {
			t.Error(err)
		}
	}
	if !data.OGBPresent(extracted, "hiv") || data.OGBPresent(dir, "hiv") {
		t.Error("OGBPresent wrong")
	}
	// Without inverse edges the listed edges stay as they are.
	plain, err := data.ReadOGB(zipPath, "hiv", "scaffold", false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain.Src, []int64{0, 1, 0}) || !reflect.DeepEqual(plain.EdgeStart, []int{0, 2, 3}) {
		t.Errorf("no inverse: src %v edge starts %v", plain.Src, plain.EdgeStart)
	}
	// Round trip through the writer.
	want.Labels[1] = math.NaN()
	again := filepath.Join(dir, "again.zip")
	if err := data.WriteOGBZip(again, "hiv", "scaffold", want, true); err != nil {
		t.Fatal(err)
	}
	back, err := data.ReadOGB(again, "hiv", "scaffold", true)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Labels[1]) || back.Labels[0] != 0 {
		t.Errorf("labels after round trip: %v", back.Labels)
	}
	back.Labels, want.Labels = nil, nil
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, want)
	}
}

// TestReadOGBErrors: damaged or inconsistent files give errors that name the file and line.
func TestReadOGBErrors(t *testing.T) {
	cases := []struct {
		name, file, content, want string
	}{
		{"missing file", "hiv/raw/edge_feat.csv.gz", "", "has no hiv/raw/edge_feat.csv.gz"},
		{"bad integer", "hiv/raw/node_feat.csv.gz", "5,0,4,5,3,0,2,0,x\n", `line 1: not an integer: "x"`},
		{"ragged rows", "hiv/raw/node_feat.csv.gz", "5,0,4,5,3,0,2,0,0\n5,0\n", "line 2: 2 columns, earlier lines have 9"},
		{"row count", "hiv/raw/node_feat.csv.gz", "5,0,4,5,3,0,2,0,0\n", "has 1 rows, the graph sizes say 5"},
		{"edge outside graph", "hiv/raw/edge.csv.gz", "0,1\n1,3\n0,1\n", "line 2: edge (1, 3) outside graph 0's 3 nodes"},
		{"graph count", "hiv/raw/num_edge_list.csv.gz", "2\n1\n0\n", "lists 2 graphs but"},
		{"labels", "hiv/raw/graph-label.csv.gz", "0\n", "has 1 labels for 2 graphs"},
		{"split index", "hiv/split/scaffold/test.csv.gz", "7\n", "line 1: graph 7 outside 0..1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := hivFiles()
			if c.content == "" {
				delete(files, c.file)
			} else {
				files[c.file] = c.content
			}
			p := filepath.Join(t.TempDir(), "hiv.zip")
			writeZip(t, p, files)
			_, err := data.ReadOGB(p, "hiv", "scaffold", true)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
	t.Run("not gzip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "hiv.zip")
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, text := range hivFiles() {
			f, _ := zw.Create(name)
			f.Write([]byte(text)) // plain text under a .gz name
		}
		zw.Close()
		os.WriteFile(p, buf.Bytes(), 0o644)
		if _, err := data.ReadOGB(p, "hiv", "scaffold", true); err == nil || !strings.Contains(err.Error(), "is not gzip data") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("not a zip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "hiv.zip")
		os.WriteFile(p, []byte("<html>moved</html>"), 0o644)
		if _, err := data.ReadOGB(p, "hiv", "scaffold", true); err == nil || !strings.Contains(err.Error(), "is not a zip archive") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("vocabulary", func(t *testing.T) {
		files := hivFiles()
		files["hiv/raw/edge_feat.csv.gz"] = "0,0,0\n5,0,1\n0,0,0\n"
		p := filepath.Join(t.TempDir(), "hiv.zip")
		writeZip(t, p, files)
		d, err := data.ReadOGB(p, "hiv", "scaffold", true)
		if err != nil {
			t.Fatal(err)
		}
		err = d.CheckVocab([]int{119, 5, 12, 12, 10, 6, 6, 2, 2}, []int{5, 6, 2})
		if err == nil || !strings.Contains(err.Error(), "edge 2 feature 0 is 5, outside [0, 5)") {
			t.Fatalf("error %v", err)
		}
	})
}
