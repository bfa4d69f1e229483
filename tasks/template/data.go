package template

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// Data is the template's data module: 100 standard-normal scalars whose target is the scalar
// itself, split by dataset_split_lengths. A real task downloads files in Prepare (see
// tasks/data: Fetch verifies checksums and reads the offline mirror first) and parses them in
// Setup.
type Data struct {
	lengths []int
	split   map[string]data.ArrayDataset
}

// NewData implements tasks.Task: read the data settings from the task config here.
func (Task) NewData(_ tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	v, _ := config.Get(cfg, "dataset_split_lengths")
	list, ok := v.([]any)
	if !ok || len(list) != 3 {
		return nil, fmt.Errorf("task.dataset_split_lengths: want a list of three sizes (train, val, test), got %v", v)
	}
	d := &Data{}
	for i := range list {
		n, err := config.Int(config.Map{"n": list[i]}, "n")
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("task.dataset_split_lengths[%d]: want a positive integer, got %v", i, list[i])
		}
		d.lengths = append(d.lengths, n)
	}
	return d, nil
}

// Prepare has nothing to download: the data is generated.
func (d *Data) Prepare(context.Context) error { return nil }

// Setup generates the samples and splits them; both depend only on the seed.
func (d *Data) Setup(_ context.Context, seed int64) error {
	n := d.lengths[0] + d.lengths[1] + d.lengths[2]
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	all := data.ArrayDataset{
		Inputs:  map[string]tensor.Tensor{"x": tensor.F32s(x, n, 1)},
		Targets: map[string]tensor.Tensor{"target": tensor.F32s(x, n, 1)},
	}
	idx, err := data.SplitIndices(seed, n, d.lengths...)
	if err != nil {
		return err
	}
	d.split = map[string]data.ArrayDataset{"train": all.Subset(idx[0]), "val": all.Subset(idx[1]), "test": all.Subset(idx[2])}
	return nil
}

// Split returns "train", "val" or "test".
func (d *Data) Split(name string) (tasks.Dataset, error) {
	s, ok := d.split[name]
	if !ok {
		return nil, fmt.Errorf("template: no split %q (have train, val, test; call Setup first)", name)
	}
	return s, nil
}
