package executors

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// TestProfileCountsNodes: after StartProfile, each executed node is counted under its op type and
// shapes.
func TestProfileCountsNodes(t *testing.T) {
	b := newBackend(t)
	StartProfile()
	x := randomTensor(rand.New(rand.NewPCG(1, 1)), []int{3, 4}, false)
	exec := graph.MustNewExec(b, func(v *graph.Node) *graph.Node { return graph.ReduceSum(graph.Mul(v, v), 1) })
	for range 3 {
		exec.MustExec1(x).FinalizeAll()
	}
	var out bytes.Buffer
	WriteProfile(&out, 10)
	for _, want := range []string{"Mul (Float32)[3 4] (Float32)[3 4] -> (Float32)[3 4]", "ReduceSum (Float32)[3 4] -> (Float32)[3]"} {
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasSuffix(l, want) {
				line = l
			}
		}
		if f := strings.Fields(line); len(f) < 2 || f[1] != "3" {
			t.Errorf("profile line for %q is %q, want 3 calls\n%s", want, line, out.String())
		}
	}
}
