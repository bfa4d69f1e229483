package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
	"github.com/fob-go/fob/train/optim"
)

func cmdTrain(ctx context.Context, args []string) error {
	fs := newFlags("train", "-task NAME -opt NAME [flags] [key=value ...]")
	taskName := fs.String("task", "", "task to train (fob tasks lists them)")
	optName := fs.String("opt", "", "optimizer (fob optimizers lists them; adamw and sgd are short for adamw_baseline, sgd_baseline)")
	model := fs.String("model", "", "train this ONNX file instead of the task's model (same as task.model.onnx=FILE)")
	cfgFile := fs.String("config", "", "experiment YAML to start from (must describe one run)")
	out := fs.String("out", "", "engine.output_dir (default ./experiments)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	overrides, extra := splitOverrides(fs.Args())
	if len(extra) > 0 {
		return fmt.Errorf("unexpected arguments %q: give config values as key=value", extra)
	}
	base := []byte("{}")
	name := "command line"
	if *cfgFile != "" {
		b, err := experiment.ReadFile(*cfgFile)
		if err != nil {
			return err
		}
		base, name = b, *cfgFile
	}
	var pre []string
	if *taskName != "" {
		pre = append(pre, "task.name="+*taskName)
	}
	if *optName != "" {
		pre = append(pre, "optimizer.name="+resolveOptimizer(*optName))
	}
	if *model != "" {
		abs, err := filepath.Abs(*model)
		if err != nil {
			return err
		}
		pre = append(pre, "task.model.onnx="+abs)
	}
	if *out != "" {
		pre = append(pre, "engine.output_dir="+*out)
	}
	if *taskName == "" && *cfgFile == "" {
		fs.Usage()
		return errors.New("-task is required (or -config with a task)")
	}
	exp, err := experiment.ParseBytesContext(ctx, base, name, append(pre, overrides...), experiment.RegistryCatalog())
	if err != nil {
		return err
	}
	if len(exp.Runs) != 1 {
		return fmt.Errorf("this describes %d runs; fob train does one (use fob run for a grid)", len(exp.Runs))
	}
	exp.Scheduler = experiment.Scheduler{Kind: "sequential"}
	outcomes, err := train.Execute(ctx, exp, train.Options{})
	if err != nil {
		return err
	}
	return report(outcomes)
}

// report prints each run's test results, and each failure; it returns an error when any run
// failed.
func report(outcomes []train.Outcome) error {
	var failed []error
	for _, oc := range outcomes {
		if oc.Err != nil {
			failed = append(failed, fmt.Errorf("run %d (%s): %w", oc.Run.Index, oc.Run.Dir, oc.Err))
			continue
		}
		fmt.Printf("run %d: %s\n", oc.Run.Index, oc.Run.Dir)
		if oc.Skipped != "" {
			fmt.Printf("  skipped: %s\n", oc.Skipped)
		}
		for _, f := range []string{"results_best_model.json", "results_final_model.json"} {
			b, err := os.ReadFile(filepath.Join(oc.Run.Dir, f))
			if err != nil {
				continue
			}
			var res []map[string]float64
			if json.Unmarshal(b, &res) != nil || len(res) == 0 {
				continue
			}
			fmt.Printf("  %-26s%s\n", f+":", fmtResult(res[0]))
		}
		if oc.Scores != nil && oc.Scores.Steps > 0 {
			fmt.Printf("  %-26s %d steps, mean %.2f ms/step, median %.2f ms/step, %.1f s training\n", "timing:",
				oc.Scores.Steps, oc.Scores.MeanStepMS, oc.Scores.MedianStepMS, oc.Scores.TrainSeconds)
		}
	}
	switch {
	case len(failed) == 1 && len(outcomes) == 1:
		return failed[0]
	case len(failed) > 0:
		for _, err := range failed {
			fmt.Fprintln(os.Stderr, "failed:", err)
		}
		return fmt.Errorf("%d of %d runs failed", len(failed), len(outcomes))
	}
	return nil
}

func fmtResult(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%.4f", k, m[k])
	}
	return b.String()
}

// splitOverrides separates key=value arguments from anything else. A key is a dotted path
// with optional list indices; anything with a slash before the "=" is a file (run folders have
// "=" in their names).
func splitOverrides(args []string) (overrides, other []string) {
	for _, a := range args {
		if i := strings.IndexByte(a, '='); i > 0 && !strings.HasPrefix(a, "-") && !strings.ContainsRune(a[:i], '/') {
			overrides = append(overrides, a)
		} else {
			other = append(other, a)
		}
	}
	return overrides, other
}

// resolveOptimizer accepts the short names adamw and sgd (and any name whose _baseline form is
// registered).
func resolveOptimizer(name string) string {
	if _, err := optim.Get(name); err == nil {
		return name
	}
	if _, err := optim.Get(name + "_baseline"); err == nil {
		return name + "_baseline"
	}
	return name
}

// taskDefaults returns the task section of a task's default.yaml.
func taskDefaults(t tasks.Task) (config.Map, error) {
	m, err := config.ParseMap(t.DefaultYAML(), "tasks/"+t.Name()+"/default.yaml")
	if err != nil {
		return nil, err
	}
	return config.Sub(m, "task"), nil
}

// cmdTasks lists the registered tasks; for a ready one it shows the model signature that an
// external .onnx (task.model.onnx) must have.
func cmdTasks(context.Context, []string) error {
	for _, n := range tasks.Names() {
		t, _ := tasks.Get(n)
		status := "ready: " + t.Signature().String()
		if nb, ok := t.(tasks.NotBuilt); ok {
			status = "defaults only: " + nb.NotBuilt()
		}
		fmt.Printf("%-22s %s\n", n, status)
	}
	aliases := tasks.Aliases()
	for _, short := range slices.Sorted(maps.Keys(aliases)) {
		fmt.Printf("%-22s short for %s\n", short, aliases[short])
	}
	return nil
}

func cmdOptimizers(context.Context, []string) error {
	for _, n := range optim.Names() {
		fmt.Println(n)
	}
	return nil
}
