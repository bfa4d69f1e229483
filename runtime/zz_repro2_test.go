package runtime

import (
	"os"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

func TestReproParallelBranches(t *testing.T) {
	cfg := os.Getenv("REPRO_CFG")
	InstallFixes()
	b, err := simplego.New(cfg)
	if err != nil { t.Fatal(err) }
	for _, k := range []int{2, 4, 8} {
		exec, err := graph.NewExec(b, func(args []*graph.Node) []*graph.Node {
			x := args[0]
			var sum *graph.Node
			for _, w := range args[1:] {
				y := graph.Max(graph.MatMul(x, w), graph.ZerosLike(graph.MatMul(x, w)))
				if sum == nil { sum = y } else { sum = graph.Add(sum, y) }
			}
			loss := graph.ReduceAllSum(graph.Square(sum))
			return append([]*graph.Node{loss}, graph.Gradient(loss, args[1:]...)...)
		})
		if err != nil { t.Fatal(err) }
		args := []any{tensors.FromShape(shapes.Make(dtypes.Float32, 512, 784))}
		for i := 0; i < k; i++ { args = append(args, tensors.FromShape(shapes.Make(dtypes.Float32, 784, 256))) }
		done := make(chan struct{})
		go func() {
			for i := 0; i < 10; i++ { exec.MustExec(args...) }
			close(done)
		}()
		select {
		case <-done:
			t.Logf("k=%d: ok", k)
		case <-time.After(60 * time.Second):
			t.Fatalf("k=%d: HUNG (cfg %q)", k, cfg)
		}
	}
	_ = dtypes.Float32
}


