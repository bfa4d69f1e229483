package graph

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// BenchmarkGraphTrainStep times training steps of FOB's GIN (width 300, 5 layers, batch 128,
// AdamW) on consecutive batches of a real OGB-layout set's train split, in split order (the
// batches scripts/bench_gin_torch.py times in PyTorch): "buckets" pads every batch to the task's
// bucket sizes, "exact" keeps each batch's own sizes. It reports the mean ms/step of steps that
// did not compile, the number of compiles, ms/step with the compiles included, and the CPU time
// (user + system, all threads) per step with compiles: on a shared machine the wall time
// depends on the load, the CPU time much less.
// scripts/bench-graph.sh runs it next to PyTorch.
//
//	FOB_GRAPH_DATA=<data_dir holding graph/hiv> go test -run '^$' -bench GraphTrainStep -benchtime 30x ./tasks/graph/
func BenchmarkGraphTrainStep(b *testing.B) {
	dir := os.Getenv("FOB_GRAPH_DATA")
	if dir == "" {
		b.Skip("FOB_GRAPH_DATA is not set: a data_dir holding graph/hiv (tasks/graph/testdata/make_ogb_from_rdkit.py writes one)")
	}
	if !filepath.IsAbs(dir) {
		b.Fatalf("FOB_GRAPH_DATA=%s: give an absolute path (go test runs in tasks/graph)", dir)
	}
	cfg := traintest.TaskConfig(b, Task{})
	for _, exact := range []bool{false, true} {
		name := "buckets"
		if exact {
			name = "exact"
		}
		b.Run(name, func(b *testing.B) {
			dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dir}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			dm.(*Data).Exact = exact
			if err := dm.Setup(context.Background(), 1); err != nil {
				b.Fatal(err)
			}
			ds, _ := dm.Split("train")
			proto, err := Task{}.BuildModel(cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			st, _, lrs, _ := traintest.Stepper(b, Task{}, proto, 1, config.Map{"name": "adamw_baseline",
				"learning_rate": 1e-3, "weight_decay": 0.0, "max_steps": 100000, "max_epochs": 100})
			const batch = 128
			nb := ds.Len() / batch
			var compiles int
			var steady time.Duration
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % nb
				idx := make([]int, batch)
				for j := range idx {
					idx[j] = k*batch + j
				}
				bt := ds.Batch(idx)
				t0 := time.Now()
				res, err := st.Step(bt, i+1, lrs)
				if err != nil {
					b.Fatal(err)
				}
				if res.Compiled {
					compiles++
				} else {
					steady += time.Since(t0)
				}
			}
			if n := b.N - compiles; n > 0 {
				b.ReportMetric(float64(steady.Milliseconds())/float64(n), "ms/step")
			}
			b.ReportMetric(float64(compiles), "compiles")
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/step-with-compiles")
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/step-with-compiles")
		})
	}
}

// cpuTime is the user plus system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
