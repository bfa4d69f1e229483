package data

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// The tiny fixture (testdata/make_pickle_fixtures.py): 512 nodes, test rows stored in
// test.index order 511, 509, 510, a ring graph plus a self loop and a duplicate edge.
func TestLoadPlanetoidTiny(t *testing.T) {
	p, err := LoadPlanetoid(filepath.Join("testdata", "planetoid_tiny"), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if p.NumNodes != 512 || p.NumFeatures != 4 || p.NumClasses != 3 {
		t.Fatalf("sizes %d %d %d", p.NumNodes, p.NumFeatures, p.NumClasses)
	}
	row := func(i int) []float32 { return p.Features[i*4 : (i+1)*4] }
	// Node i < 509: feature i%4 = i%3 + 1, class i%3.
	for _, i := range []int{0, 1, 5, 508} {
		want := make([]float32, 4)
		want[i%4] = float32(i%3 + 1)
		if !reflect.DeepEqual(row(i), want) || p.Labels[i] != int64(i%3) {
			t.Errorf("node %d: %v class %d", i, row(i), p.Labels[i])
		}
	}
	// tx row k belongs to node test.index[k]; ty classes were 2, 0, 1.
	for k, node := range []int{511, 509, 510} {
		want := []float32{float32(10 + k), 0, 0, float32(20 + k)}
		if !reflect.DeepEqual(row(node), want) || p.Labels[node] != []int64{2, 0, 1}[k] {
			t.Errorf("test node %d: %v class %d, want %v class %d", node, row(node), p.Labels[node], want, []int64{2, 0, 1}[k])
		}
	}
	if got := MaskIndices(p.TrainMask); !reflect.DeepEqual(got, []int{0, 1}) {
		t.Errorf("train %v", got)
	}
	if got := MaskIndices(p.ValMask); len(got) != 500 || got[0] != 2 || got[499] != 501 {
		t.Errorf("val %d nodes from %d", len(got), got[0])
	}
	if got := MaskIndices(p.TestMask); !reflect.DeepEqual(got, []int{509, 510, 511}) {
		t.Errorf("test %v", got)
	}
	if len(p.Src) != 1024 {
		t.Errorf("%d edges, want 1024 (ring both ways, self loop and duplicate dropped)", len(p.Src))
	}
	if !(p.Src[0] == 0 && p.Dst[0] == 1 && p.Src[1] == 0 && p.Dst[1] == 511 && p.Src[2] == 1 && p.Dst[2] == 0) {
		t.Errorf("edges not sorted by (src, dst): %v %v", p.Src[:3], p.Dst[:3])
	}
	ei := p.EdgeIndex()
	if !reflect.DeepEqual(ei.Shape, []int{2, 1024}) || ei.I64[1024] != 1 || ei.Validate() != nil {
		t.Errorf("edge index %v", ei.Shape)
	}
}

func TestNormalizeFeatures(t *testing.T) {
	tests := []struct {
		name string
		x    []float32
		want []float32
	}{
		{"row sums", []float32{1, 1, 2, 0, 0, 0, 0, 3, 1}, []float32{0.25, 0.25, 0.5, 0, 0, 0, 0, 0.75, 0.25}},
		// PyG subtracts the global minimum first and never divides by a sum below 1.
		{"negative and small", []float32{-1, 0, 1, -1, -1, -0.5}, []float32{0, 1.0 / 3, 2.0 / 3, 0, 0, 0.5}},
	}
	for _, tc := range tests {
		got := NormalizeFeatures(tc.x, len(tc.x)/3, 3)
		for i := range got {
			if math.Abs(float64(got[i]-tc.want[i])) > 1e-7 {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

// Cora as PyG's Planetoid(name="Cora") yields it: 2,708 nodes, 1,433 features, 10,556 directed
// edges, class sizes 351/217/418/818/426/298/180, public split 140/500/1000, test rows reordered.
func TestLoadPlanetoidCora(t *testing.T) {
	p, err := LoadPlanetoid(filepath.Join(mirror(t), "cora"), "Cora")
	if err != nil {
		t.Fatal(err)
	}
	if p.NumNodes != 2708 || p.NumFeatures != 1433 || p.NumClasses != 7 {
		t.Fatalf("sizes %d %d %d", p.NumNodes, p.NumFeatures, p.NumClasses)
	}
	counts := p.ClassCounts()
	t.Logf("nodes %d, features %d, edges %d, class counts %v", p.NumNodes, p.NumFeatures, len(p.Src), counts)
	if want := []int{351, 217, 418, 818, 426, 298, 180}; !reflect.DeepEqual(counts, want) {
		t.Errorf("class counts %v, want %v", counts, want)
	}
	if len(p.Src) != 10556 {
		t.Errorf("%d edges, want 10556", len(p.Src))
	}
	edges := map[[2]int64]bool{}
	for i := range p.Src {
		if p.Src[i] == p.Dst[i] {
			t.Fatalf("self loop at %d", p.Src[i])
		}
		edges[[2]int64{p.Src[i], p.Dst[i]}] = true
	}
	for e := range edges {
		if !edges[[2]int64{e[1], e[0]}] {
			t.Fatalf("edge %v without its reverse", e)
		}
	}
	train, val, test := MaskIndices(p.TrainMask), MaskIndices(p.ValMask), MaskIndices(p.TestMask)
	if len(train) != 140 || len(val) != 500 || len(test) != 1000 || train[139] != 139 || val[0] != 140 || val[499] != 639 || test[0] != 1708 || test[999] != 2707 {
		t.Errorf("split %d/%d/%d", len(train), len(val), len(test))
	}
	perClass := func(idx []int) []int {
		c := make([]int, 7)
		for _, i := range idx {
			c[p.Labels[i]]++
		}
		return c
	}
	if got := perClass(train); !reflect.DeepEqual(got, []int{20, 20, 20, 20, 20, 20, 20}) {
		t.Errorf("train classes %v", got)
	}
	// Reference values from the raw files with the test rows placed at their test.index nodes.
	if got := perClass(test); !reflect.DeepEqual(got, []int{130, 91, 144, 319, 149, 103, 64}) {
		t.Errorf("test classes %v", got)
	}
	if got := p.Labels[:10]; !reflect.DeepEqual(got, []int64{3, 4, 4, 0, 3, 2, 0, 3, 3, 2}) {
		t.Errorf("labels[:10] %v", got)
	}
	for i, node := range []int{2692, 2532, 2050, 1715, 2362} { // the first lines of test.index
		if want := []int64{3, 1, 6, 2, 4}[i]; p.Labels[node] != want {
			t.Errorf("label of test node %d = %d, want %d", node, p.Labels[node], want)
		}
	}
	nnz := 0
	for _, v := range p.Features {
		if v != 0 {
			nnz++
		}
	}
	if nnz != 49216 {
		t.Errorf("%d non-zero features, want 49216", nnz)
	}
	var nz []int
	for j, v := range p.Features[2692*1433 : 2693*1433] {
		if v != 0 {
			nz = append(nz, j)
		}
	}
	if want := []int{311, 314, 353, 505, 510, 621, 1075, 1132}; len(nz) < 8 || !reflect.DeepEqual(nz[:8], want) {
		t.Errorf("features of node 2692 at %v, want to start %v", nz, want)
	}
	norm := p.NormalizedFeatures()
	for _, i := range []int{0, 1708, 2707} {
		var s float64
		for _, v := range norm[i*1433 : (i+1)*1433] {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("normalized row %d sums to %v", i, s)
		}
	}
}

// Damaged Planetoid files are errors naming the file.
func TestLoadPlanetoidDamaged(t *testing.T) {
	src := filepath.Join("testdata", "planetoid_tiny")
	tests := []struct {
		name   string
		file   string
		damage func([]byte) []byte
		want   string
	}{
		{"truncated pickle", "ind.tiny.allx", func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		{"missing file", "ind.tiny.ty", nil, "no such file"},
		{"bad index line", "ind.tiny.test.index", func([]byte) []byte { return []byte("511\nx\n510\n") }, "line 2"},
		{"index out of range", "ind.tiny.test.index", func([]byte) []byte { return []byte("511\n509\n9999\n") }, "outside"},
		{"labels not a matrix", "ind.tiny.y", func([]byte) []byte { return []byte("\x80\x02K\x01.") }, "holds a int64"},
		{"graph not a dict", "ind.tiny.graph", func([]byte) []byte { return []byte("\x80\x02].") }, "not an adjacency dict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			entries, _ := os.ReadDir(src)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(src, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if e.Name() == tc.file {
					if tc.damage == nil {
						continue
					}
					b = tc.damage(slices.Clone(b))
				}
				writeFile(t, filepath.Join(dir, e.Name()), b)
			}
			_, err := LoadPlanetoid(dir, "tiny")
			mustContain(t, err, tc.want, filepath.Join(dir, tc.file))
		})
	}
}
