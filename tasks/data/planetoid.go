package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fob-go/fob/runtime/tensor"
)

// Planetoid is one of the Planetoid citation graphs (Cora, CiteSeer, PubMed) with its public
// split, assembled as PyTorch Geometric's Planetoid dataset does.
type Planetoid struct {
	Name        string
	NumNodes    int
	NumFeatures int
	NumClasses  int
	// Features is [NumNodes, NumFeatures] row-major, as stored (not normalized; see
	// NormalizedFeatures).
	Features []float32
	// Labels is the class of each node (argmax of the one-hot rows; 0 for an all-zero row).
	Labels []int64
	// Src and Dst are the directed edges the adjacency dict lists (for these graphs both
	// directions of every link), without self loops or duplicates, sorted by (Src, Dst) as PyG's
	// coalesce leaves them.
	Src, Dst []int64
	// TrainMask, ValMask and TestMask are the public split: the first len(y) nodes, the next 500,
	// and the nodes listed in test.index.
	TrainMask, ValMask, TestMask []bool
}

// LoadPlanetoid reads the Planetoid files ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}
// from dir (name is lower-cased, e.g. "cora"). As PyG does, the test rows (tx, ty), which the
// files store in test.index order, are placed at the node indices test.index names; for CiteSeer
// the test index range has gaps (isolated nodes), which are filled with zero rows.
func LoadPlanetoid(dir, name string) (*Planetoid, error) {
	prefix := strings.ToLower(name)
	path := func(s string) string { return filepath.Join(dir, "ind."+prefix+"."+s) }
	x, err := readSparseOrDense(path("x"))
	if err != nil {
		return nil, err
	}
	tx, err := readSparseOrDense(path("tx"))
	if err != nil {
		return nil, err
	}
	allx, err := readSparseOrDense(path("allx"))
	if err != nil {
		return nil, err
	}
	y, err := readSparseOrDense(path("y"))
	if err != nil {
		return nil, err
	}
	ty, err := readSparseOrDense(path("ty"))
	if err != nil {
		return nil, err
	}
	ally, err := readSparseOrDense(path("ally"))
	if err != nil {
		return nil, err
	}
	graph, err := readGraph(path("graph"))
	if err != nil {
		return nil, err
	}
	testIndex, err := readIndexFile(path("test.index"))
	if err != nil {
		return nil, err
	}
	d, c := allx.cols, ally.cols
	if tx.cols != d || x.cols != d || ty.cols != c || y.cols != c {
		return nil, fmt.Errorf("data: %s: inconsistent widths: x %d, tx %d, allx %d features; y %d, ty %d, ally %d classes",
			dir, x.cols, tx.cols, allx.cols, y.cols, ty.cols, ally.cols)
	}
	if tx.rows != ty.rows || allx.rows != ally.rows || x.rows != y.rows {
		return nil, fmt.Errorf("data: %s: feature and label row counts differ (x %d/y %d, tx %d/ty %d, allx %d/ally %d)",
			dir, x.rows, y.rows, tx.rows, ty.rows, allx.rows, ally.rows)
	}
	if len(testIndex) == 0 {
		return nil, fmt.Errorf("data: %s: empty test index", path("test.index"))
	}
	sorted := slices.Clone(testIndex)
	slices.Sort(sorted)
	lo, hi := sorted[0], sorted[len(sorted)-1]

	if prefix == "citeseer" {
		// Isolated test nodes have no rows in tx/ty: widen them to the full index range with zero
		// rows, placing the existing rows at their sorted positions.
		span := int(hi-lo) + 1
		if tx.rows != len(sorted) {
			return nil, fmt.Errorf("data: %s: %d test rows for %d test indices", dir, tx.rows, len(sorted))
		}
		tx = tx.scatterRows(sorted, lo, span)
		ty = ty.scatterRows(sorted, lo, span)
	}
	if tx.rows != len(sorted) && prefix != "citeseer" {
		return nil, fmt.Errorf("data: %s: %d test rows for %d test indices", dir, tx.rows, len(sorted))
	}

	n := allx.rows + tx.rows
	feats := slices.Concat(allx.data, tx.data)
	labels1h := slices.Concat(ally.data, ty.data)
	for _, i := range testIndex {
		if i < 0 || int(i) >= n {
			return nil, fmt.Errorf("data: %s: test index %d outside the %d nodes", path("test.index"), i, n)
		}
	}
	// x[test_index] = x[sorted_test_index]: row sorted[k] moves to node testIndex[k].
	feats = permuteRows(feats, d, testIndex, sorted)
	labels1h = permuteRows(labels1h, c, testIndex, sorted)

	p := &Planetoid{Name: name, NumNodes: n, NumFeatures: d, NumClasses: c, Features: feats}
	p.Labels = make([]int64, n)
	for i := range n {
		row := labels1h[i*c : (i+1)*c]
		best := 0
		for k := 1; k < c; k++ {
			if row[k] > row[best] {
				best = k
			}
		}
		p.Labels[i] = int64(best)
	}
	if y.rows+500 > n {
		return nil, fmt.Errorf("data: %s: %d nodes are too few for %d train and 500 validation nodes", dir, n, y.rows)
	}
	p.TrainMask, p.ValMask, p.TestMask = make([]bool, n), make([]bool, n), make([]bool, n)
	for i := range y.rows {
		p.TrainMask[i] = true
	}
	for i := y.rows; i < y.rows+500; i++ {
		p.ValMask[i] = true
	}
	for _, i := range testIndex {
		p.TestMask[i] = true
	}
	p.Src, p.Dst, err = coalesceEdges(graph, n)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path("graph"), err)
	}
	return p, nil
}

// NormalizedFeatures returns the features as PyG's NormalizeFeatures transform leaves them.
func (p *Planetoid) NormalizedFeatures() []float32 {
	return NormalizeFeatures(p.Features, p.NumNodes, p.NumFeatures)
}

// NormalizeFeatures row-normalizes x [n, d] into a new slice as PyG's NormalizeFeatures does:
// subtract the global minimum, then divide each row by its sum clamped to at least 1 (so an
// all-zero row stays zero). For non-negative bag-of-words features this is division by the row
// sum.
func NormalizeFeatures(x []float32, n, d int) []float32 {
	out := make([]float32, len(x))
	if len(x) == 0 {
		return out
	}
	minV := slices.Min(x)
	for i := range n {
		row := x[i*d : (i+1)*d]
		var sum float32
		for _, v := range row {
			sum += v - minV
		}
		sum = max(sum, 1)
		for j, v := range row {
			out[i*d+j] = (v - minV) / sum
		}
	}
	return out
}

// EdgeIndex returns the edges as an int64 tensor [2, E] (sources, then targets), PyG's
// edge_index layout.
func (p *Planetoid) EdgeIndex() tensor.Tensor {
	return tensor.I64s(slices.Concat(p.Src, p.Dst), 2, len(p.Src))
}

// MaskIndices lists the nodes a mask selects, in increasing order.
func MaskIndices(mask []bool) []int {
	var idx []int
	for i, m := range mask {
		if m {
			idx = append(idx, i)
		}
	}
	return idx
}

// ClassCounts counts the nodes of each class.
func (p *Planetoid) ClassCounts() []int {
	counts := make([]int, p.NumClasses)
	for _, l := range p.Labels {
		counts[l]++
	}
	return counts
}

// dense is a row-major float32 matrix read from a Planetoid pickle.
type dense struct {
	rows, cols int
	data       []float32
}

func (m dense) scatterRows(sorted []int64, lo int64, span int) dense {
	out := dense{rows: span, cols: m.cols, data: make([]float32, span*m.cols)}
	for k, i := range sorted {
		copy(out.data[int(i-lo)*m.cols:], m.data[k*m.cols:(k+1)*m.cols])
	}
	return out
}

// permuteRows returns a copy of m with row to[k] set to the old row from[k].
func permuteRows(m []float32, cols int, to, from []int64) []float32 {
	out := slices.Clone(m)
	for k := range to {
		copy(out[int(to[k])*cols:(int(to[k])+1)*cols], m[int(from[k])*cols:(int(from[k])+1)*cols])
	}
	return out
}

// readSparseOrDense reads a pickled scipy.sparse CSR matrix or a 2-D numpy array as a dense
// float32 matrix.
func readSparseOrDense(path string) (dense, error) {
	v, err := ReadPickle(path)
	if err != nil {
		return dense{}, err
	}
	var m dense
	switch o := v.(type) {
	case *NDArray:
		m, err = denseFromArray(o)
	case *PyObject:
		m, err = denseFromCSR(o)
	default:
		err = fmt.Errorf("holds a %T, not a matrix", v)
	}
	if err != nil {
		return dense{}, fmt.Errorf("data: %s: %w", path, err)
	}
	return m, nil
}

func denseFromArray(a *NDArray) (dense, error) {
	if len(a.Shape) != 2 {
		return dense{}, fmt.Errorf("array of shape %v, want 2-D", a.Shape)
	}
	data, err := a.Float32s()
	if err != nil {
		return dense{}, err
	}
	return dense{rows: a.Shape[0], cols: a.Shape[1], data: data}, nil
}

func denseFromCSR(o *PyObject) (dense, error) {
	if o.Class.Name != "csr_matrix" && o.Class.Name != "csr_array" {
		return dense{}, fmt.Errorf("holds a %s, not a CSR matrix", o.Class)
	}
	arr := func(name string) (*NDArray, error) {
		v, ok := o.Attr(name)
		if !ok {
			return nil, fmt.Errorf("CSR matrix without %s", name)
		}
		a, ok := v.(*NDArray)
		if !ok {
			return nil, fmt.Errorf("CSR %s is %T", name, v)
		}
		return a, nil
	}
	shapeV, ok := o.Attr("_shape")
	if !ok {
		return dense{}, fmt.Errorf("CSR matrix without _shape")
	}
	shape, ok := shapeV.(PyTuple)
	if !ok || len(shape) != 2 {
		return dense{}, fmt.Errorf("CSR _shape is %v", shapeV)
	}
	rows, ok1 := shape[0].(int64)
	cols, ok2 := shape[1].(int64)
	if !ok1 || !ok2 || rows < 0 || cols < 0 || rows*cols > 1<<31 {
		return dense{}, fmt.Errorf("CSR _shape is %v", shapeV)
	}
	var indptr, indices []int64
	var values []float32
	a, err := arr("indptr")
	if err == nil {
		indptr, err = a.Int64s()
	}
	if err == nil {
		a, err = arr("indices")
	}
	if err == nil {
		indices, err = a.Int64s()
	}
	if err == nil {
		a, err = arr("data")
	}
	if err == nil {
		values, err = a.Float32s()
	}
	if err != nil {
		return dense{}, err
	}
	if len(indptr) != int(rows)+1 || len(indices) != len(values) || indptr[0] != 0 || indptr[rows] != int64(len(values)) {
		return dense{}, fmt.Errorf("CSR arrays inconsistent: %d rows, indptr %d, indices %d, data %d", rows, len(indptr), len(indices), len(values))
	}
	m := dense{rows: int(rows), cols: int(cols), data: make([]float32, rows*cols)}
	for r := range int(rows) {
		lo, hi := indptr[r], indptr[r+1]
		if lo > hi || hi > int64(len(values)) {
			return dense{}, fmt.Errorf("CSR indptr not monotone at row %d", r)
		}
		for k := lo; k < hi; k++ {
			c := indices[k]
			if c < 0 || c >= cols {
				return dense{}, fmt.Errorf("CSR column %d outside %d columns", c, cols)
			}
			// Duplicate entries add up, as scipy's toarray does.
			m.data[int64(r)*cols+c] += values[k]
		}
	}
	return m, nil
}

// readGraph reads the adjacency dict {node: [neighbours]}.
func readGraph(path string) (*PyDict, error) {
	v, err := ReadPickle(path)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*PyDict)
	if !ok {
		return nil, fmt.Errorf("data: %s: holds a %T, not an adjacency dict", path, v)
	}
	return d, nil
}

// coalesceEdges turns the adjacency dict into sorted, unique directed edges without self loops.
func coalesceEdges(g *PyDict, n int) ([]int64, []int64, error) {
	var keys []int64
	for i, k := range g.Keys {
		src, ok := k.(int64)
		if !ok || src < 0 || int(src) >= n {
			return nil, nil, fmt.Errorf("node %v outside the %d nodes", k, n)
		}
		var nbrs []any
		switch l := g.Values[i].(type) {
		case *PyList:
			nbrs = l.Items
		case PyTuple:
			nbrs = l
		default:
			return nil, nil, fmt.Errorf("neighbours of %d are a %T", src, g.Values[i])
		}
		for _, v := range nbrs {
			dst, ok := v.(int64)
			if !ok || dst < 0 || int(dst) >= n {
				return nil, nil, fmt.Errorf("neighbour %v of %d outside the %d nodes", v, src, n)
			}
			if dst != src {
				keys = append(keys, src*int64(n)+dst)
			}
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	src, dst := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		src[i], dst[i] = k/int64(n), k%int64(n)
	}
	return src, dst, nil
}

// readIndexFile reads one integer per line.
func readIndexFile(path string) ([]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var out []int64
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		v, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("data: %s line %d: %q is not an integer", path, i+1, line)
		}
		out = append(out, v)
	}
	return out, nil
}
