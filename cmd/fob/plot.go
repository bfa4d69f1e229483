package main

import (
	"context"
	"fmt"

	"github.com/fob-go/fob/eval/plot"
	"github.com/fob-go/fob/train/experiment"
)

// cmdPlot draws the heatmaps of an experiment's finished runs (the original's
// evaluate_experiment: plotting is forced on unless engine.plot is given).
func cmdPlot(ctx context.Context, args []string) error {
	exp, err := parseExperiment(ctx, "plot", args)
	if err != nil {
		return err
	}
	files, err := plot.Experiment(exp, plot.Options{Force: !hasOverride(args, "engine.plot")})
	for _, f := range files {
		fmt.Println(f)
	}
	return err
}

// plotIfAsked plots after an in-process run when engine.plot is true.
func plotIfAsked(exp *experiment.Experiment) error {
	files, err := plot.Experiment(exp, plot.Options{})
	for _, f := range files {
		fmt.Println("plot:", f)
	}
	return err
}

func hasOverride(args []string, key string) bool {
	overrides, _ := splitOverrides(args)
	for _, o := range overrides {
		if len(o) > len(key) && o[:len(key)] == key {
			return true
		}
	}
	return false
}
