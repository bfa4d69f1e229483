package data

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// OGBHIVZip is ogbg-molhiv as OGB publishes it (the zip ogb.graphproppred downloads). OGB
// publishes no checksum, so the file is taken as found; its layout is checked when read.
var OGBHIVZip = File{
	Name:     "hiv.zip",
	URLs:     []string{"http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/hiv.zip"},
	Unpinned: true,
}

// OGBGraphs is an OGB graph property prediction dataset in its CSV layout
// (<name>/raw/{num_node_list, num_edge_list, node_feat, edge, edge_feat, graph-label}.csv.gz and
// <name>/split/<split>/{train,valid,test}.csv.gz), read as ogb.io.read_csv_graph_raw reads it.
// With inverse edges added (molecules: OGB's add_inverse_edge), each listed edge (a, b) becomes
// the pair a→b, b→a, adjacent, and its features are repeated.
type OGBGraphs struct {
	// NodeStart[g] and EdgeStart[g] are graph g's first node and first (directed) edge; both have
	// one extra entry, the totals.
	NodeStart, EdgeStart []int
	// NodeFeat is [nodes, NodeFeatDim] and EdgeFeat [edges, EdgeFeatDim], row-major.
	NodeFeat, EdgeFeat       []int64
	NodeFeatDim, EdgeFeatDim int
	// Src and Dst are each edge's endpoints, numbered within its graph.
	Src, Dst []int64
	// Labels is one label per graph (NaN where unlabelled; OGB's molecular sets may have those).
	Labels []float64
	// Splits holds the graph indices of train, valid and test.
	Splits map[string][]int
}

// NumGraphs is the number of graphs.
func (d *OGBGraphs) NumGraphs() int { return len(d.NodeStart) - 1 }

// ogbSource reads the dataset's files from an extracted folder or straight from the zip.
type ogbSource struct {
	dir string      // folder holding <name>/raw/...
	zr  *zip.Reader // or the zip holding <name>/raw/...
	at  string      // where the files come from, for messages
}

func (s ogbSource) open(rel string) (io.ReadCloser, error) {
	if s.zr != nil {
		f, err := s.zr.Open(rel)
		if err != nil {
			return nil, fmt.Errorf("data: %s has no %s (is it OGB's zip?): %w", s.at, rel, err)
		}
		return f, nil
	}
	f, err := os.Open(filepath.Join(s.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return f, nil
}

// ReadOGB reads dataset name (e.g. "hiv") with the split (e.g. "scaffold") from path, which is
// either OGB's zip or the folder it extracts into (holding <name>/raw and <name>/split).
func ReadOGB(path, name, split string, addInverse bool) (*OGBGraphs, error) {
	src := ogbSource{dir: path, at: path}
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	} else if !st.IsDir() {
		zf, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("data: %s is not a zip archive (expected OGB's %s.zip): %w", path, name, err)
		}
		defer zf.Close()
		src.zr = &zf.Reader
	}
	raw := func(f string) string { return name + "/raw/" + f + ".csv.gz" }
	numNodes, err := src.ints(raw("num_node_list"))
	if err != nil {
		return nil, err
	}
	numEdges, err := src.ints(raw("num_edge_list"))
	if err != nil {
		return nil, err
	}
	if len(numNodes) != len(numEdges) {
		return nil, fmt.Errorf("data: %s: %s lists %d graphs but %s lists %d", path, raw("num_node_list"), len(numNodes), raw("num_edge_list"), len(numEdges))
	}
	d := &OGBGraphs{NodeStart: make([]int, len(numNodes)+1), EdgeStart: make([]int, len(numNodes)+1)}
	var listed int
	mul := 1
	if addInverse {
		mul = 2
	}
	for g := range numNodes {
		if numNodes[g] < 0 || numEdges[g] < 0 {
			return nil, fmt.Errorf("data: %s: graph %d has %d nodes and %d edges", path, g, numNodes[g], numEdges[g])
		}
		d.NodeStart[g+1] = d.NodeStart[g] + int(numNodes[g])
		d.EdgeStart[g+1] = d.EdgeStart[g] + mul*int(numEdges[g])
		listed += int(numEdges[g])
	}
	nodes := d.NodeStart[len(numNodes)]
	if d.NodeFeat, d.NodeFeatDim, err = src.table(raw("node_feat"), nodes); err != nil {
		return nil, err
	}
	edges, _, err := src.table(raw("edge"), listed)
	if err != nil {
		return nil, err
	}
	if len(edges) != 2*listed {
		return nil, fmt.Errorf("data: %s: %s has %d columns, want 2 (source, target)", path, raw("edge"), len(edges)/max(listed, 1))
	}
	ef, efDim, err := src.table(raw("edge_feat"), listed)
	if err != nil {
		return nil, err
	}
	d.EdgeFeatDim = efDim
	total := mul * listed
	d.Src, d.Dst = make([]int64, total), make([]int64, total)
	d.EdgeFeat = make([]int64, total*efDim)
	k := 0
	for g := range numNodes {
		n := int64(numNodes[g])
		for e := 0; e < int(numEdges[g]); e++ {
			a, b := edges[2*k], edges[2*k+1]
			if a < 0 || a >= n || b < 0 || b >= n {
				return nil, fmt.Errorf("data: %s: %s line %d: edge (%d, %d) outside graph %d's %d nodes", path, raw("edge"), k+1, a, b, g, n)
			}
			row := ef[k*efDim : (k+1)*efDim]
			o := d.EdgeStart[g] + mul*e
			d.Src[o], d.Dst[o] = a, b
			copy(d.EdgeFeat[o*efDim:], row)
			if addInverse {
				d.Src[o+1], d.Dst[o+1] = b, a
				copy(d.EdgeFeat[(o+1)*efDim:], row)
			}
			k++
		}
	}
	if d.Labels, err = src.floats(raw("graph-label"), len(numNodes)); err != nil {
		return nil, err
	}
	d.Splits = map[string][]int{}
	for _, s := range []string{"train", "valid", "test"} {
		rel := name + "/split/" + split + "/" + s + ".csv.gz"
		idx, err := src.ints(rel)
		if err != nil {
			return nil, err
		}
		ids := make([]int, len(idx))
		for i, v := range idx {
			if v < 0 || int(v) >= len(numNodes) {
				return nil, fmt.Errorf("data: %s: %s line %d: graph %d outside 0..%d", path, rel, i+1, v, len(numNodes)-1)
			}
			ids[i] = int(v)
		}
		d.Splits[s] = ids
	}
	return d, nil
}

// CheckVocab checks that every node (edge) feature column c takes values in [0, nodeDims[c])
// ([0, edgeDims[c])), the vocabularies of the embeddings that look them up.
func (d *OGBGraphs) CheckVocab(nodeDims, edgeDims []int) error {
	check := func(what string, vals []int64, width int, dims []int) error {
		if width != len(dims) {
			return fmt.Errorf("data: OGB %s features have %d columns, want %d", what, width, len(dims))
		}
		for i, v := range vals {
			if c := i % width; v < 0 || v >= int64(dims[c]) {
				return fmt.Errorf("data: OGB %s %d feature %d is %d, outside [0, %d)", what, i/width, c, v, dims[c])
			}
		}
		return nil
	}
	if err := check("node", d.NodeFeat, d.NodeFeatDim, nodeDims); err != nil {
		return err
	}
	return check("edge", d.EdgeFeat, d.EdgeFeatDim, edgeDims)
}

// csvRows calls fn with the comma-separated fields of each line of the gzip'd CSV rel.
func (s ogbSource) csvRows(rel string, fn func(line int, fields []string) error) error {
	rc, err := s.open(rel)
	if err != nil {
		return err
	}
	defer rc.Close()
	zr, err := gzip.NewReader(bufio.NewReader(rc))
	if err != nil {
		return fmt.Errorf("data: %s: %s is not gzip data: %w", s.at, rel, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if err := fn(line, strings.Split(text, ",")); err != nil {
			return fmt.Errorf("data: %s: %s line %d: %w", s.at, rel, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("data: %s: %s is damaged (%v); fetch the dataset again", s.at, rel, err)
		}
		return fmt.Errorf("data: %s: reading %s: %w", s.at, rel, err)
	}
	return nil
}

// table reads an integer CSV with rows lines of equal width; it returns the values row-major
// and the width.
func (s ogbSource) table(rel string, rows int) ([]int64, int, error) {
	var vals []int64
	width, n := -1, 0
	err := s.csvRows(rel, func(_ int, fields []string) error {
		if width < 0 {
			width = len(fields)
			vals = make([]int64, 0, rows*width)
		} else if len(fields) != width {
			return fmt.Errorf("%d columns, earlier lines have %d", len(fields), width)
		}
		for _, f := range fields {
			v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return fmt.Errorf("not an integer: %q", f)
			}
			vals = append(vals, v)
		}
		n++
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if n != rows {
		return nil, 0, fmt.Errorf("data: %s: %s has %d rows, the graph sizes say %d", s.at, rel, n, rows)
	}
	return vals, max(width, 0), nil
}

// ints reads a one-column integer CSV.
func (s ogbSource) ints(rel string) ([]int64, error) {
	var out []int64
	err := s.csvRows(rel, func(_ int, fields []string) error {
		if len(fields) != 1 {
			return fmt.Errorf("%d columns, want 1", len(fields))
		}
		v, err := strconv.ParseInt(strings.TrimSpace(fields[0]), 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", fields[0])
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// floats reads a one-column label CSV of n rows ("nan" or empty: unlabelled).
func (s ogbSource) floats(rel string, n int) ([]float64, error) {
	var out []float64
	err := s.csvRows(rel, func(_ int, fields []string) error {
		if len(fields) != 1 {
			return fmt.Errorf("%d columns, want 1 (fob reads single-task labels)", len(fields))
		}
		f := strings.TrimSpace(fields[0])
		if f == "" || strings.EqualFold(f, "nan") {
			out = append(out, math.NaN())
			return nil
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", f)
		}
		out = append(out, v)
		return nil
	})
	if err == nil && len(out) != n {
		err = fmt.Errorf("data: %s: %s has %d labels for %d graphs", s.at, rel, len(out), n)
	}
	return out, err
}

// OGBPresent reports whether dir holds the extracted dataset name (its raw/num_node_list file).
func OGBPresent(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name, "raw", "num_node_list.csv.gz"))
	return !errors.Is(err, fs.ErrNotExist)
}
