package segmentation

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/data/vision"
	"github.com/fob-go/fob/train/config"
)

// Transforms are the training augmentations (task.train_transforms), applied jointly to the
// image and its label map after the processor's resize.
type Transforms struct {
	// Crop enables RandomResizedCrop back to the image size, with area fractions in Scale.
	Crop  bool
	Scale [2]float64
	// Flip enables a horizontal flip with probability FlipP.
	Flip  bool
	FlipP float64
}

// Data is the segmentation data module: ADE20K's training images, and its validation images
// for both val and test (as FOB), resized to Size×Size as SegformerImageProcessor does.
type Data struct {
	env     data.Env
	size    int
	tf      Transforms
	root    string
	workers int
	split   map[string]*Dataset
}

// NewData implements tasks.Task.
func (Task) NewData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	size, err := imageSize(cfg)
	if err != nil {
		return nil, err
	}
	tf, err := readTransforms(cfg)
	if err != nil {
		return nil, err
	}
	return &Data{env: data.EnvFrom(env), size: size, tf: tf, workers: env.Workers}, nil
}

func readTransforms(cfg config.Map) (Transforms, error) {
	tf := Transforms{Crop: true, Scale: [2]float64{0.5, 2}, Flip: true, FlipP: 0.5}
	get := func(key string, dst *bool) error {
		if v, ok := config.Get(cfg, key); ok && v != nil {
			b, err := config.Bool(cfg, key)
			if err != nil {
				return fmt.Errorf("task.%w", err)
			}
			*dst = b
		}
		return nil
	}
	if err := get("train_transforms.random_resized_crop.use", &tf.Crop); err != nil {
		return tf, err
	}
	if err := get("train_transforms.horizontal_flip.use", &tf.Flip); err != nil {
		return tf, err
	}
	if v, ok := config.Get(cfg, "train_transforms.random_resized_crop.scale"); ok && v != nil {
		list, ok := v.([]any)
		var lo, hi float64
		if ok && len(list) == 2 {
			pair := config.Map{"lo": list[0], "hi": list[1]}
			var e1, e2 error
			lo, e1 = config.Float(pair, "lo")
			hi, e2 = config.Float(pair, "hi")
			ok = e1 == nil && e2 == nil
		}
		if !ok || lo <= 0 || hi < lo {
			return tf, fmt.Errorf("task.train_transforms.random_resized_crop.scale is %v; want [min, max] area fractions with 0 < min <= max (FOB: [0.5, 2.0])", v)
		}
		tf.Scale = [2]float64{lo, hi}
	}
	if v, ok := config.Get(cfg, "train_transforms.horizontal_flip.p"); ok && v != nil {
		p, err := config.Float(cfg, "train_transforms.horizontal_flip.p")
		if err != nil || p < 0 || p > 1 {
			return tf, fmt.Errorf("task.train_transforms.horizontal_flip.p is %v; want a probability in [0, 1]", v)
		}
		tf.FlipP = p
	}
	return tf, nil
}

// Prepare finds (or fetches and unpacks) ADEChallengeData2016 (data.LocateADE20K).
func (d *Data) Prepare(ctx context.Context) error {
	root, err := data.LocateADE20K(ctx, d.env, "segmentation")
	if err != nil {
		return fmt.Errorf("tasks/segmentation: %w", err)
	}
	d.root = root
	return nil
}

// Setup lists the splits (grayscale images left out, as FOB); the seed drives the training
// augmentations.
func (d *Data) Setup(ctx context.Context, seed int64) error {
	if d.root == "" {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	d.split = map[string]*Dataset{}
	for _, s := range []struct{ name, dir string }{{"train", "training"}, {"val", "validation"}} {
		samples, skipped, err := data.ListADE20K(d.root, s.dir)
		if err != nil {
			return fmt.Errorf("tasks/segmentation: %w", err)
		}
		if skipped > 0 {
			slog.Info("segmentation: grayscale images left out, as FOB", "split", s.dir, "count", skipped)
		}
		ds := &Dataset{Samples: samples, Size: d.size, Workers: d.workers}
		if s.name == "train" {
			ds.Transforms = &d.tf
			ds.rng = rand.New(rand.NewPCG(uint64(seed), 0x736567 /* "seg" */))
		}
		d.split[s.name] = ds
	}
	d.split["test"] = d.split["val"]
	return nil
}

// Split implements tasks.DataModule.
func (d *Data) Split(name string) (tasks.Dataset, error) {
	s, ok := d.split[name]
	if !ok {
		return nil, fmt.Errorf("tasks/segmentation: no split %q (have train, val, test; call Setup first)", name)
	}
	return s, nil
}

// Dataset serves ADE20K samples decoded and processed on demand (the 20,210 training images
// do not fit in memory at 512×512 as float32).
type Dataset struct {
	Samples []data.ADE20KSample
	// Size is the square image size the processor resizes to.
	Size int
	// Transforms, when set, augments every sample (training).
	Transforms *Transforms
	// Workers bounds the decoding goroutines (0: GOMAXPROCS).
	Workers int
	mu      sync.Mutex
	rng     *rand.Rand
}

// Len implements tasks.Dataset.
func (d *Dataset) Len() int { return len(d.Samples) }

// augment is one sample's draw of the random transforms.
type augment struct {
	crop              bool
	top, left, ch, cw int
	flip              bool
}

// Batch decodes and processes the samples idx: pixel_values [n, 3, S, S] (ImageNet-normalised)
// and labels [n, S, S] (int64, reduced: 0..149, 255 ignored).
func (d *Dataset) Batch(idx []int) tasks.Batch {
	n, s := len(idx), d.Size
	augs := make([]augment, n)
	if d.Transforms != nil {
		d.mu.Lock()
		for i := range augs {
			if d.Transforms.Crop {
				augs[i].crop = true
				augs[i].top, augs[i].left, augs[i].ch, augs[i].cw = data.RandomResizedCropBox(d.rng, s, s, d.Transforms.Scale[0], d.Transforms.Scale[1])
			}
			augs[i].flip = d.Transforms.Flip && d.rng.Float64() < d.Transforms.FlipP
		}
		d.mu.Unlock()
	}
	x := make([]float32, n*3*s*s)
	y := make([]int64, n*s*s)
	errs := make([]error, n)
	workers := d.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, k := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pix, lab, err := processSample(d.Samples[k], s, augs[i])
			if err != nil {
				errs[i] = err
				return
			}
			data.NormalizeImageNet(x[i*3*s*s:(i+1)*3*s*s], pix, s*s)
			for p, v := range lab {
				y[i*s*s+p] = int64(v)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// Setup checked every file's header; a body that fails to decode is a damaged file.
			panic(fmt.Errorf("tasks/segmentation: %w (the file is damaged: replace it from ADEChallengeData2016.zip)", err))
		}
	}
	return tasks.Batch{
		Inputs:  map[string]tensor.Tensor{InputName: tensor.F32s(x, n, 3, s, s)},
		Targets: map[string]tensor.Tensor{LabelsName: tensor.I64s(y, n, s, s)},
		Size:    n,
	}
}

// processSample is SegformerImageProcessor (resize to size×size: image bilinear, labels
// nearest; reduce_labels) followed by the drawn augmentation (crop resized back to size×size,
// horizontal flip) on image and labels jointly. It returns RGB bytes [3, size, size] and labels.
func processSample(smp data.ADE20KSample, size int, a augment) (pix, lab []uint8, err error) {
	img, h, w, err := data.ReadRGB(smp.Image)
	if err != nil {
		return nil, nil, err
	}
	lab, lh, lw, err := data.ReadLabelPNG(smp.Annotation)
	if err != nil {
		return nil, nil, err
	}
	if lh != h || lw != w {
		return nil, nil, fmt.Errorf("annotation %s is %dx%d but image %s is %dx%d", smp.Annotation, lw, lh, smp.Image, w, h)
	}
	pix = data.ResizeBilinear(img, 3, h, w, size, size)
	lab = data.ResizeNearest(lab, h, w, size, size)
	data.ReduceLabels(lab)
	im, lm := &vision.Image{C: 3, H: size, W: size, Pix: pix}, &vision.Image{C: 1, H: size, W: size, Pix: lab}
	if a.crop {
		ci, cl := &vision.Image{}, &vision.Image{}
		vision.Crop(ci, im, a.top, a.left, a.ch, a.cw, vision.PadConstant, 0)
		vision.Crop(cl, lm, a.top, a.left, a.ch, a.cw, vision.PadConstant, Ignore)
		im.Pix = data.ResizeBilinear(ci.Pix, 3, a.ch, a.cw, size, size)
		lm.Pix = data.ResizeNearest(cl.Pix, a.ch, a.cw, size, size)
	}
	if a.flip {
		fi, fl := vision.New(3, size, size), vision.New(1, size, size)
		vision.HFlip(fi, im)
		vision.HFlip(fl, lm)
		im, lm = fi, fl
	}
	return im.Pix, lm.Pix, nil
}
