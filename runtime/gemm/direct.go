package gemm

import (
	"runtime"
	"sync/atomic"

	"github.com/fob-go/fob/internal/parallel"
)

// The direct convolution: stride-1 2-D convolutions with small kernels (a ResNet's 3×3 layers
// and their input gradients) without gathering patches. Each image is copied once into zero-
// padded planes of width wp = output width + kernel width − 1, laid out flat; on that grid the
// output at flat position p reads the input at p + ky·wp + kx for tap (ky, kx), so every tap is
// a contiguous, shifted read of the same planes, and the kernel (direct8x48) loads three 16-lane
// input vectors per channel and tap for 24 FMAs against eight broadcast weights. Output rows of
// whole vectors (widths 16, 32, ...) are computed vector by vector and stored in place; narrower
// ones run over 48 consecutive grid positions of a mosaic (below) and drop the positions that
// fall between images. The block product instead gathers every patch value once per block and
// uses it for only 32 multiply-adds per kernel block, which bound layers 1-2 by the gathering.
const (
	directCo        = 8  // output channels per tile
	directPositions = 48 // flat padded positions per tile (three 16-lane vectors)
	directTile      = directCo * directPositions
)

// directEnabled: SetDirect.
var directEnabled atomic.Bool

func init() { directEnabled.Store(true) }

// SetDirect switches the direct convolution kernel (on by default where the CPU has AVX-512)
// off and on, so that tests and benchmarks compare it with the block product on such CPUs.
func SetDirect(on bool) { directEnabled.Store(on) }

// directPlan is the geometry of one direct convolution. Small images are laid side by side in
// a mosaic of several images per padded plane, sharing the zero columns between them, so that
// fewer computed positions are dropped (4×4 images: 76% kept with 16 per mosaic, 33% alone).
type directPlan struct {
	rows     bool  // output rows of whole vectors: tiles are three row vectors, written in place
	channels int   // input channels
	images   int   // images per mosaic
	slot     int   // columns from one image of the mosaic to the next
	hp, wp   int   // padded plane rows and columns
	plane    int   // elements between padded planes (hp·wp rounded up to whole vectors)
	tiles    int   // tiles per mosaic
	tapBytes []int // byte offset of each tap (ky, kx) in a padded plane, ky major
	reach    int   // elements a vector reads from its first position on
	buf      int   // elements of one padded mosaic, slack included
}

// kept is the fraction of computed positions that are outputs.
func (p *directPlan) kept(c *conv) float64 {
	if p.rows {
		return 1
	}
	return float64(p.images*c.oDim[0]*c.oDim[1]) / float64(p.tiles*directPositions)
}

// maxMosaic bounds a mosaic's padded planes, so that they stay in L2 while a task runs every
// channel block over them.
const maxMosaic = 1 << 20

// direct returns the plan when c runs on the direct kernel (nil otherwise): 2-D, stride 1, no
// dilation or groups, rows contiguous in input and output (NCHW-like), a kernel of at most 7×7
// taps, and at least 60% of the computed positions kept.
func (c *conv) direct() *directPlan {
	if !useAVX512 || !directEnabled.Load() || c.k != 2 || c.groups != 1 {
		return nil
	}
	for i := range 2 {
		if c.stride[i] != 1 || c.inDil[i] != 1 || c.kDil[i] != 1 || c.kDim[i] > 7 {
			return nil
		}
	}
	if c.xsS[1] != 1 || c.xsS[0] != c.xDim[1] || c.osS[1] != 1 || c.osS[0] != c.oDim[1] {
		return nil
	}
	if p := c.directPlan(); p.kept(c) >= 0.6 {
		return p
	}
	return nil
}

// directPlan computes output rows of whole 16-lane vectors one image at a time, the vectors
// written in place; narrower rows go through tiles of 48 consecutive positions of a mosaic,
// whose size keeps the most computed positions (one image when a pad is negative: cropping
// does not share columns).
func (c *conv) directPlan() *directPlan {
	best := c.mosaic(1)
	if c.oDim[1]%16 == 0 {
		best.rows = true
		best.tiles = (c.oDim[0]*c.oDim[1]/16 + 2) / 3
		return best
	}
	lo, hi := c.lo[1], c.oDim[1]+c.kDim[1]-1-c.xDim[1]-c.lo[1]
	if lo < 0 || hi < 0 {
		return best
	}
	for g := 2; g <= min(c.n, 32); g++ {
		p := c.mosaic(g)
		if 4*p.channels*p.plane > maxMosaic {
			break
		}
		if p.kept(c) > best.kept(c) {
			best = p
		}
	}
	return best
}

// mosaic is the plan for g images per padded plane: image i at columns lo + i·slot, with
// max(lo, hi) zero columns between images (each output reads at most lo columns left of its
// image and hi right of it).
func (c *conv) mosaic(g int) *directPlan {
	w := c.xDim[1]
	lo, hi := c.lo[1], c.oDim[1]+c.kDim[1]-1-w-c.lo[1]
	p := &directPlan{channels: c.c, images: g, slot: w + max(lo, hi), hp: c.oDim[0] + c.kDim[0] - 1}
	p.wp = lo + g*w + (g-1)*max(lo, hi) + hi
	if g == 1 {
		p.slot = p.wp
	}
	p.plane = (p.hp*p.wp + 15) &^ 15
	p.tiles = (c.oDim[0]*p.wp + directPositions - 1) / directPositions
	maxTap := 0
	for ky := range c.kDim[0] {
		for kx := range c.kDim[1] {
			t := ky*p.wp + kx
			p.tapBytes = append(p.tapBytes, 4*t)
			maxTap = max(maxTap, t)
		}
	}
	p.reach = (p.channels-1)*p.plane + maxTap + 16
	p.buf = max(p.channels*p.plane, p.tiles*directPositions-16+p.reach)
	return p
}

// runDirect computes the output on the direct kernel. Tasks are mosaics (split further into
// ranges of output-channel blocks when there are fewer than four per worker); a task pads its
// images once and runs every tile of its channel blocks over them, one block at a time, so the
// block's weights stay in cache across tiles and the padded mosaic in L2 across blocks.
func (c *conv) runDirect(p *directPlan) {
	taps := c.kDim[0] * c.kDim[1]
	coBlocks := (c.m + directCo - 1) / directCo
	w := c.directWeights(coBlocks, taps)
	defer putF32(w)
	mosaics := (c.n + p.images - 1) / p.images
	parts := 1
	if workers := runtime.GOMAXPROCS(0); mosaics < 4*workers {
		parts = min(coBlocks, (4*workers+mosaics-1)/mosaics)
	}
	per := (coBlocks + parts - 1) / parts
	slab := p.channels * taps * directCo
	parallel.For(mosaics*parts, func(task int) {
		mo, part := task/parts, task%parts
		b0, b1 := mo*p.images, min(c.n, (mo+1)*p.images)
		img := getF32(p.buf)
		tile := getF32(directTile)
		defer putF32(img)
		defer putF32(tile)
		c.padImages(img, b0, b1, p)
		inTile := [3]int{0, 16, 32} // the tile buffer's vectors
		for cb := part * per; cb < min(coBlocks, (part+1)*per); cb++ {
			wb := w[cb*slab:]
			for t := range p.tiles {
				if !p.rows {
					p0 := t * directPositions
					direct8x48(img, [3]int{p0, p0 + 16, p0 + 32}, wb, p, tile, inTile, directPositions)
					c.writeDirect(tile, b0, b1, cb, p0, p)
					continue
				}
				var pos, opos [3]int
				perRow := c.oDim[1] / 16
				for v := range 3 {
					i := min(3*t+v, c.oDim[0]*perRow-1) // the last tile repeats its last vector
					y, x := i/perRow, i%perRow*16
					pos[v], opos[v] = y*p.wp+x, y*c.oDim[1]+x
				}
				out := c.out[b0*c.osN+cb*directCo*c.osM:]
				if cos := c.m - cb*directCo; cos < directCo { // past the last output channel: via the tile
					direct8x48(img, pos, wb, p, tile, inTile, directPositions)
					for j := range cos {
						for v := range 3 {
							copy(out[j*c.osM+opos[v]:][:16], tile[j*directPositions+16*v:])
						}
					}
					continue
				}
				direct8x48(img, pos, wb, p, out, opos, c.osM)
			}
		}
	})
}

// directWeights packs the kernel as [channel block][input channel][tap][8 output channels],
// zeros past the last output channel.
func (c *conv) directWeights(coBlocks, taps int) []float32 {
	w := getF32(coBlocks * c.c * taps * directCo)
	parallel.For(coBlocks, func(cb int) {
		dst := w[cb*c.c*taps*directCo:][:c.c*taps*directCo]
		clear(dst)
		for j := range min(directCo, c.m-cb*directCo) {
			src := c.w[(cb*directCo+j)*c.wsM:]
			for ch := range c.c {
				for t := range taps {
					ky, kx := t/c.kDim[1], t%c.kDim[1]
					dst[(ch*taps+t)*directCo+j] = src[ch*c.wsC+ky*c.wsS[0]+kx*c.wsS[1]]
				}
			}
		}
	})
	return w
}

// padImages copies images b0..b1-1 side by side into zero-padded planes (the first at column
// lo, the convolution's low pad; negative pads crop a single image), and zeroes the slack after
// the last plane.
func (c *conv) padImages(img []float32, b0, b1 int, p *directPlan) {
	h, wd := c.xDim[0], c.xDim[1]
	for ch := range p.channels {
		plane := img[ch*p.plane : ch*p.plane+p.plane]
		clear(plane)
		for y := max(0, c.lo[0]); y < min(p.hp, h+c.lo[0]); y++ {
			row := plane[y*p.wp : (y+1)*p.wp]
			for b := b0; b < b1; b++ {
				at := c.lo[1] + (b-b0)*p.slot // column of the image's first input column
				ix0, ix1 := max(0, -at), min(wd, p.wp-at)
				if ix0 < ix1 {
					copy(row[at+ix0:at+ix1], c.x[b*c.xsN+ch*c.xsC+(y-c.lo[0])*wd+ix0:])
				}
			}
		}
	}
	clear(img[p.channels*p.plane:])
}

// writeDirect stores the kept positions of a tile (those inside an image's output rows and
// columns) for the tile's output channels; the mosaic holds images b0..b1-1.
func (c *conv) writeDirect(tile []float32, b0, b1, cb, p0 int, p *directPlan) {
	ho, wo := c.oDim[0], c.oDim[1]
	for j := range min(directCo, c.m-cb*directCo) {
		src := tile[j*directPositions : (j+1)*directPositions]
		for q := p0; q < p0+directPositions; {
			y, col := q/p.wp, q%p.wp
			if y >= ho {
				break
			}
			g, x := col/p.slot, col%p.slot
			if x >= wo || b0+g >= b1 { // columns between images, or a slot past the last image
				if next := (g + 1) * p.slot; next < p.wp && b0+g+1 < b1 {
					q = y*p.wp + next
				} else {
					q = (y + 1) * p.wp
				}
				continue
			}
			n := min(wo-x, p0+directPositions-q)
			out := c.out[(b0+g)*c.osN+(cb*directCo+j)*c.osM+y*wo+x:]
			copy(out[:n], src[q-p0:])
			q += n
		}
	}
}

// The direct kernel gradient: a stride-1 convolution whose output is a small kernel and whose
// "kernel" is an image-sized output gradient, dilated by the forward stride s (GoMLX's kernel
// gradient: input channels as the batch, images as the channels, out[ci][co][ty][tx] =
// Σ_img Σ_(u,v) x[ci][img][ty+s·u−lo][tx+s·v−lo] · dy[co][img][u][v]). Images are padded and transposed to channels-last, a few at a time
// ([image][padded position][32-lane channel groups]); for each tap the product over their
// positions then reads 32 consecutive channels per position and broadcasts eight dy values
// (wgrad8x32), with no patch gathering. The images are summed in wgradGroups fixed groups,
// each into its own partial result, and the partials are added in group order (the same result
// on any core count).
const wgradGroups = 4

type wgradPlan struct {
	hp, wp int // padded image rows and columns (those the taps and the dilated output reach)
	cpad   int // channels per transposed position, rounded up to whole 32-lane tiles
	taps   int
	image  int // elements of one transposed image
	batch  int // images transposed at a time (together at most maxMosaic bytes)
}

// directKernelGrad reports whether c is such a kernel gradient: 2-D, stride 1, no input
// dilation or groups, a result of at most 7×7 taps, output channels (c.m) a multiple of 8, at least 16
// input channels (c.n, the lanes), rows contiguous in the input and the output gradient.
func (c *conv) directKernelGrad() bool {
	if !useAVX512 || !directEnabled.Load() || c.k != 2 || c.groups != 1 || c.m%directCo != 0 || c.n < 16 {
		return false
	}
	for i := range 2 {
		if c.stride[i] != 1 || c.inDil[i] != 1 || c.oDim[i] > 7 {
			return false
		}
	}
	return c.xsS[1] == 1 && c.xsS[0] == c.xDim[1] && c.wsS[1] == 1 && c.wsS[0] == c.kDim[1]
}

// runKernelGrad computes the output of a directKernelGrad convolution. Tasks are (group of
// images, range of output-channel blocks): the ranges split the groups' partial results
// between workers when there are more workers than groups.
func (c *conv) runKernelGrad() {
	d0, d1 := c.kDil[0], c.kDil[1]
	p := &wgradPlan{hp: (c.kDim[0]-1)*d0 + c.oDim[0], wp: (c.kDim[1]-1)*d1 + c.oDim[1], cpad: (c.n + 31) &^ 31,
		taps: c.oDim[0] * c.oDim[1]}
	p.image = p.hp * p.wp * p.cpad
	p.batch = max(1, maxMosaic/(4*p.image))
	size := p.taps * c.m * p.cpad // a partial result: [tap][output channel][input channel]
	groups := min(wgradGroups, c.c)
	coBlocks := c.m / directCo
	parts := min(coBlocks, (2*runtime.GOMAXPROCS(0)+groups-1)/groups)
	per := (coBlocks + parts - 1) / parts
	partial := make([][]float32, groups)
	for g := range partial {
		partial[g] = getF32(size)
	}
	rows, cols := c.kDim[0], c.kDim[1]
	parallel.For(groups*parts, func(task int) {
		g, part := task/parts, task%parts
		cb0, cb1 := part*per, min(coBlocks, (part+1)*per)
		acc := partial[g]
		for t := range p.taps {
			clear(acc[(t*c.m+cb0*directCo)*p.cpad : (t*c.m+cb1*directCo)*p.cpad])
		}
		xt := getF32(p.batch * p.image)
		defer putF32(xt)
		for b0 := g * c.c / groups; b0 < (g+1)*c.c/groups; b0 += p.batch {
			n := min(p.batch, (g+1)*c.c/groups-b0)
			for i := range n {
				c.transposeImage(xt[i*p.image:(i+1)*p.image], b0+i, p)
			}
			for cb := cb0; cb < cb1; cb++ {
				dy := c.w[b0*c.wsC+cb*directCo*c.wsM:]
				for t := range p.taps {
					ty, tx := t/c.oDim[1], t%c.oDim[1]
					x := xt[(ty*p.wp+tx)*p.cpad:]
					for ci := 0; ci < p.cpad; ci += 32 {
						wgrad8x32(acc[(t*c.m+cb*directCo)*p.cpad+ci:], p.cpad, dy, c.wsM, c.wsC, x[ci:], d1*p.cpad,
							rows, cols, (d0*p.wp-d1*cols)*p.cpad, p.image, n)
					}
				}
			}
		}
	})
	parallel.For(coBlocks, func(cb int) {
		for t := range p.taps {
			ty, tx := t/c.oDim[1], t%c.oDim[1]
			for co := cb * directCo; co < (cb+1)*directCo; co++ {
				at := (t*c.m + co) * p.cpad
				sum := partial[0][at : at+c.n]
				for _, part := range partial[1:] {
					for i, v := range part[at : at+c.n] {
						sum[i] += v
					}
				}
				for ci, v := range sum {
					c.out[ci*c.osN+co*c.osM+ty*c.osS[0]+tx*c.osS[1]] = v
				}
			}
		}
	})
	for _, part := range partial {
		putF32(part)
	}
}

// transposeImage writes image img of the input as [padded position][channel] (channels c.n,
// padded to p.cpad with zeros; positions hp × wp, the input at (lo0, lo1), zeros around it).
func (c *conv) transposeImage(xt []float32, img int, p *wgradPlan) {
	clear(xt)
	h, w := c.xDim[0], c.xDim[1]
	ix0, ix1 := max(0, -c.lo[1]), min(w, p.wp-c.lo[1]) // input columns inside the padded rows
	if ix0 >= ix1 {
		return
	}
	for iy := max(0, -c.lo[0]); iy < min(h, p.hp-c.lo[0]); iy++ {
		at := ((iy+c.lo[0])*p.wp + ix0 + c.lo[1]) * p.cpad
		for ci := range c.n {
			src := c.x[ci*c.xsN+img*c.xsC+iy*w:][ix0:ix1]
			dst := xt[at+ci:]
			for j, v := range src {
				dst[j*p.cpad] = v
			}
		}
	}
}
