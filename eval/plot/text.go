package plot

import (
	"fmt"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The figures use the Go Regular font (bundled with golang.org/x/image) for measuring and for
// the PNG; PDF and SVG name Helvetica, whose widths are close enough for centring.
var (
	fontOnce  sync.Once
	goFont    *opentype.Font
	refFace   font.Face // at refSize px, for measuring
	fontErr   error
	capHeight float64 // cap height per unit of font size
	ascent    float64 // ascent per unit of font size
	descent   float64 // descent per unit of font size
)

const refSize = 1000.0

func loadFont() error {
	fontOnce.Do(func() {
		goFont, fontErr = opentype.Parse(goregular.TTF)
		if fontErr != nil {
			fontErr = fmt.Errorf("parsing the bundled Go font: %w", fontErr)
			return
		}
		refFace, fontErr = opentype.NewFace(goFont, &opentype.FaceOptions{Size: refSize, DPI: 72, Hinting: font.HintingNone})
		if fontErr != nil {
			return
		}
		m := refFace.Metrics()
		capHeight = fix(m.CapHeight) / refSize
		ascent = fix(m.Ascent) / refSize
		descent = fix(m.Descent) / refSize
	})
	return fontErr
}

var measureMu sync.Mutex

// textWidth is the advance width of s at size (same unit as size).
func textWidth(s string, size float64) float64 {
	measureMu.Lock()
	defer measureMu.Unlock()
	return fix(font.MeasureString(refFace, s)) / refSize * size
}

func fix(v fixed.Int26_6) float64 { return float64(v) / 64 }
