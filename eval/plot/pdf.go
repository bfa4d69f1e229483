package plot

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image/color"
	"strconv"
	"strings"
)

// pdfCanvas collects a PDF content stream. PDF's origin is the bottom-left corner, so y is
// flipped against the page height.
type pdfCanvas struct {
	h   float64
	buf bytes.Buffer
}

// num formats a coordinate with at most two decimals.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func rgb(c color.RGBA) string {
	return fmt.Sprintf("%s %s %s", num(float64(c.R)/255), num(float64(c.G)/255), num(float64(c.B)/255))
}

func (p *pdfCanvas) rect(x, y, w, h float64, c color.RGBA) {
	fmt.Fprintf(&p.buf, "%s rg %s %s %s %s re f\n", rgb(c), num(x), num(p.h-y-h), num(w), num(h))
}

func (p *pdfCanvas) text(x, y float64, s string, size float64, c color.RGBA, a align, vertical bool) {
	w := textWidth(s, size)
	off := 0.0
	switch a {
	case alignCenter:
		off = w / 2
	case alignRight:
		off = w
	}
	var tm string
	if vertical {
		// Rotated a quarter turn counter-clockwise: the text runs up the page from y+off.
		tm = fmt.Sprintf("0 1 -1 0 %s %s Tm", num(x), num(p.h-y-off))
	} else {
		tm = fmt.Sprintf("1 0 0 1 %s %s Tm", num(x-off), num(p.h-y))
	}
	fmt.Fprintf(&p.buf, "BT /F1 %s Tf %s rg %s (%s) Tj ET\n", num(size), rgb(c), tm, pdfString(s))
}

// pdfString escapes s for a literal string in WinAnsi encoding (Latin-1 for the characters
// the plots use, ± included); characters outside it become "?".
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// renderPDF writes a one-page PDF 1.4 of the layout: a compressed content stream of filled
// rectangles and Helvetica text (a standard font, so nothing is embedded).
func renderPDF(l *layout) ([]byte, error) {
	c := &pdfCanvas{h: l.h}
	l.draw(c)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(c.buf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>", num(l.w), num(l.h)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes()),
		"<< /Producer (fob) >>",
	}
	var out bytes.Buffer
	// The binary comment line tells transfer tools the file is binary.
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, len(objects), xref)
	return out.Bytes(), nil
}
