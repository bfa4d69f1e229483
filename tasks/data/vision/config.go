package vision

import (
	"fmt"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// TransformConfig reads FOB's task.train_transforms section (cfg is the task section):
// random_crop.{use,size,padding,padding_mode}, horizontal_flip.{use,p} and
// trivial_augment.use. TrivialAugmentWide uses bilinear interpolation (as FOB) and
// torchvision's default fill (None: zeros outside the image). A missing section turns its
// step off; a wrong value is an error naming the key.
func TransformConfig(cfg config.Map) (*Transform, error) {
	t := &Transform{}
	const base = "train_transforms."
	use := func(step string) (bool, error) {
		if _, ok := config.Get(cfg, base+step+".use"); !ok {
			return false, nil
		}
		return config.Bool(cfg, base+step+".use")
	}
	var err error
	if t.Crop, err = use("random_crop"); err != nil {
		return nil, err
	}
	if t.Crop {
		if t.CropSize, err = config.Int(cfg, base+"random_crop.size"); err != nil {
			return nil, err
		}
		if t.Padding, err = config.Int(cfg, base+"random_crop.padding"); err != nil {
			return nil, err
		}
		mode := "constant"
		if _, ok := config.Get(cfg, base+"random_crop.padding_mode"); ok {
			if mode, err = config.String(cfg, base+"random_crop.padding_mode"); err != nil {
				return nil, err
			}
		}
		if t.PadMode, err = ParsePadMode(mode); err != nil {
			return nil, fmt.Errorf("config key %srandom_crop.padding_mode: %w", base, err)
		}
		if t.CropSize <= 0 || t.Padding < 0 {
			return nil, fmt.Errorf("config key %srandom_crop: size %d, padding %d; want size > 0 and padding >= 0", base, t.CropSize, t.Padding)
		}
	}
	if t.Flip, err = use("horizontal_flip"); err != nil {
		return nil, err
	}
	if t.Flip {
		t.FlipP = 0.5
		if _, ok := config.Get(cfg, base+"horizontal_flip.p"); ok {
			if t.FlipP, err = config.Float(cfg, base+"horizontal_flip.p"); err != nil {
				return nil, err
			}
		}
		if t.FlipP < 0 || t.FlipP > 1 {
			return nil, fmt.Errorf("config key %shorizontal_flip.p is %v; want a probability in [0, 1]", base, t.FlipP)
		}
	}
	ta, err := use("trivial_augment")
	if err != nil {
		return nil, err
	}
	if ta {
		t.Trivial = NewTrivialAugment(NumBins, Bilinear, nil)
	}
	return t, nil
}

// CheckCrop reports a crop that cannot fit images of side size once padded.
func (t *Transform) CheckCrop(h, w int) error {
	if t == nil || !t.Crop {
		return nil
	}
	if h+2*t.Padding < t.CropSize || w+2*t.Padding < t.CropSize {
		return fmt.Errorf("config key train_transforms.random_crop.size %d is larger than the %dx%d images padded by %d", t.CropSize, h, w, t.Padding)
	}
	if t.PadMode == PadReflect && (t.Padding >= h || t.Padding >= w) {
		return fmt.Errorf("config key train_transforms.random_crop.padding %d: reflect padding must be smaller than the image (%dx%d)", t.Padding, h, w)
	}
	return nil
}

// TaskTransform reads task.train_transforms for a model taking size×size images from sources
// of that size: TransformConfig, then a check that the crop fits and keeps the model's size.
func TaskTransform(cfg config.Map, size int) (*Transform, error) {
	t, err := TransformConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := t.CheckCrop(size, size); err != nil {
		return nil, err
	}
	if t.Crop && t.CropSize != size {
		return nil, fmt.Errorf("task.train_transforms.random_crop.size is %d; the model takes %dx%d images", t.CropSize, size, size)
	}
	return t, nil
}

// Splits are a vision task's splits: Train augmented, and one held-out Eval source served,
// without augmentation, as both val and test (as FOB does for CIFAR-100 and ImageNet).
type Splits struct {
	Train, Eval          Source
	Aug                  *Transform
	Norm                 Normalize
	Seed                 int64
	Workers              int
	InputName, LabelName string
}

// Split returns "train", "val" or "test"; task names the task in errors.
func (s *Splits) Split(task, name string) (tasks.Dataset, error) {
	if s == nil || s.Train == nil {
		return nil, fmt.Errorf("tasks/%s: no data yet: call Setup first", task)
	}
	ds := &Dataset{Norm: s.Norm, Seed: s.Seed, Workers: s.Workers, InputName: s.InputName, LabelName: s.LabelName}
	switch name {
	case "train":
		ds.Src, ds.Aug = s.Train, s.Aug
	case "val", "test":
		ds.Src = s.Eval
	default:
		return nil, fmt.Errorf("tasks/%s: no split %q (have train, val, test)", task, name)
	}
	return ds, nil
}
