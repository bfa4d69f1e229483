package vision

// Photometric operations as torchvision 0.14 computes them on uint8 tensors
// (functional_tensor.py). _blend(img1, img2, r) is r·img1 + (1-r)·img2 in float32, clamped to
// 0..255 and truncated to uint8, which is why Brightness, Saturation, Contrast and Sharpness
// truncate while the resampling operations round.

// blend writes trunc(clamp(r·a + (1-r)·b)) for each pixel; b is read through bAt.
func blend(dst, a *Image, ratio float64, bAt func(i int) float32) {
	r := float32(ratio)
	q := float32(1 - ratio)
	for i, v := range a.Pix {
		dst.Pix[i] = toUint8Trunc(r*float32(v) + q*bAt(i))
	}
}

// AdjustBrightness is F.adjust_brightness: blend with black.
func AdjustBrightness(dst, src *Image, factor float64) {
	sameShape(dst, src)
	blend(dst, src, factor, func(int) float32 { return 0 })
}

// Grayscale writes torchvision's rgb_to_grayscale of a 3-channel image into the 1-channel
// gray: trunc(0.2989 r + 0.587 g + 0.114 b) in float32. A 1-channel image is copied.
func Grayscale(gray, src *Image) {
	gray.Reshape(1, src.H, src.W)
	if src.C == 1 {
		copy(gray.Pix, src.Pix)
		return
	}
	r, g, b := src.Plane(0), src.Plane(1), src.Plane(2)
	for i := range gray.Pix {
		gray.Pix[i] = uint8(float32(0.2989)*float32(r[i]) + float32(0.587)*float32(g[i]) + float32(0.114)*float32(b[i]))
	}
}

// AdjustSaturation is F.adjust_saturation: blend with the grayscale image (a 1-channel image
// is returned unchanged, as PIL does). scratch holds the grayscale plane.
func AdjustSaturation(dst, src, scratch *Image, factor float64) {
	sameShape(dst, src)
	if src.C == 1 {
		copy(dst.Pix, src.Pix)
		return
	}
	Grayscale(scratch, src)
	plane := src.H * src.W
	blend(dst, src, factor, func(i int) float32 { return float32(scratch.Pix[i%plane]) })
}

// AdjustContrast is F.adjust_contrast: blend with the mean of the grayscale image (one value
// for the whole image).
func AdjustContrast(dst, src, scratch *Image, factor float64) {
	sameShape(dst, src)
	var sum int64
	if src.C == 3 {
		Grayscale(scratch, src)
		for _, v := range scratch.Pix {
			sum += int64(v)
		}
	} else {
		for _, v := range src.Pix {
			sum += int64(v)
		}
	}
	// torch sums in float32, exactly while totals stay below 2^24 (images up to 256×256),
	// then divides in float32.
	n := len(src.Pix) / src.C
	mean := float32(sum) / float32(n)
	blend(dst, src, factor, func(int) float32 { return mean })
}

// AdjustSharpness is F.adjust_sharpness: blend with the image smoothed by the 3×3 kernel
// [1 1 1; 1 5 1; 1 1 1]/13 (rounded to uint8) inside a one-pixel border that stays as is.
func AdjustSharpness(dst, src, scratch *Image, factor float64) {
	sameShape(dst, src)
	w, h := src.W, src.H
	if w <= 2 || h <= 2 {
		copy(dst.Pix, src.Pix)
		return
	}
	scratch.CopyFrom(src)
	k1 := float32(1) / float32(13)
	k5 := float32(5) / float32(13)
	for c := 0; c < src.C; c++ {
		sp, bp := src.Plane(c), scratch.Plane(c)
		for y := 1; y < h-1; y++ {
			for x := 1; x < w-1; x++ {
				var acc float32
				for dy := -1; dy <= 1; dy++ {
					row := sp[(y+dy)*w:]
					for dx := -1; dx <= 1; dx++ {
						k := k1
						if dx == 0 && dy == 0 {
							k = k5
						}
						acc += float32(row[x+dx]) * k
					}
				}
				bp[y*w+x] = toUint8Round(acc)
			}
		}
	}
	blend(dst, src, factor, func(i int) float32 { return float32(scratch.Pix[i]) })
}

// Posterize is F.posterize: keep the top bits of each value.
func Posterize(dst, src *Image, bits int) {
	sameShape(dst, src)
	mask := uint8(0xff << (8 - uint(min(max(bits, 0), 8))))
	for i, v := range src.Pix {
		dst.Pix[i] = v & mask
	}
}

// Solarize is F.solarize: invert values at or above threshold (compared in float32).
func Solarize(dst, src *Image, threshold float64) {
	sameShape(dst, src)
	t := float32(threshold)
	for i, v := range src.Pix {
		if float32(v) >= t {
			v = 255 - v
		}
		dst.Pix[i] = v
	}
}

// Invert is F.invert: 255 - v.
func Invert(dst, src *Image) {
	sameShape(dst, src)
	for i, v := range src.Pix {
		dst.Pix[i] = 255 - v
	}
}

// AutoContrast is F.autocontrast: stretch each channel to 0..255, (v - min)·255/(max - min) in
// float32, truncated; a constant channel is kept.
func AutoContrast(dst, src *Image) {
	sameShape(dst, src)
	for c := 0; c < src.C; c++ {
		sp, dp := src.Plane(c), dst.Plane(c)
		lo, hi := uint8(255), uint8(0)
		for _, v := range sp {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo == hi {
			copy(dp, sp)
			continue
		}
		mn := float32(lo)
		// torch evaluates 255.0 / t as t.reciprocal() * 255 (Tensor.__rtruediv__).
		scale := float32(1) / (float32(hi) - mn) * 255
		for i, v := range sp {
			dp[i] = toUint8Trunc((float32(v) - mn) * scale)
		}
	}
}

// Equalize is F.equalize: per-channel histogram equalisation with PIL's lookup table
// (step = sum of the histogram without its last non-empty bin, floor-divided by 255).
func Equalize(dst, src *Image) {
	sameShape(dst, src)
	for c := 0; c < src.C; c++ {
		sp, dp := src.Plane(c), dst.Plane(c)
		var hist [256]int64
		for _, v := range sp {
			hist[v]++
		}
		last := -1
		var total int64
		for i, n := range hist {
			if n != 0 {
				total += n
				last = i
			}
		}
		step := (total - hist[last]) / 255
		if step == 0 {
			copy(dp, sp)
			continue
		}
		var lut [256]uint8
		var cum int64
		for i := 0; i < 256; i++ {
			// lut[i] = (cumsum[i-1] + step/2) / step, shifted right by one bin, clamped.
			v := (cum + step/2) / step
			lut[i] = uint8(min(max(v, 0), 255))
			cum += hist[i]
		}
		for i, v := range sp {
			dp[i] = lut[v]
		}
	}
}
