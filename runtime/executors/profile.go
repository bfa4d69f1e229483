package executors

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// opStat is the time spent in one kind of node (op type and operand shapes).
type opStat struct {
	calls int
	total time.Duration
}

var (
	profMu    sync.Mutex
	profOn    bool
	profStats map[string]*opStat
)

// StartProfile times every node simplego executes from now on, by op type and shapes, until
// WriteProfile (a tool for finding what to speed up next: `FOB_OPSTATS=1` in benchmarks).
func StartProfile() {
	installMu.Lock()
	defer installMu.Unlock()
	profMu.Lock()
	defer profMu.Unlock()
	if profOn {
		return
	}
	profOn, profStats = true, map[string]*opStat{}
	for op := range nodeExecutors {
		inner := nodeExecutors[op]
		if inner == nil {
			continue
		}
		name := backends.OpType(op).String()
		nodeExecutors[op] = func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
			t0 := time.Now()
			out, err := inner(b, n, inputs, owned)
			d := time.Since(t0)
			var sb strings.Builder
			sb.WriteString(name)
			for _, in := range inputs {
				if in != nil {
					sb.WriteString(" " + bufShape(in).String())
				} else {
					sb.WriteString(" (reused)")
				}
			}
			if out != nil {
				sb.WriteString(" -> " + bufShape(out).String())
			}
			key := sb.String()
			profMu.Lock()
			s := profStats[key]
			if s == nil {
				s = &opStat{}
				profStats[key] = s
			}
			s.calls++
			s.total += d
			profMu.Unlock()
			return out, err
		}
	}
}

// WriteProfile writes the top entries of the profile, the most expensive first, and a total per
// op type.
func WriteProfile(w io.Writer, top int) {
	profMu.Lock()
	defer profMu.Unlock()
	type row struct {
		key string
		s   opStat
	}
	var rows []row
	byOp := map[string]*opStat{}
	var total time.Duration
	for k, s := range profStats {
		rows = append(rows, row{k, *s})
		op := strings.Fields(k)[0]
		if byOp[op] == nil {
			byOp[op] = &opStat{}
		}
		byOp[op].calls += s.calls
		byOp[op].total += s.total
		total += s.total
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].s.total > rows[j].s.total })
	fmt.Fprintf(w, "total %v in nodes\n", total.Round(time.Millisecond))
	var ops []row
	for k, s := range byOp {
		ops = append(ops, row{k, *s})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].s.total > ops[j].s.total })
	for _, r := range ops {
		fmt.Fprintf(w, "%10v %6d  %s\n", r.s.total.Round(time.Millisecond), r.s.calls, r.key)
	}
	fmt.Fprintln(w, "--")
	for i, r := range rows {
		if i == top {
			break
		}
		fmt.Fprintf(w, "%10v %6d  %s\n", r.s.total.Round(time.Millisecond), r.s.calls, r.key)
	}
}
