package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// seedList writes "[0, 1, ..., n-1]".
func seedList(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, i)
	}
	b.WriteByte(']')
	return b.String()
}

// TestLargeSeedGrid: removing duplicate grid values is linear. 100,000 distinct seeds took
// minutes when every value was compared with every other (20,000 took 16 s to parse);
// expanding them must take well under a second, and parsing 20,000 seeds a few seconds.
func TestLargeSeedGrid(t *testing.T) {
	root, err := config.ParseOrderedMap([]byte("engine:\n  seed: "+seedList(experiment.MaxRuns)+"\n"), "seeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	grid, err := experiment.Expand(context.Background(), root, experiment.MaxRuns)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); len(grid) != experiment.MaxRuns || took > 5*time.Second {
		t.Errorf("expanding %d seeds: %d runs in %v, want %d in well under a second", experiment.MaxRuns, len(grid), took, experiment.MaxRuns)
	}

	start = time.Now()
	exp, err := parseText(t, "task: template\nengine:\n  train: false\n  test: false\n  seed: "+seedList(20000)+"\n")
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("20000-seed grid parsed and resolved in %v", took)
	if len(exp.Runs) != 20000 || took > 30*time.Second {
		t.Errorf("20000 seeds: %d runs in %v", len(exp.Runs), took)
	}
	if got := relDir(t, exp.Runs[19999]); got != "template/adamw_baseline/engine.seed=19999" {
		t.Errorf("last run folder %s", got)
	}
}

// TestGridCap: a grid beyond MaxRuns is refused before it is built, with the number of runs it
// asks for, its largest axes and how to split it; an empty axis elsewhere still says so.
func TestGridCap(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"product", "task: mnist\noptimizer: {name: adamw_baseline, learning_rate: " + seedList(300) + "}\nengine:\n  seed: " + seedList(400) + "\n",
			[]string{"exp.yaml: the experiment asks for 120000 runs, more than fob runs from one file (100000)",
				"split it into several experiment files", "engine.seed (400 values)", "optimizer.learning_rate (300 values)"}},
		{"duplicates do not count", "task: mnist\nengine:\n  seed: " + seedList(1000) + "\n  early_stopping: [1, 1.0, 2]\n  logging_interval: " + seedList(60) + "\n",
			[]string{"asks for 120000 runs"}},
		{"2^40 runs", "task: mnist\noptimizer:\n  name: adamw_baseline\n" + func() string {
			var b strings.Builder
			for i := 0; i < 40; i++ {
				fmt.Fprintf(&b, "  k%02d: [1, 2]\n", i)
			}
			return b.String()
		}(), []string{"asks for 1099511627776 runs"}},
		{"list of entries", "task: mnist\noptimizer:\n  - {name: adamw_baseline, learning_rate: " + seedList(400) + ", weight_decay: " + seedList(200) + "}\n  - {name: sgd_baseline, learning_rate: " + seedList(400) + ", weight_decay: " + seedList(200) + "}\n",
			[]string{"asks for 160000 runs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := parseText(t, tc.text)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refusing took %v", took)
			}
			var tooLarge *experiment.GridTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("error %v, want a GridTooLargeError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	// An empty list empties the grid however large the rest is: that is the error to give.
	_, err := parseText(t, "task: mnist\nengine:\n  seed: "+seedList(1000)+"\n  workers: "+seedList(1000)+"\n  logging_interval: []\n")
	if err == nil || !strings.Contains(err.Error(), "engine.logging_interval is an empty list") {
		t.Errorf("empty axis beside a huge one: %v", err)
	}
}

// TestParseCancelled: every phase stops promptly when the context is done: a context cancelled
// before parsing, and one cancelled while a 90,000-run grid is being expanded and resolved.
func TestParseCancelled(t *testing.T) {
	text := []byte("task: template\noptimizer: {name: adamw_baseline, learning_rate: " + seedList(300) + "}\nengine:\n  seed: " + seedList(300) + "\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := experiment.ParseBytesContext(ctx, text, "exp.yaml", nil, testCatalog(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before parsing: %v", err)
	}
	for _, after := range []time.Duration{time.Millisecond, 30 * time.Millisecond, 300 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := experiment.ParseBytesContext(ctx, text, "exp.yaml", nil, testCatalog(t))
			done <- err
		}()
		time.Sleep(after)
		cancel()
		cancelled := time.Now()
		select {
		case err := <-done:
			if took := time.Since(cancelled); !errors.Is(err, context.Canceled) || took > time.Second {
				t.Errorf("cancelled after %v: returned %v after %v", after, err, took)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("cancelled after %v: still parsing 10 s later", after)
		}
	}
	// Expand on its own.
	root, _ := config.ParseOrderedMap(text, "exp.yaml")
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := experiment.Expand(ctx, root, experiment.MaxRuns); !errors.Is(err, context.Canceled) {
		t.Errorf("Expand with a cancelled context: %v", err)
	}
}

// TestYAMLAliasBomb: a "billion laughs" file (nine levels of nine aliases: 9^9 values) is
// refused after little work and memory, with an error naming the file.
func TestYAMLAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("task: mnist\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		p := fmt.Sprintf("*x%d", i-1)
		fmt.Fprintf(&b, "x%d: &x%d [%s, %s, %s, %s, %s, %s, %s, %s, %s]\n", i, i, p, p, p, p, p, p, p, p, p)
	}
	b.WriteString("engine:\n  seed: *x9\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := parseText(t, b.String())
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "exp.yaml:") || !strings.Contains(err.Error(), "more than 1000000 values once its aliases") {
		t.Fatalf("error %v, want the file and the value limit", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; took > 5*time.Second || alloc > 500<<20 {
		t.Errorf("refusing took %v and %d MB", took, alloc>>20)
	}
	// Merge keys (<<) count too.
	b.Reset()
	b.WriteString("a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d {", i, i)
		for j := 0; j < 8; j++ {
			fmt.Fprintf(&b, "m%d: *a%d, ", j, i-1)
		}
		b.WriteString("z: 0}\n")
	}
	b.WriteString("task:\n  <<: *a9\n  name: mnist\n")
	if _, err := parseText(t, b.String()); err == nil || !strings.Contains(err.Error(), "once its aliases") {
		t.Errorf("nested maps of aliases: %v", err)
	}
	// Aliases in ordinary use are fine.
	if _, err := parseText(t, "lr: &lr [0.1, 0.01]\ntask: mnist\noptimizer:\n  - {name: adamw_baseline, learning_rate: *lr}\n  - {name: sgd_baseline, learning_rate: *lr}\n"); err == nil ||
		!strings.Contains(err.Error(), "lr: unknown section") {
		t.Errorf("anchors: %v, want only the unknown section lr", err)
	}
}

// TestHugeFileRefused: a file beyond MaxFileBytes (or a device such as /dev/zero) is refused
// without being read whole.
func TestHugeFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(experiment.MaxFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, p := range []string{path, "/dev/zero"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		_, err := experiment.Parse(p, nil, testCatalog(t))
		if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", p, err)
		}
	}
}
