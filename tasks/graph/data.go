package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// OGB's name of the dataset and of its split.
const (
	ogbName  = "hiv"
	ogbSplit = "scaffold"
)

// Data is the graph data module: ogbg-molhiv in OGB's CSV layout, inverse edges added (OGB's
// add_inverse_edge for molecules), the official scaffold split.
type Data struct {
	env     data.Env
	dir     string // <data_dir>/graph
	source  string // the zip or the folder holding hiv/
	pooling string
	set     *data.OGBGraphs
	// Exact turns bucketing off: batches keep their own sizes (one compile per distinct shape).
	// Benchmarks set it to measure what bucketing saves.
	Exact bool
}

// NewData reads task.model.graph_pooling, which sets the per-graph pooling weights the batches
// carry.
func (Task) NewData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	m, err := ginFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	de := data.EnvFrom(env)
	return &Data{env: de, dir: filepath.Join(env.DataDir, "graph"), pooling: m.Pooling}, nil
}

// Prepare finds the dataset: extracted in <data_dir>/graph/hiv, or OGB's hiv.zip, copied from
// the mirror (<mirror>/graph/hiv.zip) or downloaded into <data_dir>/graph, and read from the
// zip directly.
func (d *Data) Prepare(ctx context.Context) error {
	if d.env.DataDir == "" {
		return errors.New("graph: no data directory set (engine.data_dir)")
	}
	if data.OGBPresent(d.dir, ogbName) {
		d.source = d.dir
		return nil
	}
	p, err := data.Fetch(ctx, d.env, "graph", data.OGBHIVZip)
	if err != nil {
		return fmt.Errorf("graph: ogbg-molhiv is not in %s and could not be fetched: %w; put OGB's hiv.zip "+
			"(%s) into %s or the mirror's graph/ folder, or extract it so that %s exists",
			d.dir, err, data.OGBHIVZip.URLs[0], d.dir, filepath.Join(d.dir, ogbName, "raw", "num_node_list.csv.gz"))
	}
	d.source = p
	return nil
}

// Setup reads the graphs and the scaffold split; the split is fixed, so the seed is not used.
func (d *Data) Setup(ctx context.Context, _ int64) error {
	if d.source == "" {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	set, err := data.ReadOGB(d.source, ogbName, ogbSplit, true)
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	if err := set.CheckVocab(models.OGBAtomFeatureDims, models.OGBBondFeatureDims); err != nil {
		return fmt.Errorf("graph: %s: %w (features must follow ogb.utils.features)", d.source, err)
	}
	d.set = set
	return nil
}

// Split returns "train", "val" (OGB's valid) or "test".
func (d *Data) Split(name string) (tasks.Dataset, error) {
	if d.set == nil {
		return nil, fmt.Errorf("graph: split %q asked before Setup", name)
	}
	ogb := map[string]string{"train": "train", "val": "valid", "test": "test"}[name]
	if ogb == "" {
		return nil, fmt.Errorf("graph: no split %q (have train, val, test)", name)
	}
	return &Batcher{Set: d.set, Graphs: d.set.Splits[ogb], Pooling: d.pooling, Exact: d.Exact}, nil
}

// Batcher serves graphs of an OGB set as padded batches (see Bucket).
type Batcher struct {
	Set     *data.OGBGraphs
	Graphs  []int  // the split's graph indices
	Pooling string // models.GINPoolMean or GINPoolSum: the graph_scale the batch carries
	Exact   bool   // no padding
}

// Len is the number of graphs in the split.
func (b *Batcher) Len() int { return len(b.Graphs) }

// Bucket returns the padded size for n rows: the smallest of 16, 20, 25, ... (each about 1.25
// times the last, rounded up to a multiple of 4) that is at least n + extra. Sizes 1.25x apart
// waste at most a fifth of a batch on padding and keep the distinct batch shapes of an epoch to
// a handful.
func Bucket(n, extra int) int {
	b := 16
	for b < n+extra {
		b = (b*5/4 + 3) / 4 * 4
	}
	return b
}

// Batch gathers graphs idx (positions in the split) into one disjoint union, PyG's Batch, padded
// to bucket sizes: at least two padding nodes (models.GINPadPattern) that padding edges join, and
// padding graphs up to a power of two, with mask, pooling weight and label 0.
func (b *Batcher) Batch(idx []int) tasks.Batch {
	s := b.Set
	fn, fe := s.NodeFeatDim, s.EdgeFeatDim
	var nodes, edges int
	for _, i := range idx {
		g := b.Graphs[i]
		nodes += s.NodeStart[g+1] - s.NodeStart[g]
		edges += s.EdgeStart[g+1] - s.EdgeStart[g]
	}
	N, E, G := nodes, edges, len(idx)
	if !b.Exact {
		N, E = Bucket(nodes, 2), Bucket(edges, 0)
		for G = 1; G < len(idx); G *= 2 {
		}
	}
	x := make([]int64, N*fn)
	ei := make([]int64, 2*E)
	ea := make([]int64, E*fe)
	batch := make([]int64, N)
	mask := make([]float32, N)
	scale := make([]float32, G)
	y := make([]float32, G)
	gmask := make([]float32, G)
	var n, e, real int
	for k, i := range idx {
		g := b.Graphs[i]
		n0, n1 := s.NodeStart[g], s.NodeStart[g+1]
		e0, e1 := s.EdgeStart[g], s.EdgeStart[g+1]
		copy(x[n*fn:], s.NodeFeat[n0*fn:n1*fn])
		copy(ea[e*fe:], s.EdgeFeat[e0*fe:e1*fe])
		for j := e0; j < e1; j++ {
			ei[e+j-e0] = s.Src[j] + int64(n)
			ei[E+e+j-e0] = s.Dst[j] + int64(n)
		}
		for j := n; j < n+n1-n0; j++ {
			batch[j], mask[j] = int64(k), 1
		}
		if c := n1 - n0; c > 0 {
			scale[k] = 1
			if b.Pooling == models.GINPoolMean {
				scale[k] = 1 / float32(c)
			}
		}
		if lab := s.Labels[g]; !math.IsNaN(lab) {
			y[k], gmask[k] = float32(lab), 1
			real++
		}
		n += n1 - n0
		e += e1 - e0
	}
	for j := e; j < E; j++ { // padding edges join the last (padding) node to itself
		ei[j], ei[E+j] = int64(N-1), int64(N-1)
	}
	pad, err := models.GINPadPattern(nodes, N)
	if err != nil {
		// Bucket always leaves 0 or >= 2 padding rows; reaching this is a programming error.
		panic(fmt.Sprintf("graph: %v", err))
	}
	return tasks.Batch{
		Inputs: map[string]tensor.Tensor{
			models.GINNodeFeatures: tensor.I64s(x, N, fn),
			models.GINEdgeIndex:    tensor.I64s(ei, 2, E),
			models.GINEdgeFeatures: tensor.I64s(ea, E, fe),
			models.GINBatch:        tensor.I64s(batch, N),
			models.GINNodeMask:     tensor.F32s(mask, N),
			models.GINNodePad:      tensor.F32s(pad, N),
			models.GINGraphScale:   tensor.F32s(scale, G),
		},
		Targets: map[string]tensor.Tensor{TargetLabel: tensor.F32s(y, G), TargetMask: tensor.F32s(gmask, G)},
		Size:    real,
	}
}
