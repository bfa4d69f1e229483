package vision

import "fmt"

// PaddedGray is a Source of 1-channel images (such as MNIST's 28×28 digits) served as
// C-channel Size×Size images: each digit centred on a black square and its plane repeated in
// every channel. It lets a colour pipeline (CIFAR's crop, flip, TrivialAugment,
// normalisation) run unchanged on grayscale data.
type PaddedGray struct {
	N, H, W int
	Pix     []uint8 // N*H*W bytes, row-major
	Labels  []int64
	C, Size int
}

// NewPaddedGray checks the sizes and returns the source.
func NewPaddedGray(pix []uint8, n, h, w int, labels []int64, channels, size int) (*PaddedGray, error) {
	if n < 0 || len(pix) != n*h*w || len(labels) != n {
		return nil, fmt.Errorf("vision: %d bytes and %d labels for %d images of %dx%d", len(pix), len(labels), n, h, w)
	}
	if size < h || size < w || channels < 1 {
		return nil, fmt.Errorf("vision: cannot pad %dx%d images to %dx%d with %d channels", h, w, size, size, channels)
	}
	return &PaddedGray{N: n, H: h, W: w, Pix: pix, Labels: labels, C: channels, Size: size}, nil
}

// Len implements Source.
func (g *PaddedGray) Len() int { return g.N }

// Shape implements Source.
func (g *PaddedGray) Shape() (int, int, int) { return g.C, g.Size, g.Size }

// Label implements Source.
func (g *PaddedGray) Label(i int) int64 { return g.Labels[i] }

// Image implements Source.
func (g *PaddedGray) Image(i int, dst *Image) {
	dst.Reshape(g.C, g.Size, g.Size)
	plane := dst.Plane(0)
	for k := range plane {
		plane[k] = 0
	}
	top, left := (g.Size-g.H)/2, (g.Size-g.W)/2
	src := g.Pix[i*g.H*g.W : (i+1)*g.H*g.W]
	for y := 0; y < g.H; y++ {
		copy(plane[(top+y)*g.Size+left:], src[y*g.W:(y+1)*g.W])
	}
	for c := 1; c < g.C; c++ {
		copy(dst.Plane(c), plane)
	}
}
