package classification

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/data/vision"
	"github.com/fob-go/fob/train/config"
)

// ImageNet's normalisation (data.ImageNetMean, data.ImageNetStd).
var (
	imagenetMean = data.ImageNetMean[:]
	imagenetStd  = data.ImageNetStd[:]
)

// Data is the classification data module: downsampled ImageNet 64×64 from the official batch
// files (train_data_batch_1..10: 1,281,167 images; val_data: 50,000 used for both val and
// test, as FOB). The batches are memory-mapped, not loaded.
type Data struct {
	dir, mirror string
	workers     int
	aug         *vision.Transform
	trainFiles  []string
	valFile     []string
	splits      *vision.Splits
}

// newData reads task.train_transforms.
func newData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	aug, err := vision.TaskTransform(cfg, ImageSize)
	if err != nil {
		return nil, fmt.Errorf("tasks/%s: %w", Name, err)
	}
	if env.DataDir == "" {
		return nil, fmt.Errorf("tasks/%s: no data directory set (engine.data_dir)", Name)
	}
	d := &Data{dir: filepath.Join(env.DataDir, Name), workers: env.Workers, aug: aug}
	if env.Mirror != "" {
		d.mirror = filepath.Join(env.Mirror, Name)
	}
	return d, nil
}

// Prepare finds the batch files in <data_dir>/classification (or the mirror), unpacking the
// official zips there if that is what it finds. They cannot be downloaded (image-net.org
// needs a login); the error says what to fetch and where to put it.
func (d *Data) Prepare(context.Context) error {
	files, err := vision.LocateImagenet64(d.dir, d.mirror, append(append([]string(nil), vision.Imagenet64TrainFiles...), vision.Imagenet64ValFile))
	if err != nil {
		return fmt.Errorf("tasks/%s: %w", Name, err)
	}
	d.trainFiles, d.valFile = files[:len(files)-1], files[len(files)-1:]
	return nil
}

// Setup maps the batch files; the seed drives the augmentation draws.
func (d *Data) Setup(ctx context.Context, seed int64) error {
	if d.trainFiles == nil {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	train, err := vision.OpenImagenet64(d.trainFiles)
	if err != nil {
		return fmt.Errorf("tasks/%s: %w", Name, err)
	}
	val, err := vision.OpenImagenet64(d.valFile)
	if err != nil {
		return fmt.Errorf("tasks/%s: %w", Name, err)
	}
	d.splits = &vision.Splits{Train: train, Eval: val, Aug: d.aug, Norm: vision.Normalize{Mean: imagenetMean, Std: imagenetStd},
		Seed: seed, Workers: d.workers, InputName: inputName, LabelName: labelName}
	slog.Info("classification data", "train", train.Len(), "val", val.Len(), "test", val.Len(),
		"random_crop", d.aug.Crop, "horizontal_flip", d.aug.Flip, "trivial_augment", d.aug.Trivial != nil)
	return nil
}

// Split returns train (augmented) or val/test (the same validation images, not augmented).
func (d *Data) Split(name string) (tasks.Dataset, error) { return d.splits.Split(Name, name) }
