package plot

import (
	"fmt"
	"image/color"
	"math"
)

// colormap maps [0, 1] to a colour by linear interpolation between evenly spaced anchors.
type colormap struct {
	anchors  []color.RGBA
	reversed bool
}

// rocketAnchors approximate seaborn's "rocket" (dark purple through red to cream) by the colours
// at 0, 1/7, ..., 1: seaborn's six-colour rocket palette plus both ends. Linear interpolation
// between them stays within a few levels of the full 256-entry table.
var rocketAnchors = []color.RGBA{
	{0x03, 0x05, 0x1a, 0xff},
	{0x35, 0x19, 0x3e, 0xff},
	{0x70, 0x1f, 0x57, 0xff},
	{0xad, 0x17, 0x59, 0xff},
	{0xe1, 0x33, 0x42, 0xff},
	{0xf3, 0x76, 0x51, 0xff},
	{0xf6, 0xb4, 0x8f, 0xff},
	{0xfa, 0xeb, 0xdd, 0xff},
}

// palettes are the colour_palette names fob draws; "_r" reverses any of them.
var palettes = map[string][]color.RGBA{"rocket": rocketAnchors}

// newColormap returns the palette name (with an optional "_r" suffix), reversed once more when
// low values are better (test_metric_mode min), so that the best cells are always light.
func newColormap(name string, lowIsBetter bool) (colormap, error) {
	rev := false
	base := name
	if len(name) > 2 && name[len(name)-2:] == "_r" {
		base, rev = name[:len(name)-2], true
	}
	a, ok := palettes[base]
	if !ok {
		return colormap{}, fmt.Errorf("evaluation.plotstyle.color_palette: %q is not available; use rocket (or rocket_r)", name)
	}
	return colormap{anchors: a, reversed: rev != lowIsBetter}, nil
}

// at returns the colour for t in [0, 1] (clipped; NaN gives the low end).
func (c colormap) at(t float64) color.RGBA {
	if math.IsNaN(t) || t < 0 {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	if c.reversed {
		t = 1 - t
	}
	n := len(c.anchors) - 1
	pos := t * float64(n)
	i := int(pos)
	if i >= n {
		return c.anchors[n]
	}
	f := pos - float64(i)
	a, b := c.anchors[i], c.anchors[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// norm maps v into [0, 1] between vmin and vmax; equal limits map everything to 0, as
// matplotlib's Normalize does.
func norm(v, vmin, vmax float64) float64 {
	if vmax == vmin {
		return 0
	}
	return (v - vmin) / (vmax - vmin)
}

// annotationColor picks dark or white text for a cell, by the cell's relative luminance
// (threshold 0.408, as seaborn's heatmap uses).
func annotationColor(bg color.RGBA) color.RGBA {
	lin := func(u uint8) float64 {
		c := float64(u) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	lum := 0.2126*lin(bg.R) + 0.7152*lin(bg.G) + 0.0722*lin(bg.B)
	if lum > 0.408 {
		return color.RGBA{0x26, 0x26, 0x26, 0xff}
	}
	return color.RGBA{0xff, 0xff, 0xff, 0xff}
}
