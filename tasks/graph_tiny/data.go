package graph_tiny

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// Data is the graph_tiny data module: Cora from the Planetoid files, features row-normalized
// (PyG's NormalizeFeatures), and the public split's masks.
type Data struct {
	env   data.Env
	paths []string
	g     *data.Planetoid
	x     tensor.Tensor // normalized features [nodes, NumFeatures]
	edges tensor.Tensor // edge_index [2, edges], PyG's layout: sources, then targets
	masks map[string][]bool
}

// NewData reads task.dataset_split; only "public" (FOB's default) is built.
func (Task) NewData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	split, err := config.String(cfg, "dataset_split")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	if split != "public" {
		return nil, fmt.Errorf("task.dataset_split = %q: fob builds only the public Planetoid split (140/500/1000 nodes); set task.dataset_split=public", split)
	}
	return &Data{env: data.EnvFrom(env)}, nil
}

// Prepare fetches and verifies the eight ind.cora.* files.
func (d *Data) Prepare(ctx context.Context) error {
	paths, err := data.FetchAll(ctx, d.env, "graph_tiny", data.CoraFiles...)
	d.paths = paths
	return err
}

// Setup loads the graph; the split is fixed, so the seed is not used.
func (d *Data) Setup(ctx context.Context, _ int64) error {
	if d.paths == nil {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	g, err := data.LoadPlanetoid(filepath.Dir(d.paths[0]), "cora")
	if err != nil {
		return err
	}
	if g.NumFeatures != NumFeatures || g.NumClasses != NumClasses {
		return fmt.Errorf("graph_tiny: %s holds %d features and %d classes; Cora has %d and %d",
			filepath.Dir(d.paths[0]), g.NumFeatures, g.NumClasses, NumFeatures, NumClasses)
	}
	d.g = g
	n := g.NumNodes
	d.x = tensor.F32s(g.NormalizedFeatures(), n, NumFeatures)
	d.edges = g.EdgeIndex()
	d.masks = map[string][]bool{"train": g.TrainMask, "val": g.ValMask, "test": g.TestMask}
	return nil
}

// Split returns the whole graph with the split's mask.
func (d *Data) Split(name string) (tasks.Dataset, error) {
	m, ok := d.masks[name]
	if !ok {
		return nil, fmt.Errorf("graph_tiny: no split %q (have train, val, test; call Setup first)", name)
	}
	mask := make([]float32, len(m))
	count := 0
	for i, b := range m {
		if b {
			mask[i] = 1
			count++
		}
	}
	return graphSplit{inputs: map[string]tensor.Tensor{"x": d.x, "edge_index": d.edges},
		targets: map[string]tensor.Tensor{"y": tensor.I64s(d.g.Labels, d.g.NumNodes), "mask": tensor.F32s(mask, len(mask))},
		count:   count}, nil
}

// graphSplit is one split of a whole-graph task: a single example, the graph.
type graphSplit struct {
	inputs, targets map[string]tensor.Tensor
	count           int // nodes in the mask
}

// Len is 1: every step sees the whole graph.
func (s graphSplit) Len() int { return 1 }

// Batch returns the graph whatever idx holds (only [0] exists).
func (s graphSplit) Batch([]int) tasks.Batch {
	return tasks.Batch{Inputs: s.inputs, Targets: s.targets, Size: s.count}
}
