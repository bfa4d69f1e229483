package tabular

import (
	"context"
	"fmt"
	"math"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// Data is the tabular data module: California Housing (20,640 districts) read from
// cal_housing.tgz as scikit-learn builds it, the fixed test rows of idx_test.npy, and the other
// rows split by seed into train and validation. The feature normalizer is fitted on the
// training rows only (optionally with noise added to the fit data), and targets are
// standardized with the training mean and standard deviation.
//
// Unlike the original, which re-split on every setup stage so that testing saw a normalizer
// fitted on a different split (docs/fob-behaviour.md §8, defect 29), Setup splits and fits once.
type Data struct {
	env                       data.Env
	trainN, valN, testN       int
	normalizer                string
	noise                     float64
	paths                     []string
	split                     map[string]data.ArrayDataset
	targetMean, targetStd     float64 // of the training targets, in the original units
	trainIdx, valIdx, testIdx []int   // rows of the full table
}

// NewData reads task.train_size, val_size, test_size and train_transforms.{normalizer, noise}.
func (Task) NewData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	d := &Data{env: data.EnvFrom(env)}
	for _, s := range []struct {
		key string
		dst *int
	}{{"train_size", &d.trainN}, {"val_size", &d.valN}, {"test_size", &d.testN}} {
		v, err := config.Int(cfg, s.key)
		if err != nil {
			return nil, fmt.Errorf("task.%w", err)
		}
		if v <= 0 {
			return nil, fmt.Errorf("task.%s must be positive, got %d", s.key, v)
		}
		*s.dst = v
	}
	var err error
	if d.normalizer, err = config.String(cfg, "train_transforms.normalizer"); err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	if d.normalizer != "quantile" && d.normalizer != "standard" {
		return nil, fmt.Errorf("task.train_transforms.normalizer = %q; valid: quantile, standard", d.normalizer)
	}
	if d.noise, err = config.Float(cfg, "train_transforms.noise"); err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	if d.noise < 0 || math.IsNaN(d.noise) {
		return nil, fmt.Errorf("task.train_transforms.noise must be >= 0 (0 disables it), got %v", d.noise)
	}
	return d, nil
}

// Prepare fetches and verifies cal_housing.tgz and idx_test.npy (data_dir, then the mirror,
// then the canonical URLs).
func (d *Data) Prepare(ctx context.Context) error {
	paths, err := data.FetchAll(ctx, d.env, "tabular", data.CalHousingArchive, data.CalHousingTestIndex)
	d.paths = paths
	return err
}

// Setup loads the table, splits train/val by seed, fits the normalizer on the training rows and
// standardizes the targets.
func (d *Data) Setup(ctx context.Context, seed int64) error {
	if d.paths == nil {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	x, y, err := data.ReadCalHousing(d.paths[0])
	if err != nil {
		return err
	}
	n := len(y)
	if len(x) != n*NFeatures {
		return fmt.Errorf("tabular: %s: %d feature values for %d rows, want %d per row", d.paths[0], len(x), n, NFeatures)
	}
	testIdx, err := readTestIndex(d.paths[1], n)
	if err != nil {
		return err
	}
	if len(testIdx) != d.testN {
		return fmt.Errorf("tabular: %s holds %d test rows but task.test_size is %d", d.paths[1], len(testIdx), d.testN)
	}
	trainval := data.Complement(n, testIdx)
	if len(trainval) != d.trainN+d.valN {
		return fmt.Errorf("tabular: %d rows remain after the %d test rows, but task.train_size + task.val_size = %d + %d = %d",
			len(trainval), len(testIdx), d.trainN, d.valN, d.trainN+d.valN)
	}
	parts, err := data.SplitIndices(seed, len(trainval), d.trainN, d.valN)
	if err != nil {
		return err
	}
	d.trainIdx, d.valIdx = pick(trainval, parts[0]), pick(trainval, parts[1])
	d.testIdx = make([]int, len(testIdx))
	for i, v := range testIdx {
		d.testIdx[i] = int(v)
	}

	trainX := rows(x, d.trainIdx)
	fitX, err := data.AddFitNoise(trainX, len(d.trainIdx), NFeatures, d.noise, seed)
	if err != nil {
		return err
	}
	norm, err := data.NewNormalizer(d.normalizer, len(d.trainIdx))
	if err != nil {
		return fmt.Errorf("task.train_transforms.normalizer: %w", err)
	}
	if err := norm.Fit(fitX, len(d.trainIdx), NFeatures); err != nil {
		return err
	}
	d.targetMean, d.targetStd = meanStd(y, d.trainIdx)
	if d.targetStd == 0 {
		return fmt.Errorf("tabular: the %d training targets are all equal; cannot standardize them", len(d.trainIdx))
	}
	d.split = map[string]data.ArrayDataset{}
	for name, idx := range map[string][]int{"train": d.trainIdx, "val": d.valIdx, "test": d.testIdx} {
		xs, err := norm.Transform(rows(x, idx), len(idx), NFeatures)
		if err != nil {
			return err
		}
		ys := make([]float32, len(idx))
		for i, r := range idx {
			// In float32, as the original's numpy arithmetic on float32 targets.
			ys[i] = (y[r] - float32(d.targetMean)) / float32(d.targetStd)
		}
		d.split[name] = data.ArrayDataset{
			Inputs:  map[string]tensor.Tensor{"X": tensor.F32s(xs, len(idx), NFeatures)},
			Targets: map[string]tensor.Tensor{"y": tensor.F32s(ys, len(idx))},
		}
	}
	return nil
}

// Split implements tasks.DataModule.
func (d *Data) Split(name string) (tasks.Dataset, error) {
	s, ok := d.split[name]
	if !ok {
		return nil, fmt.Errorf("tabular: no split %q (have train, val, test; call Setup first)", name)
	}
	return s, nil
}

// readTestIndex reads idx_test.npy: a 1-D integer array of distinct row numbers below n.
func readTestIndex(path string, n int) ([]int64, error) {
	shape, raw, err := data.ReadNPY(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, fmt.Errorf("tabular: %s has shape %v; want a 1-D array of row indices", path, shape)
	}
	idx, err := data.AsInt64s(raw)
	if err != nil {
		return nil, fmt.Errorf("tabular: %s: %w", path, err)
	}
	seen := make([]bool, n)
	for k, i := range idx {
		if i < 0 || i >= int64(n) {
			return nil, fmt.Errorf("tabular: %s: entry %d is row %d, outside the %d rows of the table", path, k, i, n)
		}
		if seen[i] {
			return nil, fmt.Errorf("tabular: %s: row %d is listed twice", path, i)
		}
		seen[i] = true
	}
	return idx, nil
}

// pick maps positions within base to the values of base.
func pick(base, pos []int) []int {
	out := make([]int, len(pos))
	for i, p := range pos {
		out[i] = base[p]
	}
	return out
}

// rows copies the feature rows idx of x [n, NFeatures].
func rows(x []float32, idx []int) []float32 {
	out := make([]float32, 0, len(idx)*NFeatures)
	for _, r := range idx {
		out = append(out, x[r*NFeatures:(r+1)*NFeatures]...)
	}
	return out
}

// meanStd is the mean and population standard deviation (numpy's std) of y over idx.
func meanStd(y []float32, idx []int) (mean, std float64) {
	for _, i := range idx {
		mean += float64(y[i])
	}
	mean /= float64(len(idx))
	var ss float64
	for _, i := range idx {
		t := float64(y[i]) - mean
		ss += t * t
	}
	return mean, math.Sqrt(ss / float64(len(idx)))
}
