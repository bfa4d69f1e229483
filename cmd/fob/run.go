package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
)

// parseExperiment reads EXPERIMENT.yaml [key=value ...] from a command's arguments; it stops
// when ctx is done (SIGINT, SIGTERM), however large the grid.
func parseExperiment(ctx context.Context, name string, args []string, extraOverrides ...string) (*experiment.Experiment, error) {
	fs := newFlags(name, "EXPERIMENT.yaml [key=value ...]")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	overrides, files := splitOverrides(fs.Args())
	if len(files) != 1 {
		fs.Usage()
		return nil, errors.New("give exactly one experiment file")
	}
	return experiment.ParseContext(ctx, files[0], append(overrides, extraOverrides...), experiment.RegistryCatalog())
}

func cmdRun(ctx context.Context, args []string) error {
	exp, err := parseExperiment(ctx, "run", args)
	if err != nil {
		return err
	}
	switch exp.Scheduler.Kind {
	case "slurm_array", "slurm_jobs":
		return submitSlurm(ctx, exp)
	}
	outcomes, err := train.Execute(ctx, exp, train.Options{})
	if err != nil {
		return err
	}
	if err := report(outcomes); err != nil {
		return err
	}
	return plotIfAsked(exp)
}

func cmdSetup(ctx context.Context, args []string) error {
	exp, err := parseExperiment(ctx, "setup", args)
	if err != nil {
		return err
	}
	done, err := train.Setup(ctx, exp)
	for _, name := range done {
		fmt.Printf("%s: data ready\n", name)
	}
	return err
}

// submitSlurm submits the experiment's runs to SLURM (an array job, or one job per run) and the
// plot job that waits for them; the jobs run this same executable with single:N.
func submitSlurm(_ context.Context, exp *experiment.Experiment) error {
	sub, err := (&experiment.Slurm{Log: os.Stderr}).Submit(exp)
	if err != nil {
		return err
	}
	fmt.Printf("submitted %s: job(s) %v", exp.Scheduler, sub.Jobs)
	if sub.PlotJob != 0 {
		fmt.Printf(", plot job %d", sub.PlotJob)
	}
	fmt.Println()
	return nil
}
