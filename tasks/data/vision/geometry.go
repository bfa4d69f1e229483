package vision

import (
	"fmt"
	"math"
)

// PadMode says what lies outside an image for Crop: torchvision's padding_mode values.
type PadMode int

const (
	// PadConstant is a constant fill value ("constant").
	PadConstant PadMode = iota
	// PadEdge repeats the border pixel ("edge", numpy's "edge", torch's "replicate").
	PadEdge
	// PadReflect mirrors without repeating the border pixel ("reflect": 2 1 | 0 1 2 | 1 0).
	PadReflect
	// PadSymmetric mirrors repeating the border pixel ("symmetric": 1 0 | 0 1 2 | 2 1).
	PadSymmetric
)

// ParsePadMode reads torchvision's padding_mode names.
func ParsePadMode(s string) (PadMode, error) {
	switch s {
	case "constant":
		return PadConstant, nil
	case "edge", "replicate":
		return PadEdge, nil
	case "reflect":
		return PadReflect, nil
	case "symmetric":
		return PadSymmetric, nil
	}
	return 0, fmt.Errorf("vision: padding_mode %q is not one of constant, edge, reflect, symmetric", s)
}

// String is the torchvision name.
func (p PadMode) String() string {
	switch p {
	case PadConstant:
		return "constant"
	case PadEdge:
		return "edge"
	case PadReflect:
		return "reflect"
	case PadSymmetric:
		return "symmetric"
	}
	return fmt.Sprintf("PadMode(%d)", int(p))
}

// padIndex maps coordinate i (possibly outside [0, n)) into the image under mode; ok is false
// where a constant fill applies. Reflection repeats with period 2n-2 (reflect) or 2n
// (symmetric), so any padding width works, as numpy.pad does.
func padIndex(i, n int, mode PadMode) (int, bool) {
	if i >= 0 && i < n {
		return i, true
	}
	switch mode {
	case PadEdge:
		return min(max(i, 0), n-1), true
	case PadReflect:
		if n == 1 {
			return 0, true
		}
		p := 2*n - 2
		i %= p
		if i < 0 {
			i += p
		}
		if i >= n {
			i = p - i
		}
		return i, true
	case PadSymmetric:
		p := 2 * n
		i %= p
		if i < 0 {
			i += p
		}
		if i >= n {
			i = p - 1 - i
		}
		return i, true
	}
	return 0, false
}

// Crop writes into dst the h×w window of src whose top-left corner is (top, left); the
// window may reach outside src, which then reads as mode says (fill for PadConstant). With
// top = i - p and left = j - p it is torchvision's RandomCrop(size, padding=p, padding_mode)
// at offset (i, j) of the padded image, without building the padded image.
func Crop(dst, src *Image, top, left, h, w int, mode PadMode, fill uint8) {
	dst.Reshape(src.C, h, w)
	rows := make([]int, h)
	rowOK := make([]bool, h)
	for y := range rows {
		rows[y], rowOK[y] = padIndex(top+y, src.H, mode)
	}
	cols := make([]int, w)
	colOK := make([]bool, w)
	inside := left >= 0 && left+w <= src.W
	for x := range cols {
		cols[x], colOK[x] = padIndex(left+x, src.W, mode)
	}
	for c := 0; c < src.C; c++ {
		sp := src.Plane(c)
		dp := dst.Plane(c)
		for y := 0; y < h; y++ {
			drow := dp[y*w : (y+1)*w]
			if !rowOK[y] {
				for x := range drow {
					drow[x] = fill
				}
				continue
			}
			srow := sp[rows[y]*src.W : (rows[y]+1)*src.W]
			if inside {
				copy(drow, srow[left:left+w])
				continue
			}
			for x := range drow {
				if colOK[x] {
					drow[x] = srow[cols[x]]
				} else {
					drow[x] = fill
				}
			}
		}
	}
}

// HFlip mirrors src left to right into dst (torchvision's hflip).
func HFlip(dst, src *Image) {
	sameShape(dst, src)
	w := src.W
	for r := 0; r < src.C*src.H; r++ {
		s := src.Pix[r*w : (r+1)*w]
		d := dst.Pix[r*w : (r+1)*w]
		for x := range d {
			d[x] = s[w-1-x]
		}
	}
}

// VFlip mirrors src top to bottom into dst (torchvision's vflip).
func VFlip(dst, src *Image) {
	sameShape(dst, src)
	w, h := src.W, src.H
	for c := 0; c < src.C; c++ {
		sp, dp := src.Plane(c), dst.Plane(c)
		for y := 0; y < h; y++ {
			copy(dp[y*w:(y+1)*w], sp[(h-1-y)*w:(h-y)*w])
		}
	}
}

// Interp is a resampling method.
type Interp int

const (
	// Nearest picks the nearest source pixel (torch's "nearest"); for label masks.
	Nearest Interp = iota
	// Bilinear interpolates the four neighbours (align_corners=False).
	Bilinear
)

// ParseInterp reads torchvision's InterpolationMode names (lower case).
func ParseInterp(s string) (Interp, error) {
	switch s {
	case "nearest":
		return Nearest, nil
	case "bilinear":
		return Bilinear, nil
	}
	return 0, fmt.Errorf("vision: interpolation %q is not nearest or bilinear", s)
}

// Resize scales src to h×w into dst as torchvision's F.resize does on a uint8 tensor without
// antialiasing (torch.nn.functional.interpolate, align_corners=False, computed in float32,
// then rounded half to even): Bilinear for images, Nearest (torch's legacy "nearest":
// floor(dst·in/out)) for segmentation masks.
func Resize(dst, src *Image, h, w int, interp Interp) {
	dst.Reshape(src.C, h, w)
	if interp == Nearest {
		ys := nearestIndex(h, src.H)
		xs := nearestIndex(w, src.W)
		for c := 0; c < src.C; c++ {
			sp, dp := src.Plane(c), dst.Plane(c)
			for y, sy := range ys {
				srow := sp[sy*src.W:]
				drow := dp[y*w : (y+1)*w]
				for x, sx := range xs {
					drow[x] = srow[sx]
				}
			}
		}
		return
	}
	y0, y1, ly := linearTaps(h, src.H)
	x0, x1, lx := linearTaps(w, src.W)
	for c := 0; c < src.C; c++ {
		sp, dp := src.Plane(c), dst.Plane(c)
		for y := 0; y < h; y++ {
			r0 := sp[y0[y]*src.W:]
			r1 := sp[y1[y]*src.W:]
			wy1 := ly[y]
			wy0 := 1 - wy1
			for x := 0; x < w; x++ {
				wx1 := lx[x]
				wx0 := 1 - wx1
				v := wy0*(wx0*float32(r0[x0[x]])+wx1*float32(r0[x1[x]])) +
					wy1*(wx0*float32(r1[x0[x]])+wx1*float32(r1[x1[x]]))
				dp[y*w+x] = toUint8Round(v)
			}
		}
	}
}

// nearestIndex is torch's nearest source index: min(floor(i·scale), in-1), scale = in/out in
// float32.
func nearestIndex(out, in int) []int {
	scale := float32(in) / float32(out)
	idx := make([]int, out)
	for i := range idx {
		idx[i] = min(int(math.Floor(float64(float32(i)*scale))), in-1)
	}
	return idx
}

// linearTaps is torch's area_pixel_compute_source_index for align_corners=False: the source
// coordinate (i+0.5)·scale-0.5 clamped at 0, its two neighbours and the weight of the second.
func linearTaps(out, in int) (i0, i1 []int, l1 []float32) {
	scale := float32(in) / float32(out)
	i0, i1, l1 = make([]int, out), make([]int, out), make([]float32, out)
	for i := 0; i < out; i++ {
		s := scale*(float32(i)+0.5) - 0.5
		if s < 0 {
			s = 0
		}
		j := int(s)
		i0[i] = j
		i1[i] = j
		if j < in-1 {
			i1[i] = j + 1
		}
		l1[i] = s - float32(j)
	}
	return i0, i1, l1
}

// toUint8Round rounds half to even and clamps to 0..255 (torch.round, then the cast).
func toUint8Round(v float32) uint8 {
	r := math.RoundToEven(float64(v))
	if r <= 0 {
		return 0
	}
	if r >= 255 {
		return 255
	}
	return uint8(r)
}

// toUint8Trunc clamps to 0..255 and truncates, as torchvision's _blend does
// (.clamp(0, 255).to(uint8)).
func toUint8Trunc(v float32) uint8 {
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}
