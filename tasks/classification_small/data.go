package classification_small

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/data/vision"
	"github.com/fob-go/fob/train/config"
)

// Normalisation of the original (CIFAR-10's statistics, as FOB uses for CIFAR-100).
var (
	cifarMean = []float32{0.4914, 0.4822, 0.4465}
	cifarStd  = []float32{0.2023, 0.1994, 0.2010}
)

// cifarFile is the archive Prepare fetches (a variable so tests can serve a small fixture).
var cifarFile = vision.CIFAR100File

// Dataset names for task.dataset: the benchmark's CIFAR-100, or MNIST digits padded to 32×32
// and repeated in three channels, an offline stand-in that runs the same pipeline and model.
const (
	datasetCIFAR100 = "cifar100"
	datasetMNIST    = "mnist"
)

// Data is the classification_small data module: CIFAR-100's 50,000 training images, and its
// 10,000 test images used for both val and test (as FOB).
type Data struct {
	env     data.Env
	workers int
	dataset string
	aug     *vision.Transform
	paths   []string
	splits  *vision.Splits
}

// newData reads task.dataset and task.train_transforms.
func newData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	d := &Data{env: data.EnvFrom(env), workers: env.Workers, dataset: datasetCIFAR100}
	if _, ok := config.Get(cfg, "dataset"); ok {
		s, err := config.String(cfg, "dataset")
		if err != nil {
			return nil, fmt.Errorf("tasks/%s: %w", Name, err)
		}
		d.dataset = s
	}
	if d.dataset != datasetCIFAR100 && d.dataset != datasetMNIST {
		return nil, fmt.Errorf("tasks/%s: task.dataset is %q; want %q (the benchmark) or %q (offline check)", Name, d.dataset, datasetCIFAR100, datasetMNIST)
	}
	aug, err := vision.TaskTransform(cfg, ImageSize)
	if err != nil {
		return nil, fmt.Errorf("tasks/%s: %w", Name, err)
	}
	d.aug = aug
	return d, nil
}

// Prepare fetches and verifies cifar-100-python.tar.gz into <data_dir>/classification_small
// (mirror folder first, then www.cs.toronto.edu), or MNIST's files for task.dataset mnist.
func (d *Data) Prepare(ctx context.Context) error {
	var err error
	if d.dataset == datasetMNIST {
		d.paths, err = data.FetchAll(ctx, d.env, "mnist", data.MNISTFiles...)
	} else {
		d.paths, err = data.FetchAll(ctx, d.env, Name, cifarFile)
	}
	if err != nil {
		return fmt.Errorf("tasks/%s: %w", Name, err)
	}
	return nil
}

// Setup reads the files; the seed drives the augmentation draws.
func (d *Data) Setup(ctx context.Context, seed int64) error {
	if d.paths == nil {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	var train, test vision.Source
	if d.dataset == datasetMNIST {
		var err error
		if train, err = mnistSource(d.paths[0], d.paths[1]); err != nil {
			return err
		}
		if test, err = mnistSource(d.paths[2], d.paths[3]); err != nil {
			return err
		}
	} else {
		c, err := vision.ReadCIFAR100(d.paths[0])
		if err != nil {
			return fmt.Errorf("tasks/%s: %w", Name, err)
		}
		train, test = c.Train, c.Test
	}
	d.splits = &vision.Splits{Train: train, Eval: test, Aug: d.aug, Norm: vision.Normalize{Mean: cifarMean, Std: cifarStd},
		Seed: seed, Workers: d.workers, InputName: inputName, LabelName: labelName}
	slog.Info("classification_small data", "dataset", d.dataset, "train", train.Len(), "val", test.Len(), "test", test.Len(),
		"random_crop", d.aug.Crop, "horizontal_flip", d.aug.Flip, "trivial_augment", d.aug.Trivial != nil)
	return nil
}

// mnistSource serves MNIST digits as 3×32×32 images.
func mnistSource(imagesPath, labelsPath string) (vision.Source, error) {
	n, rows, cols, pix, err := data.ReadIDXImages(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("tasks/%s: %w", Name, err)
	}
	l, err := data.ReadIDXLabels(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("tasks/%s: %w", Name, err)
	}
	labels := make([]int64, len(l))
	for i, v := range l {
		labels[i] = int64(v)
	}
	src, err := vision.NewPaddedGray(pix, n, rows, cols, labels, 3, ImageSize)
	if err != nil {
		return nil, fmt.Errorf("tasks/%s: %s, %s: %w", Name, imagesPath, labelsPath, err)
	}
	return src, nil
}

// Split returns train (augmented) or val/test (the same test images, not augmented).
func (d *Data) Split(name string) (tasks.Dataset, error) { return d.splits.Split(Name, name) }
