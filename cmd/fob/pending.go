package main

import (
	"context"
	"fmt"

	"github.com/fob-go/fob/train/experiment"
)

func submitSlurm(ctx context.Context, exp *experiment.Experiment) error {
	return fmt.Errorf("engine.run_scheduler=%s: not wired yet", exp.Scheduler)
}

func plotIfAsked(exp *experiment.Experiment) error { return nil }

func cmdPlot(ctx context.Context, args []string) error { return fmt.Errorf("plot: not wired yet") }
