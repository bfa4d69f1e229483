package data

import (
	"reflect"
	"testing"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
)

func TestArrayDataset(t *testing.T) {
	ds := ArrayDataset{
		Inputs: map[string]tensor.Tensor{
			"x": tensor.F32s([]float32{0, 1, 10, 11, 20, 21, 30, 31}, 4, 2),
		},
		Targets: map[string]tensor.Tensor{
			"y": tensor.I64s([]int64{0, 1, 2, 3}, 4),
		},
	}
	var d tasks.Dataset = ds
	if err := ds.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 4 {
		t.Fatalf("Len %d", d.Len())
	}
	b := d.Batch([]int{3, 1})
	if b.Size != 2 ||
		!reflect.DeepEqual(b.Inputs["x"], tensor.F32s([]float32{30, 31, 10, 11}, 2, 2)) ||
		!reflect.DeepEqual(b.Targets["y"], tensor.I64s([]int64{3, 1}, 2)) {
		t.Errorf("batch %+v", b)
	}
	sub := ds.Subset([]int{2})
	if sub.Len() != 1 || sub.Targets["y"].I64[0] != 2 {
		t.Errorf("subset %+v", sub)
	}
	// A batch is a copy: changing it leaves the dataset alone.
	b.Inputs["x"].F32[0] = -1
	if ds.Inputs["x"].F32[6] != 30 {
		t.Error("batch shares memory with the dataset")
	}
}

func TestArrayDatasetValidate(t *testing.T) {
	x := tensor.F32s([]float32{1, 2, 3}, 3)
	tests := []struct {
		name string
		ds   ArrayDataset
		want string
	}{
		{"no inputs", ArrayDataset{}, "without inputs"},
		{"rows differ", ArrayDataset{Inputs: map[string]tensor.Tensor{"x": x}, Targets: map[string]tensor.Tensor{"y": tensor.I64s([]int64{1}, 1)}}, `target "y" has shape [1], want 3 rows`},
		{"bad tensor", ArrayDataset{Inputs: map[string]tensor.Tensor{"x": tensor.F32s([]float32{1}, 3)}}, `input "x"`},
	}
	for _, tc := range tests {
		mustContain(t, tc.ds.Validate(), tc.want)
	}
	if (ArrayDataset{}).Len() != 0 {
		t.Error("empty dataset has rows")
	}
}

func TestEnvFrom(t *testing.T) {
	got := EnvFrom(tasks.DataEnv{DataDir: "/d", Mirror: "/m", Workers: 3})
	if got.DataDir != "/d" || got.Mirror != "/m" {
		t.Errorf("EnvFrom = %+v", got)
	}
}
