package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fob-go/fob/train/config"
)

// fuzzDeadline bounds one fuzz input: every phase of Parse checks its context, so an input that
// would take longer is reported as a hang instead of stalling the fuzzer.
const fuzzDeadline = 10 * time.Second

// fuzzLimits lowers the run limits so that each input stays quick (the limits themselves are
// tested by TestGridCap) and returns the catalog of this checkout.
func fuzzLimits(f *testing.F) Catalog {
	oldRuns, oldValues := maxRuns, maxGridValues
	maxRuns, maxGridValues = 2000, 200_000
	f.Cleanup(func() { maxRuns, maxGridValues = oldRuns, oldValues })
	cat, err := DirCatalog(filepath.Join("..", ".."))
	if err != nil {
		f.Fatal(err)
	}
	return cat
}

// seedFiles are the experiment files of the repository: examples/ and testdata/.
func seedFiles(f *testing.F) [][]byte {
	var out [][]byte
	for _, pattern := range []string{"../../examples/*.yaml", "../../examples/*/*.yaml", "testdata/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatal("no seed experiment files found")
	}
	return out
}

// checkParse runs ParseBytesContext under the fuzz deadline and checks what it returns: an
// error with a message, or runs numbered from 1 whose folders are three plain names below
// engine.output_dir, and whose experiment.yaml parses back to the same runs.
func checkParse(t *testing.T, cat Catalog, data []byte, overrides []string) {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
	defer cancel()
	start := time.Now()
	exp, err := ParseBytesContext(ctx, data, "fuzz.yaml", overrides, cat)
	if errors.Is(err, context.DeadlineExceeded) || time.Since(start) > fuzzDeadline {
		t.Fatalf("parsing took more than %v (%v)", fuzzDeadline, err)
	}
	if err != nil {
		if err.Error() == "" {
			t.Fatal("an error without a message")
		}
		return
	}
	if exp == nil || len(exp.Runs) == 0 || len(exp.Runs) > maxRuns {
		t.Fatalf("no error and %v", exp)
	}
	for i, r := range exp.Runs {
		if r.Index != i+1 {
			t.Fatalf("run %d has index %d", i+1, r.Index)
		}
		out, _ := config.String(r.Config, "engine.output_dir")
		abs, _ := filepath.Abs(out)
		rel, err := filepath.Rel(abs, r.Dir)
		parts := strings.Split(rel, string(filepath.Separator))
		if err != nil || len(parts) != 3 {
			t.Fatalf("run %d: folder %s is not three names below %s", r.Index, r.Dir, abs)
		}
		for _, p := range parts {
			if p != SafeName(p) {
				t.Fatalf("run %d: folder %s: %q is not a plain name", r.Index, r.Dir, p)
			}
		}
	}
	// experiment.yaml (what SLURM jobs parse again) gives the same runs in the same folders;
	// checked for experiments of ordinary size (aliases can expand a short input a lot).
	if config.CountValues(exp.Normalized, 10_001) > 10_000 || len(exp.Runs) > 200 {
		return
	}
	text, err := config.Marshal(exp.Normalized)
	if err != nil {
		t.Fatalf("writing experiment.yaml: %v", err)
	}
	again, err := ParseBytesContext(ctx, text, "experiment.yaml", nil, cat)
	if err != nil {
		t.Fatalf("experiment.yaml does not parse again: %v\n%s", err, text)
	}
	if len(again.Runs) != len(exp.Runs) {
		t.Fatalf("experiment.yaml gives %d runs, the original %d\n%s", len(again.Runs), len(exp.Runs), text)
	}
	for i := range exp.Runs {
		if again.Runs[i].Dir != exp.Runs[i].Dir {
			t.Fatalf("run %d moves from %s to %s through experiment.yaml\n%s", i+1, exp.Runs[i].Dir, again.Runs[i].Dir, text)
		}
	}
}

// FuzzParse: any experiment text parses to runs or to an error, without a panic, within the
// deadline. Seeds: the repository's experiment files.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 20s ./train/experiment
func FuzzParse(f *testing.F) {
	cat := fuzzLimits(f)
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, cat, data, nil)
	})
}

// FuzzOverride: any key=value argument, applied to the repository's experiment files, gives
// runs or an error, without a panic, within the deadline.
//
//	go test -run '^$' -fuzz '^FuzzOverride$' -fuzztime 20s ./train/experiment
func FuzzOverride(f *testing.F) {
	cat := fuzzLimits(f)
	bases := seedFiles(f)
	for i, arg := range []string{
		"task.max_epochs=1", "optimizer[0].learning_rate=0.01", "engine.seed=[1,2]",
		"task.dataset_split_lengths=!literal [70, 20, 10]", "task.model.activation=a=b",
		"task[-1].max_epochs=5", "optimizer.name=lion", "=", "engine.seed", "task..x=1",
		"task[99999999999999999999].x=1", "task.model.onnx=/a/b.onnx", "task.output_dir_name=../x",
		"engine.run_scheduler=single:2", "evaluation.plot.metric=test_loss", "optimizer[-1]=sgd_baseline",
		"task={name: mnist, max_epochs: [1, 2]}", "engine.seed=&a [1, *a]",
	} {
		f.Add(uint8(i), arg)
	}
	f.Fuzz(func(t *testing.T, base uint8, arg string) {
		checkParse(t, cat, bases[int(base)%len(bases)], []string{arg})
	})
}
