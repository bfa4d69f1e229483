package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"
)

// align is where a text's anchor lies along its reading direction.
type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// canvas is what a figure is drawn on; coordinates are points (1/72 inch) from the top-left
// corner. Text is one line placed by its baseline; vertical text reads bottom to top.
type canvas interface {
	rect(x, y, w, h float64, c color.RGBA)
	text(x, y float64, s string, size float64, c color.RGBA, a align, vertical bool)
}

var (
	black = color.RGBA{0, 0, 0, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// box is a rectangle in points.
type box struct{ x, y, w, h float64 }

// panelLayout places one heatmap.
type panelLayout struct {
	heat       box  // the cells
	rotateX    bool // x tick labels vertical (they would overlap)
	xLabelY    float64
	yLabelX    float64 // baseline of the vertical y label
	titleBase  float64 // baseline of the last title line
	titleStep  float64
	cellW      float64
	cellH      float64
	panel      *heatmap
	colorbar   *box // drawn right of this panel's row when set
	cbarLabelX float64
}

// layout is the whole figure in points.
type layout struct {
	w, h   float64
	panels []*panelLayout
	fig    *figure
}

const (
	tickLen = 3.5 // matplotlib's default tick length and label pad, in points
	tickPad = 3.5
)

// layoutFigure lays the grid out tightly: label space is measured from the text, the heatmaps
// get the rest in proportion to their number of x values. If the figure is too small for the
// cell annotations it grows rather than letting text overflow.
func layoutFigure(f *figure) *layout {
	fs, ts, as := f.fontSize, f.fontSize, f.annotSize
	titleSize := 1.2 * fs
	margin := 0.6 * fs
	nCols := len(f.columns)

	// Horizontal: per column y-tick width (+ y label for the first), heat width, gap.
	fixedW := 2 * margin
	nx := make([]int, nCols)
	yTickW := make([]float64, nCols)
	minCellW := 0.0
	for i, c := range f.columns {
		for _, p := range c.panels {
			if p == nil {
				continue
			}
			nx[i] = max(nx[i], len(p.xTicks))
			for _, t := range p.yTicks {
				yTickW[i] = math.Max(yTickW[i], textWidth(t, ts))
			}
			for _, row := range p.annot {
				for _, a := range row {
					for _, line := range strings.Split(a, "\n") {
						minCellW = math.Max(minCellW, textWidth(line, as)+0.6*as)
					}
				}
			}
		}
		nx[i] = max(nx[i], 1)
		fixedW += yTickW[i] + tickLen + tickPad
		if i == 0 {
			fixedW += 1.2*fs + 0.3*fs
		}
		if i > 0 {
			fixedW += 1.2 * fs // gap between columns
		}
	}
	cbarGap := 0.8 * fs
	cbarW := math.Max(0.025*f.widthIn*72, 0.8*fs)
	cbarTickW := 0.0
	for j := 0; j < f.nRows; j++ {
		if p := f.colorbarFor(j); p != nil {
			for _, t := range colorbarTicks(p.vmin, p.vmax) {
				cbarTickW = math.Max(cbarTickW, textWidth(t.label, ts))
			}
		}
	}
	fixedW += cbarGap + cbarW + tickLen + tickPad + cbarTickW + 0.4*fs + 1.2*fs
	sumNx := 0
	for _, n := range nx {
		sumNx += n
	}
	w := f.widthIn * 72
	cellW := (w - fixedW) / float64(sumNx)
	if cellW < minCellW {
		cellW = minCellW
		w = fixedW + cellW*float64(sumNx)
	}

	// Vertical: per row title lines, heat height, x ticks, x label, gap.
	ny := make([]int, f.nRows)
	titleLines := make([]int, f.nRows)
	xTickH := make([]float64, f.nRows)
	hasXLabel := make([]bool, f.nRows)
	rotate := map[*heatmap]bool{}
	maxLines := 1
	for _, c := range f.columns {
		for j, p := range c.panels {
			if p == nil {
				continue
			}
			ny[j] = max(ny[j], len(p.yTicks))
			titleLines[j] = max(titleLines[j], len(p.title))
			hasXLabel[j] = hasXLabel[j] || p.xLabel != ""
			widest := 0.0
			for _, t := range p.xTicks {
				widest = math.Max(widest, textWidth(t, ts))
			}
			h := (ascent + descent) * ts
			if widest > 0.95*cellW {
				rotate[p] = true
				h = widest
			}
			xTickH[j] = math.Max(xTickH[j], h)
			for _, a := range p.annot {
				for _, s := range a {
					maxLines = max(maxLines, strings.Count(s, "\n")+1)
				}
			}
		}
	}
	minCellH := float64(maxLines)*1.2*as + 0.4*as
	fixedH := 2 * margin
	sumNy := 0
	for j := 0; j < f.nRows; j++ {
		ny[j] = max(ny[j], 1)
		sumNy += ny[j]
		fixedH += float64(titleLines[j])*1.25*titleSize + 0.4*fs
		fixedH += tickLen + tickPad + xTickH[j]
		if hasXLabel[j] {
			fixedH += 0.3*fs + 1.25*fs
		}
		if j > 0 {
			fixedH += 0.8 * fs
		}
	}
	h := f.heightIn * 72
	// All rows get the same height, split among their y values.
	maxNy := 0
	for _, n := range ny {
		maxNy = max(maxNy, n)
	}
	rowH := (h - fixedH) / float64(f.nRows)
	if rowH/float64(maxNy) < minCellH {
		rowH = minCellH * float64(maxNy)
		h = fixedH + rowH*float64(f.nRows)
	}

	l := &layout{w: w, h: h, fig: f}
	// Column x positions.
	colX := make([]float64, nCols)
	x := margin
	for i := range f.columns {
		if i == 0 {
			x += 1.2*fs + 0.3*fs
		} else {
			x += 1.2 * fs
		}
		x += yTickW[i] + tickLen + tickPad
		colX[i] = x
		x += cellW * float64(nx[i])
	}
	cbarX := x + cbarGap
	y := margin
	for j := 0; j < f.nRows; j++ {
		if j > 0 {
			y += 0.8 * fs
		}
		titleH := float64(titleLines[j])*1.25*titleSize + 0.4*fs
		heatY := y + titleH
		for i, c := range f.columns {
			if j >= len(c.panels) || c.panels[j] == nil {
				continue
			}
			p := c.panels[j]
			pw := cellW * float64(len(p.xTicks))
			ph := rowH
			pl := &panelLayout{
				heat:      box{colX[i], heatY, pw, ph},
				rotateX:   rotate[p],
				cellW:     cellW,
				cellH:     ph / float64(len(p.yTicks)),
				panel:     p,
				titleBase: heatY - 0.4*fs - descent*titleSize,
				titleStep: 1.25 * titleSize,
				yLabelX:   margin + ascent*fs,
				xLabelY:   heatY + ph + tickLen + tickPad + xTickH[j] + 0.3*fs + ascent*fs,
			}
			l.panels = append(l.panels, pl)
		}
		if p := f.colorbarFor(j); p != nil {
			cb := &panelLayout{
				panel:      p,
				colorbar:   &box{cbarX, heatY, cbarW, rowH},
				cbarLabelX: cbarX + cbarW + tickLen + tickPad + cbarTickW + 0.4*fs + ascent*fs,
			}
			l.panels = append(l.panels, cb)
		}
		y = heatY + rowH + tickLen + tickPad + xTickH[j]
		if hasXLabel[j] {
			y += 0.3*fs + 1.25*fs
		}
	}
	return l
}

// draw paints the laid-out figure.
func (l *layout) draw(c canvas) {
	f := l.fig
	fs, ts, as := f.fontSize, f.fontSize, f.annotSize
	c.rect(0, 0, l.w, l.h, white)
	for _, pl := range l.panels {
		p := pl.panel
		if pl.colorbar != nil {
			drawColorbar(c, pl, ts, fs)
			continue
		}
		hb := pl.heat
		for r := range p.yTicks {
			for q := range p.xTicks {
				v := p.mean[r][q]
				if math.IsNaN(v) {
					continue // seaborn masks cells without data
				}
				bg := p.cmap.at(norm(v, p.vmin, p.vmax))
				cx, cy := hb.x+float64(q)*pl.cellW, hb.y+float64(r)*pl.cellH
				c.rect(cx, cy, pl.cellW, pl.cellH, bg)
				lines := strings.Split(p.annot[r][q], "\n")
				step := 1.2 * as
				base := cy + pl.cellH/2 - step*float64(len(lines)-1)/2 + capHeight*as/2
				for k, line := range lines {
					c.text(cx+pl.cellW/2, base+float64(k)*step, line, as, annotationColor(bg), alignCenter, false)
				}
			}
		}
		// Y ticks and labels (left), x ticks and labels (below).
		for r, t := range p.yTicks {
			cy := hb.y + (float64(r)+0.5)*pl.cellH
			c.rect(hb.x-tickLen, cy-0.4, tickLen, 0.8, black)
			c.text(hb.x-tickLen-tickPad, cy+capHeight*ts/2, t, ts, black, alignRight, false)
		}
		for q, t := range p.xTicks {
			cx := hb.x + (float64(q)+0.5)*pl.cellW
			bottom := hb.y + hb.h
			c.rect(cx-0.4, bottom, 0.8, tickLen, black)
			if pl.rotateX {
				c.text(cx+capHeight*ts/2, bottom+tickLen+tickPad, t, ts, black, alignRight, true)
			} else {
				c.text(cx, bottom+tickLen+tickPad+ascent*ts, t, ts, black, alignCenter, false)
			}
		}
		if p.xLabel != "" {
			c.text(hb.x+hb.w/2, pl.xLabelY, p.xLabel, fs, black, alignCenter, false)
		}
		if p.yLabel != "" {
			c.text(pl.yLabelX, hb.y+hb.h/2, p.yLabel, fs, black, alignCenter, true)
		}
		titleSize := 1.2 * fs
		for k, line := range p.title {
			yy := pl.titleBase - float64(len(p.title)-1-k)*pl.titleStep
			c.text(hb.x+hb.w/2, yy, line, titleSize, black, alignCenter, false)
		}
	}
}

// drawColorbar paints a vertical colour bar (low at the bottom) with ticks and its label.
func drawColorbar(c canvas, pl *panelLayout, ts, fs float64) {
	p, b := pl.panel, *pl.colorbar
	const strips = 128
	sh := b.h / strips
	for k := 0; k < strips; k++ {
		t := (float64(k) + 0.5) / strips
		// Overlap strips slightly so that no hairline gaps appear when rasterised.
		c.rect(b.x, b.y+b.h-float64(k+1)*sh, b.w, sh*1.05, p.cmap.at(t))
	}
	const lw = 0.8
	c.rect(b.x, b.y, b.w, lw, black)
	c.rect(b.x, b.y+b.h-lw, b.w, lw, black)
	c.rect(b.x, b.y, lw, b.h, black)
	c.rect(b.x+b.w-lw, b.y, lw, b.h, black)
	for _, t := range colorbarTicks(p.vmin, p.vmax) {
		y := b.y + b.h*(1-t.pos)
		c.rect(b.x+b.w, y-0.4, tickLen, 0.8, black)
		c.text(b.x+b.w+tickLen+tickPad, y+capHeight*ts/2, t.label, ts, black, alignLeft, false)
	}
	c.text(pl.cbarLabelX, b.y+b.h/2, p.metricLabel, fs, black, alignCenter, true)
}

// tick is one colour-bar tick: its position in [0, 1] from the bottom and its label.
type tick struct {
	pos   float64
	label string
}

// colorbarTicks picks round tick values (steps of 1, 2, 2.5 or 5 times a power of ten, about
// five ticks) within [vmin, vmax].
func colorbarTicks(vmin, vmax float64) []tick {
	if !(vmax > vmin) || math.IsInf(vmax-vmin, 0) {
		return []tick{{0.5, strconv.FormatFloat(vmin, 'g', 6, 64)}}
	}
	raw := (vmax - vmin) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw*0.999 {
			step = m * mag
			break
		}
	}
	dec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if math.Abs(step/mag-2.5) < 1e-9 {
		dec++
	}
	var out []tick
	for k := math.Ceil(vmin/step - 1e-9); k*step <= vmax+step*1e-9; k++ {
		v := k * step
		label := strconv.FormatFloat(v, 'f', dec, 64)
		if label == "-"+strings.TrimLeft(label, "-") && strings.Trim(label, "-0.") == "" {
			label = strings.TrimLeft(label, "-") // no "-0.0"
		}
		out = append(out, tick{(v - vmin) / (vmax - vmin), label})
	}
	return out
}
