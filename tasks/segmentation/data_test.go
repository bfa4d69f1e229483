package segmentation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/segmentation"
	"github.com/fob-go/fob/train/config"
)

func setup(t *testing.T, dataDir string, cfg config.Map) tasks.DataModule {
	t.Helper()
	dm, err := segmentation.Task{}.NewData(tasks.DataEnv{DataDir: dataDir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	return dm
}

// TestDataModule: on MNIST scenes in the ADE20K layout, the splits have the scene counts
// (grayscale validation images left out, val and test the same), batches have the processor's
// shapes, ImageNet-normalised pixels and reduced labels (255 on the "other" frame); a forced
// flip with no crop gives exactly the mirrored validation sample, image and labels together.
func TestDataModule(t *testing.T) {
	dataDir := writeScenes(t, t.TempDir(), segmentation.MNISTScenes{Train: 6, Val: 3, Size: 40, Digits: 1, Seed: 2})
	cfg := taskConfig(t, 32)
	dm := setup(t, dataDir, cfg)
	train, _ := dm.Split("train")
	val, _ := dm.Split("val")
	test, _ := dm.Split("test")
	if train.Len() != 6 || val.Len() != 3 || test.Len() != 3 {
		t.Fatalf("split sizes %d/%d/%d, want 6/3/3 (grayscale images left out)", train.Len(), val.Len(), test.Len())
	}
	b := val.Batch([]int{0, 2})
	x, y := b.Inputs["pixel_values"], b.Targets["labels"]
	if got := x.Shape; len(got) != 4 || got[0] != 2 || got[1] != 3 || got[2] != 32 || got[3] != 32 {
		t.Fatalf("pixel_values shape %v", got)
	}
	if got := y.Shape; len(got) != 3 || got[1] != 32 {
		t.Fatalf("labels shape %v", got)
	}
	var lo, hi float32
	for _, v := range x.F32 {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -2.2 || hi > 2.7 || hi-lo < 1 {
		t.Errorf("pixels in [%v, %v]; want ImageNet-normalised values in about [-2.12, 2.64]", lo, hi)
	}
	seen := map[int64]bool{}
	for _, v := range y.I64 {
		seen[v] = true
		if v != 255 && (v < 0 || v > 10) {
			t.Fatalf("label %d; want 0 (background), 1..10 (digits) or 255", v)
		}
	}
	if !seen[255] || !seen[0] || y.I64[0] != 255 {
		t.Errorf("labels %v: want the ignored frame (255) and background (0)", seen)
	}

	flip := taskConfig(t, 32)
	flip["train_transforms"] = config.Map{"random_resized_crop": config.Map{"use": false, "scale": []any{0.5, 2.0}},
		"horizontal_flip": config.Map{"use": true, "p": 1.0}}
	tr, _ := setup(t, dataDir, flip).Split("train")
	f := tr.Batch([]int{1})
	vtr := setupNoAug(t, dataDir).Batch([]int{1})
	for c := 0; c < 3; c++ {
		for r := 0; r < 32; r++ {
			for col := 0; col < 32; col++ {
				a := f.Inputs["pixel_values"].F32[c*1024+r*32+col]
				want := vtr.Inputs["pixel_values"].F32[c*1024+r*32+31-col]
				if a != want {
					t.Fatalf("flipped pixel (%d,%d,%d) = %v, want the mirror %v", c, r, col, a, want)
				}
			}
		}
	}
	for r := 0; r < 32; r++ {
		for col := 0; col < 32; col++ {
			if f.Targets["labels"].I64[r*32+col] != vtr.Targets["labels"].I64[r*32+31-col] {
				t.Fatalf("flipped label (%d,%d) is not the mirror", r, col)
			}
		}
	}
	// Default augmentations: crops change the sample but keep labels valid.
	aug := train.Batch([]int{0, 1, 2, 3})
	for _, v := range aug.Targets["labels"].I64 {
		if v != 255 && (v < 0 || v > 10) {
			t.Fatalf("augmented label %d", v)
		}
	}
}

// setupNoAug returns the train split with augmentations off.
func setupNoAug(t *testing.T, dataDir string) tasks.Dataset {
	cfg := taskConfig(t, 32)
	cfg["train_transforms"] = config.Map{"random_resized_crop": config.Map{"use": false}, "horizontal_flip": config.Map{"use": false}}
	ds, err := setup(t, dataDir, cfg).Split("train")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestDataConfigErrors: bad transform settings and a missing dataset are clear errors.
func TestDataConfigErrors(t *testing.T) {
	for _, c := range []struct {
		tf   config.Map
		want string
	}{
		{config.Map{"random_resized_crop": config.Map{"use": true, "scale": []any{2.0, 0.5}}}, "random_resized_crop.scale"},
		{config.Map{"random_resized_crop": config.Map{"use": true, "scale": "big"}}, "random_resized_crop.scale"},
		{config.Map{"horizontal_flip": config.Map{"use": true, "p": 1.5}}, "horizontal_flip.p"},
		{config.Map{"horizontal_flip": config.Map{"use": "yes"}}, "horizontal_flip.use"},
	} {
		cfg := taskConfig(t, 32)
		cfg["train_transforms"] = c.tf
		if _, err := (segmentation.Task{}).NewData(tasks.DataEnv{DataDir: t.TempDir()}, cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.tf, err, c.want)
		}
	}
	dm, err := segmentation.Task{}.NewData(tasks.DataEnv{DataDir: t.TempDir(), Mirror: t.TempDir()}, taskConfig(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no download attempt
	if err := dm.Prepare(ctx); err == nil || !strings.Contains(err.Error(), "ADEChallengeData2016") {
		t.Errorf("no data: error %v, want one saying where ADEChallengeData2016 goes", err)
	}
}
