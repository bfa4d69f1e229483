package plot

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// pngCanvas rasterises onto an RGBA image at k pixels per point.
type pngCanvas struct {
	img   *image.RGBA
	k     float64
	faces map[float64]font.Face
	err   error
}

func newPNGCanvas(wPt, hPt, dpi float64) *pngCanvas {
	k := dpi / 72
	w, h := int(math.Round(wPt*k)), int(math.Round(hPt*k))
	return &pngCanvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), k: k, faces: map[float64]font.Face{}}
}

func (p *pngCanvas) rect(x, y, w, h float64, c color.RGBA) {
	x0, y0 := int(math.Round(x*p.k)), int(math.Round(y*p.k))
	x1, y1 := int(math.Round((x+w)*p.k)), int(math.Round((y+h)*p.k))
	// Thin lines (ticks, outlines) keep at least one pixel.
	if x1 == x0 && w > 0 {
		x1++
	}
	if y1 == y0 && h > 0 {
		y1++
	}
	draw.Draw(p.img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
}

func (p *pngCanvas) face(size float64) font.Face {
	px := size * p.k
	if f, ok := p.faces[px]; ok {
		return f
	}
	f, err := opentype.NewFace(goFont, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		p.err = err
		return nil
	}
	p.faces[px] = f
	return f
}

func (p *pngCanvas) text(x, y float64, s string, size float64, c color.RGBA, a align, vertical bool) {
	face := p.face(size)
	if face == nil || s == "" {
		return
	}
	wPx := float64(font.MeasureString(face, s)) / 64
	off := 0.0
	switch a {
	case alignCenter:
		off = wPx / 2
	case alignRight:
		off = wPx
	}
	src := image.NewUniform(c)
	if !vertical {
		d := font.Drawer{Dst: p.img, Src: src, Face: face,
			Dot: fixed.Point26_6{X: fixed.Int26_6((x*p.k - off) * 64), Y: fixed.Int26_6(y * p.k * 64)}}
		d.DrawString(s)
		return
	}
	// Vertical text: draw horizontally into a mask, turn it a quarter counter-clockwise, and
	// paint through it.
	m := face.Metrics()
	asc, desc := int(math.Ceil(float64(m.Ascent)/64)), int(math.Ceil(float64(m.Descent)/64))
	tw := int(math.Ceil(wPx)) + 1
	mask := image.NewAlpha(image.Rect(0, 0, tw, asc+desc))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, asc)}
	d.DrawString(s)
	rot := image.NewAlpha(image.Rect(0, 0, asc+desc, tw))
	for yy := 0; yy < asc+desc; yy++ {
		for xx := 0; xx < tw; xx++ {
			rot.SetAlpha(yy, tw-1-xx, mask.AlphaAt(xx, yy))
		}
	}
	// The baseline is column asc of rot; the text starts at its bottom row.
	left := int(math.Round(x*p.k)) - asc
	bottom := int(math.Round(y*p.k + off))
	r := image.Rect(left, bottom-tw, left+asc+desc, bottom)
	draw.DrawMask(p.img, r, src, image.Point{}, rot, image.Point{}, draw.Over)
}

// renderPNG draws the layout at dpi and encodes it.
func renderPNG(l *layout, dpi float64) ([]byte, error) {
	c := newPNGCanvas(l.w, l.h, dpi)
	l.draw(c)
	if c.err != nil {
		return nil, c.err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, c.img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
