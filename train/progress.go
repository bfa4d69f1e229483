package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress shows how far a long loop is: a redrawn bar with rate and ETA on a terminal, plain
// lines (at most one per few seconds) otherwise, nothing when silent.
type Progress struct {
	w       io.Writer
	tty     bool
	silent  bool
	label   string
	total   int
	start   time.Time
	lastOut time.Time
	unit    string
}

// NewProgress starts a progress display for total units of work.
func NewProgress(w io.Writer, label string, total int, unit string, silent bool) *Progress {
	return &Progress{w: w, tty: isTerminal(w), silent: silent, label: label, total: total, unit: unit,
		start: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update reports done units and a short status (e.g. the current loss).
func (p *Progress) Update(done int, status string) {
	if p.silent {
		return
	}
	now := time.Now()
	interval := 5 * time.Second
	if p.tty {
		interval = 100 * time.Millisecond
	}
	if done < p.total && now.Sub(p.lastOut) < interval {
		return
	}
	p.lastOut = now
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(done) / max(elapsed, 1e-9)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second).String()
	}
	frac := float64(done) / float64(max(p.total, 1))
	if p.tty {
		const width = 30
		n := int(frac * width)
		bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
		fmt.Fprintf(p.w, "\r%s %s %d/%d %.1f %s/s ETA %s %s\x1b[K", p.label, bar, done, p.total, rate, p.unit, eta, status)
		if done >= p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintf(p.w, "%s %3.0f%% %d/%d %.1f %s/s ETA %s %s\n", p.label, 100*frac, done, p.total, rate, p.unit, eta, status)
}
