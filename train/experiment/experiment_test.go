package experiment_test

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// testCatalog reads the default files of this checkout.
func testCatalog(t *testing.T) experiment.Catalog {
	t.Helper()
	cat, err := experiment.DirCatalog(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	return cat
}

func parseFile(t *testing.T, file string, overrides ...string) *experiment.Experiment {
	t.Helper()
	path := file
	if !strings.HasPrefix(file, "../") { // the usage examples live in examples/usage
		path = filepath.Join("testdata", file)
	}
	exp, err := experiment.Parse(path, overrides, testCatalog(t))
	if err != nil {
		t.Fatalf("Parse(%s): %v", file, err)
	}
	return exp
}

func parseText(t *testing.T, text string, overrides ...string) (*experiment.Experiment, error) {
	t.Helper()
	return experiment.ParseBytes([]byte(text), "exp.yaml", overrides, testCatalog(t))
}

// relDir is a run folder relative to its output_dir: task/optimizer/name.
func relDir(t *testing.T, r experiment.Run) string {
	t.Helper()
	out, _ := config.String(r.Config, "engine.output_dir")
	abs, _ := filepath.Abs(out)
	rel, err := filepath.Rel(abs, r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

func TestRunCounts(t *testing.T) {
	for _, tc := range []struct {
		file string
		runs int
	}{
		{"example_experiment.yaml", 1},
		{"../../examples/usage/1_single_task.yaml", 1},
		{"../../examples/usage/2_comparing_optimizers.yaml", 18},
		{"../../examples/usage/3_benchmark_optimizers.yaml", 432},
		{"../../examples/usage/4_multiple_task_versions.yaml", 8},
		{"../../examples/usage/5_slurm.yaml", 180},
		{"baselines_mnist.yaml", 99},
		{"baselines_classification_small.yaml", 120},
		{"plotting3_mnist_tabular.yaml", 32},
		{"template_names.yaml", 1},
		{"literal.yaml", 2},
		{"unsorted_entry.yaml", 4},
	} {
		t.Run(tc.file, func(t *testing.T) {
			exp := parseFile(t, tc.file)
			if len(exp.Runs) != tc.runs {
				t.Fatalf("%d runs, want %d", len(exp.Runs), tc.runs)
			}
			seen := map[string]int{}
			for i, r := range exp.Runs {
				if r.Index != i+1 {
					t.Fatalf("run %d has Index %d", i+1, r.Index)
				}
				if !filepath.IsAbs(r.Dir) {
					t.Fatalf("run %d: Dir %q is not absolute", r.Index, r.Dir)
				}
				if prev, dup := seen[r.Dir]; dup {
					t.Fatalf("runs %d and %d share %s", prev, r.Index, r.Dir)
				}
				seen[r.Dir] = r.Index
			}
		})
	}
}

// TestWorkedOrder checks the grid order of docs/fob-behaviour.md §1.4 on plotting example 3, and that single:N
// picks run N of that order.
func TestWorkedOrder(t *testing.T) {
	exp := parseFile(t, "plotting3_mnist_tabular.yaml")
	for _, tc := range []struct {
		run       int
		seed      int
		opt, task string
		lr, wd    float64
	}{
		{1, 1, "sgd_baseline", "mnist", 0.01, 0.1},
		{2, 1, "sgd_baseline", "tabular", 0.01, 0.1},
		{3, 1, "sgd_baseline", "mnist", 0.01, 0.01},
		{9, 1, "adamw_baseline", "mnist", 0.01, 0.1},
		{16, 1, "adamw_baseline", "tabular", 0.001, 0.01},
		{17, 2, "sgd_baseline", "mnist", 0.01, 0.1},
		{32, 2, "adamw_baseline", "tabular", 0.001, 0.01},
	} {
		c := exp.Runs[tc.run-1].Config
		seed, _ := config.Int(c, "engine.seed")
		opt, _ := config.String(c, "optimizer.name")
		task, _ := config.String(c, "task.name")
		lr, _ := config.Float(c, "optimizer.learning_rate")
		wd, _ := config.Float(c, "optimizer.weight_decay")
		if seed != tc.seed || opt != tc.opt || task != tc.task || lr != tc.lr || wd != tc.wd {
			t.Errorf("run %d = seed %d %s %s lr %v wd %v; want seed %d %s %s lr %v wd %v",
				tc.run, seed, opt, task, lr, wd, tc.seed, tc.opt, tc.task, tc.lr, tc.wd)
		}
	}
	single := parseFile(t, "plotting3_mnist_tabular.yaml", "engine.run_scheduler=single:9")
	if single.Scheduler != (experiment.Scheduler{Kind: "single", N: 9}) {
		t.Fatalf("scheduler %+v", single.Scheduler)
	}
	if got, want := single.Runs[single.Scheduler.N-1].Dir, exp.Runs[8].Dir; got != want {
		t.Errorf("single:9 picks %s, want %s", got, want)
	}
	if got := relDir(t, exp.Runs[8]); got != "mnist/adamw_baseline/engine.seed=1" {
		t.Errorf("run 9 folder %s", got)
	}
	// Inside a list entry the first-written key varies slowest.
	unsorted := parseFile(t, "unsorted_entry.yaml")
	if got := relDir(t, unsorted.Runs[2]); got != "mnist/adamw_baseline/optimizer.learning_rate=0.1,optimizer.weight_decay=0.01" {
		t.Errorf("unsorted entry: run 3 folder %s", got)
	}
}

// TestRunFolderNames checks the folder names listed in docs/fob-behaviour.md §1.5 and §7.
func TestRunFolderNames(t *testing.T) {
	find := func(exp *experiment.Experiment, dir string) bool {
		for _, r := range exp.Runs {
			if relDir(t, r) == dir {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		file, dir string
	}{
		{"plotting3_mnist_tabular.yaml", "mnist/adamw_baseline/engine.seed=1,optimizer.learning_rate=0.001,optimizer.weight_decay=0.01"},
		{"plotting3_mnist_tabular.yaml", "tabular/sgd_baseline/engine.seed=2,optimizer.weight_decay=0.1"},
		{"plotting3_mnist_tabular.yaml", "tabular/adamw_baseline/engine.seed=1,optimizer.learning_rate=0.01,optimizer.weight_decay=0.1"},
		{"plotting3_mnist_tabular.yaml", "mnist/sgd_baseline/engine.seed=1,optimizer.learning_rate=0.001"},
		{"example_experiment.yaml", "mnist/adamw_baseline/default"},
		{"../../examples/usage/4_multiple_task_versions.yaml", "tabular_quantile/adamw_baseline/optimizer.learning_rate=0.01"},
		{"../../examples/usage/4_multiple_task_versions.yaml", "tabular_standard/adamw_baseline/optimizer.weight_decay=0.1,task.train_transforms.noise=0,task.train_transforms.normalizer=standard"},
		{"template_names.yaml", "template/adamw_baseline/engine.early_stopping=5,optimizer.lr_scheduler.warmup_steps=10"},
		{"../../examples/usage/1_single_task.yaml", "mnist/adamw_baseline/task.max_epochs=1,task.model.num_hidden=42"},
		{"../../examples/usage/2_comparing_optimizers.yaml", "mnist/adamcpr/optimizer.kappa_init_param=0.5"},
		{"../../examples/usage/2_comparing_optimizers.yaml", "mnist/adamcpr/optimizer.kappa_init_param=32,optimizer.learning_rate=0.001"},
		{"literal.yaml", "template/adamw_baseline/task.dataset_split_lengths=[70, 20, 10]"},
		{"literal.yaml", "template/adamw_baseline/default"},
	} {
		if !find(parseFile(t, tc.file), tc.dir) {
			t.Errorf("%s: no run in %s", tc.file, tc.dir)
		}
	}
	// kappa_init_param 1 equals the default 1.0 (Python ==), so it is not in the name.
	for _, r := range parseFile(t, "../../examples/usage/2_comparing_optimizers.yaml").Runs {
		if strings.Contains(relDir(t, r), "kappa_init_param=1,") || strings.HasSuffix(relDir(t, r), "kappa_init_param=1") {
			t.Errorf("kappa_init_param=1 equals the default 1.0 but shows in %s", relDir(t, r))
		}
	}
}

func TestValueFormatting(t *testing.T) {
	for _, tc := range []struct{ yaml, name string }{
		{"1.e-3", "0.001"},
		{"3.16e-4", "0.000316"},
		{"1.e-5", "1e-05"},
		{"1.0", "1.0"},
		{"10.0", "10.0"},
		{"1.e+16", "1e+16"},
		{"1.e+6", "1000000.0"},
		{"1", "1"},
		{"1e-3", "0.001"}, // YAML 1.2: a float here, a string in PyYAML
		{"'1e-3'", "1e-3"},
		{"0.000316227766", "0.000316227766"},
		{"true", "True"},
		{"null", "None"},
		{"abc", "abc"},
		{"!literal [1, 2.5, x, null]", "[1, 2.5, 'x', None]"},
	} {
		exp, err := parseText(t, "task: mnist\noptimizer:\n  name: adamw_baseline\n  weight_decay: "+tc.yaml+"\n")
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		want := "mnist/adamw_baseline/optimizer.weight_decay=" + tc.name
		if got := relDir(t, exp.Runs[0]); got != want {
			t.Errorf("weight_decay %s: folder %s, want %s", tc.yaml, got, want)
		}
	}
}

func TestLongNameIsMD5(t *testing.T) {
	for _, n := range []int{254 - len("task.model.activation="), 255 - len("task.model.activation=")} {
		value := strings.Repeat("x", n)
		exp, err := parseText(t, "task:\n  name: mnist\n  model:\n    activation: "+value+"\n")
		if err != nil {
			t.Fatal(err)
		}
		full := "task.model.activation=" + value
		want := full
		if len(full) > 254 {
			sum := md5.Sum([]byte(full))
			want = hex.EncodeToString(sum[:])
		}
		if got := filepath.Base(exp.Runs[0].Dir); got != want {
			t.Errorf("%d chars: folder %s, want %s", len(full), got, want)
		}
	}
}

// TestBareOptimizerKeepsTaskSettings: FOB loses mnist's optimizer settings (lr 1e-2, wd 0.1)
// when the optimizer is a bare name (docs/fob-behaviour.md §8, defect 9); fob keeps them, as a {name: ...} map does.
func TestBareOptimizerKeepsTaskSettings(t *testing.T) {
	for _, text := range []string{
		"task: mnist\noptimizer: [sgd_baseline]\n",
		"task: mnist\noptimizer: sgd_baseline\n",
		"task: mnist\noptimizer: {name: sgd_baseline}\n",
		"task: mnist\noptimizer: {sgd_baseline: null}\n",
	} {
		exp, err := parseText(t, text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		r := exp.Runs[0]
		wd, _ := config.Float(r.Config, "optimizer.weight_decay")
		lr, _ := config.Float(r.Config, "optimizer.learning_rate")
		if wd != 0.1 || lr != 0.01 || relDir(t, r) != "mnist/sgd_baseline/default" {
			t.Errorf("%q: lr %v wd %v in %s; want lr 0.01 wd 0.1 in mnist/sgd_baseline/default", text, lr, wd, relDir(t, r))
		}
	}
}

func TestShorthandAndOverrides(t *testing.T) {
	base := "task: mnist\noptimizer:\n  - name: adamw_baseline\n    learning_rate: [0.1, 0.01]\n  - name: sgd_baseline\n"
	for _, tc := range []struct {
		name      string
		text      string
		overrides []string
		want      []string // folders relative to output_dir
	}{
		{"named dict", "task: mnist\noptimizer:\n  adamw_baseline: {learning_rate: [0.1, 0.01]}\n  sgd_baseline: null\n", nil,
			[]string{"mnist/adamw_baseline/optimizer.learning_rate=0.1", "mnist/adamw_baseline/default", "mnist/sgd_baseline/default"}},
		{"null sections", "task: mnist\noptimizer:\nengine:\nevaluation:\n", nil,
			[]string{"mnist/adamw_baseline/default"}},
		{"task named dict", "task:\n  mnist: {max_epochs: 2}\n  tabular: {}\noptimizer: adamw_baseline\n", nil,
			[]string{"mnist/adamw_baseline/task.max_epochs=2", "tabular/adamw_baseline/default"}},
		{"list index", base, []string{"optimizer[0].learning_rate=0.5"},
			[]string{"mnist/adamw_baseline/optimizer.learning_rate=0.5", "mnist/sgd_baseline/default"}},
		{"negative index", base, []string{"optimizer[-1].momentum=0.5"},
			[]string{"mnist/adamw_baseline/optimizer.learning_rate=0.1", "mnist/adamw_baseline/default", "mnist/sgd_baseline/optimizer.momentum=0.5"}},
		{"value with =", "task: mnist\noptimizer: adamw_baseline\n", []string{"task.model.activation=a=b"},
			[]string{"mnist/adamw_baseline/task.model.activation=a=b"}},
		{"list value is an axis", "task: mnist\noptimizer: adamw_baseline\n", []string{"engine.seed=[1,2]"},
			[]string{"mnist/adamw_baseline/engine.seed=1", "mnist/adamw_baseline/engine.seed=2"}},
		{"literal override", "task: template\n", []string{"task.dataset_split_lengths=!literal [70, 20, 10]"},
			[]string{"template/adamw_baseline/task.dataset_split_lengths=[70, 20, 10]"}},
		{"new section", "task: mnist\n", []string{"optimizer.name=lion"},
			[]string{"mnist/lion/default"}},
		{"dedup per axis", "task: mnist\noptimizer: {name: adamw_baseline, learning_rate: [0.1, 0.1, 1.e-1, 0.2]}\n", nil,
			[]string{"mnist/adamw_baseline/optimizer.learning_rate=0.1", "mnist/adamw_baseline/optimizer.learning_rate=0.2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := parseText(t, tc.text, tc.overrides...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range exp.Runs {
				got = append(got, relDir(t, r))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("folders\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestLiteralLists: without !literal a nested list is flattened and deduplicated (FOB's only
// behaviour); with it the list is one value.
func TestLiteralLists(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"[[80, 10, 10]]", []string{"80", "10"}},
		{"!literal [80, 10, 10]", []string{"[80, 10, 10]"}},
		{"[!literal [80, 10, 10], !literal [70, 20, 10], !literal [80, 10, 10]]", []string{"[80, 10, 10]", "[70, 20, 10]"}},
	} {
		exp, err := parseText(t, "task:\n  name: template\n  dataset_split_lengths: "+tc.value+"\n")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range exp.Runs {
			got = append(got, config.PyStr(config.Sub(r.Config, "task")["dataset_split_lengths"]))
		}
		if strings.Join(got, ";") != strings.Join(tc.want, ";") {
			t.Errorf("%s gives %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		overrides  []string
		want       []string // substrings of the error
	}{
		{"wrong type", "task: mnist\nengine:\n  seed: abc\n", nil,
			[]string{"exp.yaml:3:", "engine.seed: want integer, got 'abc'"}},
		{"wrong type in grid", "task: mnist\nengine:\n  train: [true, 'no']\n", nil,
			[]string{"exp.yaml:3:", "engine.train: want true or false, got 'no'"}},
		{"wrong type on command line", "task: mnist\n", []string{"engine.workers=many"},
			[]string{`command-line argument "engine.workers=many"`, "engine.workers: want integer, got 'many'"}},
		{"unknown engine key", "task: mnist\nengine:\n  seeds: [1, 2]\n", nil,
			[]string{"exp.yaml:3:", "engine.seeds: unknown engine key; valid keys: accelerator, backend,", "seed,"}},
		{"empty grid", "task: mnist\noptimizer:\n  name: adamw_baseline\n  learning_rate: []\n", nil,
			[]string{"exp.yaml:4:", "optimizer.learning_rate is an empty list", "expands to no run"}},
		{"empty named dict", "task: mnist\noptimizer: {}\n", nil, []string{"expands to no run"}},
		{"single out of range", "task: [mnist, tabular]\nengine:\n  run_scheduler: single:3\n", nil,
			[]string{"single:3 is out of range: the experiment has 2 run(s)"}},
		{"bad scheduler", "task: mnist\nengine:\n  run_scheduler: parallel\n", nil,
			[]string{"engine.run_scheduler: want sequential, single:N"}},
		{"scheduler grid", "task: mnist\nengine:\n  run_scheduler: [sequential, slurm_array]\n", nil,
			[]string{"engine.run_scheduler differs between runs"}},
		{"unknown task", "task: mnsit\n", nil, []string{"exp.yaml:1:", `unknown task "mnsit"; valid tasks: classification,`, "mnist"}},
		{"unknown optimizer", "task: mnist\noptimizer: [adamw, sgd_baseline]\n", nil,
			[]string{"exp.yaml:2:", `unknown optimizer "adamw"; valid optimizers: adafactor`}},
		{"no task", "optimizer: adamw_baseline\n", nil, []string{"no task: add `task: <name>`"}},
		{"no optimizer", "task: detection\n", nil, []string{"no optimizer: task detection has no default optimizer"}},
		{"unknown section", "task: mnist\noptimiser: sgd_baseline\n", nil, []string{"exp.yaml:2:", "optimiser: unknown section"}},
		{"malformed yaml", "task:\n  name: mnist\n   max_epochs: 3\n", nil, []string{"exp.yaml:3:", "malformed YAML"}},
		{"duplicate key", "task: mnist\ntask: tabular\n", nil, []string{"exp.yaml:2:", `key "task" is defined twice (first on line 1)`}},
		{"override without =", "task: mnist\n", []string{"engine.seed"}, []string{"want key=value"}},
		{"override index on list", "task: mnist\noptimizer: [adamw_baseline]\n", []string{"optimizer.learning_rate=0.1"},
			[]string{"optimizer is a list; index it, e.g. optimizer[0].learning_rate"}},
		{"override index out of range", "task: mnist\noptimizer: [adamw_baseline]\n", []string{"optimizer[2].learning_rate=0.1"},
			[]string{"index 2 is out of range: optimizer has 1 entries"}},
		{"devices below 1", "task: mnist\nengine: {devices: 0}\n", nil, []string{"engine.devices: want integer ≥ 1, got 0"}},
		{"target mode", "task: {name: mnist, target_metric_mode: maximum}\n", nil, []string{"task.target_metric_mode: want min or max, got 'maximum'"}},
		{"literal on scalar", "task: {name: template, dataset_split_lengths: !literal 80}\n", nil, []string{"exp.yaml:1:", "!literal needs a list"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseText(t, tc.text, tc.overrides...)
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// TestRunFilesRoundTrip: experiment.yaml parses back to the same runs in the same order (what
// single:N on a SLURM node relies on), and config.yaml back to the same config.
func TestRunFilesRoundTrip(t *testing.T) {
	for _, file := range []string{"plotting3_mnist_tabular.yaml", "../../examples/usage/5_slurm.yaml", "literal.yaml", "unsorted_entry.yaml"} {
		exp := parseFile(t, file)
		run := exp.Runs[len(exp.Runs)-1]
		run.Dir = filepath.Join(t.TempDir(), "run")
		if err := experiment.WriteRunFiles(run, exp); err != nil {
			t.Fatal(err)
		}
		again, err := experiment.Parse(filepath.Join(run.Dir, experiment.ExperimentFile),
			[]string{"engine.run_scheduler=single:2", "engine.plot=false"}, testCatalog(t))
		if err != nil {
			t.Fatalf("%s: re-parse: %v", file, err)
		}
		if len(again.Runs) != len(exp.Runs) {
			t.Fatalf("%s: %d runs after round trip, want %d", file, len(again.Runs), len(exp.Runs))
		}
		for i := range exp.Runs {
			if again.Runs[i].Dir != exp.Runs[i].Dir {
				t.Fatalf("%s: run %d moved from %s to %s", file, i+1, exp.Runs[i].Dir, again.Runs[i].Dir)
			}
		}
		back, err := config.LoadMap(filepath.Join(run.Dir, experiment.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		if !config.Equal(back, run.Config) || !sameTypes(back, run.Config) {
			t.Errorf("%s: config.yaml does not read back to the run config", file)
		}
		entries, _ := os.ReadDir(run.Dir)
		if len(entries) != 2 {
			t.Errorf("%s: run folder holds %d entries, want config.yaml and experiment.yaml only", file, len(entries))
		}
	}
}

// sameTypes checks that ints stayed ints and floats floats.
func sameTypes(a, b any) bool {
	switch x := a.(type) {
	case config.Map:
		y, ok := b.(config.Map)
		if !ok {
			return false
		}
		for k := range x {
			if !sameTypes(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameTypes(x[i], y[i]) {
				return false
			}
		}
		return true
	case int:
		_, ok := b.(int)
		return ok
	case float64:
		_, ok := b.(float64)
		return ok
	}
	return true
}

// TestConfigPrecedence checks the merge order of docs/fob-behaviour.md §1.1 on one run: engine and lr-scheduler
// defaults < optimizer default < task default < the experiment file < command-line overrides.
func TestConfigPrecedence(t *testing.T) {
	exp, err := experiment.ParseBytes([]byte(`
task: {name: mnist}
optimizer: {name: adamw_baseline, weight_decay: 0.05, learning_rate: 0.03}
engine: {seed: 3}
`), "precedence.yaml", []string{"optimizer.learning_rate=0.02", "engine.logging_interval=7"}, testCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := exp.Runs[0].Config
	for _, c := range []struct {
		key  string
		want any
		from string
	}{
		{"optimizer.beta1", 0.9, "optimizer default"},
		{"optimizer.lr_scheduler.eta_min_factor", 0.01, "lr_scheduler default"},
		{"engine.check_finite", true, "engine default"},
		{"engine.sbatch_args.time", "00:05:00", "task default over engine default (00:30:00)"},
		{"engine.sbatch_args.nodes", 1, "engine default kept beside the task's time"},
		{"task.batch_size", 512, "task default"},
		{"optimizer.weight_decay", 0.05, "experiment file over task default (0.1)"},
		{"optimizer.learning_rate", 0.02, "command line over experiment file (0.03) and task default (0.01)"},
		{"engine.seed", 3, "experiment file over engine default (42)"},
		{"engine.logging_interval", 7, "command line over engine default (50)"},
	} {
		got, ok := config.Get(cfg, c.key)
		if !ok || !config.Equal(got, c.want) {
			t.Errorf("%s = %v, want %v (%s)", c.key, got, c.want, c.from)
		}
	}
	// Without user values, the task default beats the optimizer default (1e-3).
	exp, err = experiment.ParseBytes([]byte("task: mnist\noptimizer: adamw_baseline\n"), "bare.yaml", nil, testCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if lr, _ := config.Get(exp.Runs[0].Config, "optimizer.learning_rate"); !config.Equal(lr, 0.01) {
		t.Errorf("learning_rate = %v, want the task's 0.01", lr)
	}
}
