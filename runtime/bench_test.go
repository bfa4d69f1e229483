package runtime

import (
	"testing"
)

// benchStep times MLP training steps (forward, softmax cross-entropy, gradients, SGD update).
func benchStep(b *testing.B, tr *mlpTrainer) {
	if _, err := tr.step(); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.step(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoConfigs compares simplego scheduling options on MLP training steps at batch 512: the
// 784-128-10 MNIST MLP and a wider 4-layer one (the choice behind GoDefaultConfig). "default" is
// simplego's own dynamic scheduler, which can deadlock when 2 x cores DotGenerals are ready at once
// (TestGoBackendNoDeadlock); it is only run on the small MLP, where at most two are.
func BenchmarkGoConfigs(b *testing.B) {
	InstallFixes()
	for _, m := range []struct {
		name  string
		sizes []int
	}{{"784-128-10", []int{784, 128, 10}}, {"784-512x3-10", []int{784, 512, 512, 512, 10}}} {
		for _, c := range []struct{ name, config string }{
			{"default", ""},
			{"ops_sequential", "ops_sequential"},
			{"ops_parallel,parallelism=-1", "ops_parallel,parallelism=-1"},
			{"ops_sequential,parallelism=0", "ops_sequential,parallelism=0"},
		} {
			if c.config == "" && len(m.sizes) > 3 {
				continue
			}
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				be, err := newGoBackend(c.config)
				if err != nil {
					b.Fatal(err)
				}
				defer be.Finalize()
				benchStep(b, newMLPTrainer(b, be, m.sizes, 512))
			})
		}
	}
}

// BenchmarkMLPStepVJP compares GoMLX's stock Dot/DotGeneral gradient with the fixed one on a
// 784-128-10 MLP training step at batch 512 on the "go" backend.
func BenchmarkMLPStepVJP(b *testing.B) {
	be := newTestBackend(b)
	for _, c := range []struct {
		name  string
		stock bool
	}{{"stock", true}, {"fixed", false}} {
		b.Run(c.name, func(b *testing.B) {
			var tr *mlpTrainer
			build := func() { tr = newMLPTrainer(b, be, []int{784, 128, 10}, 512); _, _ = tr.step() }
			if c.stock {
				withStockVJPs(build) // the graph is built (and gradients chosen) on the first step
			} else {
				build()
			}
			benchStep(b, tr)
		})
	}
}
