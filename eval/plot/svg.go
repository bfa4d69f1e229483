package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
)

// svgCanvas writes SVG elements in points.
type svgCanvas struct{ buf bytes.Buffer }

func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func (s *svgCanvas) rect(x, y, w, h float64, c color.RGBA) {
	fmt.Fprintf(&s.buf, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", num(x), num(y), num(w), num(h), hexColor(c))
}

func (s *svgCanvas) text(x, y float64, t string, size float64, c color.RGBA, a align, vertical bool) {
	anchor := [...]string{"start", "middle", "end"}[a]
	rot := ""
	if vertical {
		rot = fmt.Sprintf(` transform="rotate(-90 %s %s)"`, num(x), num(y))
	}
	fmt.Fprintf(&s.buf, `<text x="%s" y="%s" font-size="%s" fill="%s" text-anchor="%s"%s>`, num(x), num(y), num(size), hexColor(c), anchor, rot)
	_ = xml.EscapeText(&s.buf, []byte(t))
	s.buf.WriteString("</text>\n")
}

// renderSVG writes the layout as a standalone SVG document sized in points.
func renderSVG(l *layout) []byte {
	s := &svgCanvas{}
	fmt.Fprintf(&s.buf, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%spt" height="%spt" viewBox="0 0 %s %s" font-family="Helvetica, Arial, sans-serif">`+"\n",
		num(l.w), num(l.h), num(l.w), num(l.h))
	l.draw(s)
	s.buf.WriteString("</svg>\n")
	return s.buf.Bytes()
}
