// Package vision holds image data for the vision tasks: an 8-bit planar image type, the
// geometric operations the tasks share (crop with padding, flips, resize, affine warps), the
// photometric operations and TrivialAugmentWide exactly as torchvision computes them on uint8
// tensors, a batch pipeline that augments and normalises on engine.workers goroutines, and
// readers for the official CIFAR-100 and downsampled-ImageNet (Imagenet64) files.
//
// Every operation writes its result into a destination image the caller owns (dst and src must
// not share pixels unless an operation says so), so the pipeline reuses buffers per worker.
// Numbers follow torchvision 0.14's tensor implementations (torchvision/transforms/
// functional_tensor.py): the same float32 arithmetic, the same truncation or rounding back to
// uint8; tests compare each operation with torchvision run from Python.
package vision

import "fmt"

// Image is an 8-bit image stored planar, channel-major (C×H×W, as a torch uint8 tensor
// [C,H,W]): Pix[(c*H+y)*W+x] is channel c of the pixel in row y, column x.
type Image struct {
	C, H, W int
	Pix     []uint8
}

// New returns a zeroed image of c channels, h rows and w columns.
func New(c, h, w int) *Image {
	return &Image{C: c, H: h, W: w, Pix: make([]uint8, c*h*w)}
}

// FromCHW wraps pix (channel-major, len c*h*w) without copying.
func FromCHW(pix []uint8, c, h, w int) (*Image, error) {
	if c <= 0 || h <= 0 || w <= 0 || len(pix) != c*h*w {
		return nil, fmt.Errorf("vision: %d bytes for a %dx%dx%d image (want %d)", len(pix), c, h, w, c*h*w)
	}
	return &Image{C: c, H: h, W: w, Pix: pix}, nil
}

// FromHWC converts interleaved pixels (row-major, channels last, as decoded PNG/JPEG or numpy
// HWC arrays) into a planar image.
func FromHWC(pix []uint8, h, w, c int) (*Image, error) {
	if c <= 0 || h <= 0 || w <= 0 || len(pix) != c*h*w {
		return nil, fmt.Errorf("vision: %d bytes for a %dx%dx%d HWC image (want %d)", len(pix), h, w, c, c*h*w)
	}
	m := New(c, h, w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				m.Pix[(ch*h+y)*w+x] = pix[(y*w+x)*c+ch]
			}
		}
	}
	return m, nil
}

// Plane returns channel c's pixels (H*W bytes, row-major), sharing memory with m.
func (m *Image) Plane(c int) []uint8 { return m.Pix[c*m.H*m.W : (c+1)*m.H*m.W] }

// At returns channel c of pixel (y, x).
func (m *Image) At(c, y, x int) uint8 { return m.Pix[(c*m.H+y)*m.W+x] }

// Clone returns a copy of m.
func (m *Image) Clone() *Image {
	return &Image{C: m.C, H: m.H, W: m.W, Pix: append([]uint8(nil), m.Pix...)}
}

// Reshape makes m a c×h×w image, reusing its buffer when it is large enough; the pixels are
// then undefined. Pipelines use it to keep one scratch image per worker.
func (m *Image) Reshape(c, h, w int) {
	n := c * h * w
	if cap(m.Pix) < n {
		m.Pix = make([]uint8, n)
	}
	m.C, m.H, m.W, m.Pix = c, h, w, m.Pix[:n]
}

// CopyFrom makes m a copy of src (reusing m's buffer).
func (m *Image) CopyFrom(src *Image) {
	m.Reshape(src.C, src.H, src.W)
	copy(m.Pix, src.Pix)
}

// sameShape reports a programming error: operations that keep the size need dst sized as src.
func sameShape(dst, src *Image) {
	dst.Reshape(src.C, src.H, src.W)
	if len(src.Pix) > 0 && &dst.Pix[0] == &src.Pix[0] {
		panic("vision: dst and src share pixels")
	}
}
