package data

import (
	"fmt"
	"sort"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
)

// EnvFrom converts the task-level data environment.
func EnvFrom(env tasks.DataEnv) Env { return Env{DataDir: env.DataDir, Mirror: env.Mirror} }

// ArrayDataset is an in-memory split whose examples are the rows (first axis) of its tensors.
// It implements tasks.Dataset.
type ArrayDataset struct {
	// Inputs are the model inputs by ONNX input name; Targets the targets by name.
	Inputs, Targets map[string]tensor.Tensor
}

var _ tasks.Dataset = ArrayDataset{}

// Len is the number of rows of the first input by name (all tensors should agree; see
// Validate).
func (d ArrayDataset) Len() int {
	names := make([]string, 0, len(d.Inputs))
	for n := range d.Inputs {
		names = append(names, n)
	}
	if len(names) == 0 {
		return 0
	}
	sort.Strings(names)
	t := d.Inputs[names[0]]
	if len(t.Shape) == 0 {
		return 0
	}
	return t.Shape[0]
}

// Validate checks that every tensor is well formed and has Len rows.
func (d ArrayDataset) Validate() error {
	if len(d.Inputs) == 0 {
		return fmt.Errorf("data: dataset without inputs")
	}
	n := d.Len()
	for kind, m := range map[string]map[string]tensor.Tensor{"input": d.Inputs, "target": d.Targets} {
		for name, t := range m {
			if err := t.Validate(); err != nil {
				return fmt.Errorf("data: %s %q: %w", kind, name, err)
			}
			if len(t.Shape) == 0 || t.Shape[0] != n {
				return fmt.Errorf("data: %s %q has shape %v, want %d rows", kind, name, t.Shape, n)
			}
		}
	}
	return nil
}

// Batch gathers the rows idx of every tensor.
func (d ArrayDataset) Batch(idx []int) tasks.Batch {
	b := tasks.Batch{
		Inputs:  make(map[string]tensor.Tensor, len(d.Inputs)),
		Targets: make(map[string]tensor.Tensor, len(d.Targets)),
		Size:    len(idx),
	}
	for name, t := range d.Inputs {
		b.Inputs[name] = t.Gather(idx)
	}
	for name, t := range d.Targets {
		b.Targets[name] = t.Gather(idx)
	}
	return b
}

// Subset returns a dataset of the rows idx (copied), e.g. one split of a loaded table.
func (d ArrayDataset) Subset(idx []int) ArrayDataset {
	b := d.Batch(idx)
	return ArrayDataset{Inputs: b.Inputs, Targets: b.Targets}
}
