package runtime

import (
	"os"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// branchesStep is a training-step graph with k independent [batch,784]x[784,256] products ready
// at once in the forward pass and again in the backward pass: the pattern (as in a ResNet or
// attention backward pass) that deadlocks simplego's default scheduler once k reaches its pool
// size, 2 x cores.
func branchesStep(t testing.TB, b backends.Backend, k, batch int) func() error {
	return parallelStep(t, b, k, shapes.Make(dtypes.Float32, batch, 784), shapes.Make(dtypes.Float32, 784, 256), graph.MatMul)
}

// parallelStep builds k branches layer(x, w_i), ReLU, summed, and a step returning the loss and
// the gradients of every input.
func parallelStep(t testing.TB, b backends.Backend, k int, xShape, wShape shapes.Shape, layer func(x, w *graph.Node) *graph.Node) func() error {
	exec, err := graph.NewExec(b, func(args []*graph.Node) []*graph.Node {
		var sum *graph.Node
		for _, w := range args[1:] {
			y := layer(args[0], w)
			y = graph.Max(y, graph.ZerosLike(y))
			if sum == nil {
				sum = y
			} else {
				sum = graph.Add(sum, y)
			}
		}
		loss := graph.ReduceAllMean(graph.Square(sum))
		return append([]*graph.Node{loss}, graph.Gradient(loss, args...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{tensors.FromShape(xShape)}
	for range k {
		args = append(args, tensors.FromShape(wShape))
	}
	return func() (err error) {
		defer recoverTo(&err, "parallel branches step")
		for _, o := range exec.MustExec(args...) {
			o.FinalizeAll()
		}
		return nil
	}
}

// finishesWithin runs steps of fn in a goroutine and reports whether they all ended in time; a
// hung scheduler leaves the goroutine blocked (it ends with the test binary).
func finishesWithin(t *testing.T, d time.Duration, steps int, fn func() error) bool {
	done := make(chan error, 1)
	go func() {
		for range steps {
			if err := fn(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-time.After(d):
		return false
	}
}

// TestGoBackendNoDeadlock trains with the "go" backend's configuration on graphs with several
// DotGenerals ready at once and fails, instead of hanging, if a step does not finish.
func TestGoBackendNoDeadlock(t *testing.T) {
	b := newTestBackend(t)
	k := 2*goruntime.NumCPU() + 2
	mlp := func(sizes []int, batch int) func() func() error {
		return func() func() error {
			tr := newMLPTrainer(t, b, sizes, batch)
			return func() error { _, err := tr.step(); return err }
		}
	}
	cases := []struct {
		name  string
		steps int
		setup func() func() error
	}{
		{"MLP 784-128-10 batch 512", 5, mlp([]int{784, 128, 10}, 512)},
		{"MLP 784-512x3-10 batch 256", 3, mlp([]int{784, 512, 512, 512, 10}, 256)},
		{"parallel branches", 3, func() func() error { return branchesStep(t, b, k, 128) }},
		{"parallel conv branches", 3, func() func() error { return convBranchesStep(t, b, k, 16) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !finishesWithin(t, 60*time.Second, c.steps, c.setup()) {
				t.Fatalf("%d training steps did not finish in 60 s: the %q backend's scheduler hung (config %q)", c.steps, "go", GoDefaultConfig)
			}
		})
	}
}

// TestStockSchedulerDeadlocks reproduces the hang that GoDefaultConfig avoids: simplego's default
// scheduler with 2 x cores + 2 products ready at once. It leaves a blocked goroutine behind, so it
// only runs when FOB_REPRODUCE_DEADLOCK=1 (e.g. to check whether a new GoMLX release fixed it).
func TestStockSchedulerDeadlocks(t *testing.T) {
	if os.Getenv("FOB_REPRODUCE_DEADLOCK") != "1" {
		t.Skip("set FOB_REPRODUCE_DEADLOCK=1 to reproduce simplego's scheduler deadlock")
	}
	InstallFixes()
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	if finishesWithin(t, 60*time.Second, 10, branchesStep(t, b, 2*goruntime.NumCPU()+2, 512)) {
		t.Fatalf("simplego's default scheduler finished: if this holds on several runs, GoDefaultConfig may no longer be needed")
	}
}
