package vision

import "math"

// InverseAffine is torchvision's _get_inverse_affine_matrix (inverted=True): the 2×3 matrix
// that maps output coordinates to input coordinates, both relative to center, for a rotation
// by angle degrees (clockwise on screen), a translation, a scale and shear angles in degrees.
// The tensor functions pass center relative to the image centre (torchvision's center_f).
func InverseAffine(center [2]float64, angle float64, translate [2]float64, scale float64, shear [2]float64) [6]float64 {
	rot := angle * math.Pi / 180
	sx := shear[0] * math.Pi / 180
	sy := shear[1] * math.Pi / 180
	cx, cy := center[0], center[1]
	tx, ty := translate[0], translate[1]
	a := math.Cos(rot-sy) / math.Cos(sy)
	b := -math.Cos(rot-sy)*math.Tan(sx)/math.Cos(sy) - math.Sin(rot)
	c := math.Sin(rot-sy) / math.Cos(sy)
	d := -math.Sin(rot-sy)*math.Tan(sx)/math.Cos(sy) + math.Cos(rot)
	m := [6]float64{d, -b, 0, -c, a, 0}
	for i := range m {
		m[i] /= scale
	}
	m[2] += m[0]*(-cx-tx) + m[1]*(-cy-ty)
	m[5] += m[3]*(-cx-tx) + m[4]*(-cy-ty)
	m[2] += cx
	m[5] += cy
	return m
}

// AffineParams are F.affine's arguments for a tensor image; Center nil means the image centre.
type AffineParams struct {
	Angle     float64
	Translate [2]float64
	Scale     float64
	Shear     [2]float64
	Center    *[2]float64 // pixel coordinates from the top-left corner, as torchvision takes it
}

// Matrix is the inverse matrix F.affine builds for a w×h tensor image.
func (p AffineParams) Matrix(w, h int) [6]float64 {
	var cf [2]float64
	if p.Center != nil {
		cf = [2]float64{p.Center[0] - float64(w)*0.5, p.Center[1] - float64(h)*0.5}
	}
	return InverseAffine(cf, p.Angle, p.Translate, p.Scale, p.Shear)
}

// Affine is torchvision's F.affine on a uint8 tensor.
func Affine(dst, src *Image, p AffineParams, interp Interp, fill []float64) {
	WarpAffine(dst, src, p.Matrix(src.W, src.H), interp, fill)
}

// Rotate is torchvision's F.rotate (about the centre, expand=False) on a uint8 tensor:
// angle in degrees, counter-clockwise.
func Rotate(dst, src *Image, angle float64, interp Interp, fill []float64) {
	WarpAffine(dst, src, InverseAffine([2]float64{}, -angle, [2]float64{}, 1, [2]float64{}), interp, fill)
}

// WarpAffine resamples src through the inverse matrix m (output centre-relative coordinates →
// input centre-relative coordinates) as torchvision's tensor affine does: an affine grid in
// float32, grid_sample with zero padding and align_corners=False, and, when fill is not nil
// (one value, or one per channel), the out-of-image share blended to fill through a warped
// mask of ones; the result is rounded half to even. fill nil is torchvision's fill=None:
// outside pixels are zeros, without the mask blend.
func WarpAffine(dst, src *Image, m [6]float64, interp Interp, fill []float64) {
	sameShape(dst, src)
	w, h := src.W, src.H
	// rescaled_theta = theta^T / [0.5w, 0.5h], in float32 as torch does.
	hw, hh := float32(0.5*float64(w)), float32(0.5*float64(h))
	t := [6]float32{
		float32(m[0]) / hw, float32(m[1]) / hw, float32(m[2]) / hw,
		float32(m[3]) / hh, float32(m[4]) / hh, float32(m[5]) / hh,
	}
	xs := linspace32(float32(-float64(w)*0.5+0.5), float32(float64(w)*0.5+0.5-1), w)
	ys := linspace32(float32(-float64(h)*0.5+0.5), float32(float64(h)*0.5+0.5-1), h)
	sfx, sfy := float32(w)/2, float32(h)/2
	var fills []float32
	if fill != nil {
		fills = make([]float32, src.C)
		for c := range fills {
			fills[c] = float32(fill[min(c, len(fill)-1)])
		}
	}
	plane := w * h
	for oy := 0; oy < h; oy++ {
		for ox := 0; ox < w; ox++ {
			gx := xs[ox]*t[0] + ys[oy]*t[1] + t[2]
			gy := xs[ox]*t[3] + ys[oy]*t[4] + t[5]
			ix := (gx+1)*sfx - 0.5
			iy := (gy+1)*sfy - 0.5
			o := oy*w + ox
			if interp == Nearest {
				nx := int(math.RoundToEven(float64(ix)))
				ny := int(math.RoundToEven(float64(iy)))
				in := nx >= 0 && nx < w && ny >= 0 && ny < h && !math.IsNaN(float64(ix)) && !math.IsNaN(float64(iy))
				for c := 0; c < src.C; c++ {
					var v uint8
					switch {
					case in:
						v = src.Pix[c*plane+ny*w+nx]
					case fills != nil:
						v = toUint8Round(fills[c])
					}
					dst.Pix[c*plane+o] = v
				}
				continue
			}
			fx := float32(math.Floor(float64(ix)))
			fy := float32(math.Floor(float64(iy)))
			x0, y0 := int(fx), int(fy)
			we := ix - fx
			ea := 1 - we
			n := iy - fy
			s := 1 - n
			wts := [4]float32{s * ea, s * we, n * ea, n * we} // nw, ne, sw, se
			offs := [4]int{-1, -1, -1, -1}
			var mask float32
			for k, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				x, y := x0+d[0], y0+d[1]
				if x >= 0 && x < w && y >= 0 && y < h {
					offs[k] = y*w + x
					mask += wts[k]
				}
			}
			for c := 0; c < src.C; c++ {
				sp := src.Pix[c*plane : (c+1)*plane]
				var v float32
				for k := 0; k < 4; k++ {
					if offs[k] >= 0 {
						v += float32(sp[offs[k]]) * wts[k]
					}
				}
				if fills != nil {
					v = v*mask + (1-mask)*fills[c]
				}
				dst.Pix[c*plane+o] = toUint8Round(v)
			}
		}
	}
}

// linspace32 is torch.linspace in float32: the first half counted up from start, the second
// down from end, with a float32 step.
func linspace32(start, end float32, steps int) []float32 {
	out := make([]float32, steps)
	if steps == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(steps-1)
	half := steps / 2
	for i := range out {
		if i < half {
			out[i] = start + step*float32(i)
		} else {
			out[i] = end - step*float32(steps-i-1)
		}
	}
	return out
}
