// Command fob is the Fast Optimizer Benchmark: train one run, evaluate a checkpoint, run or
// set up a whole experiment grid, plot its heatmaps, and check the installation.
//
//	fob train -task mnist -opt adamw [key=value ...]
//	fob eval -checkpoint run/checkpoints/best.onnx [-json]
//	fob run experiment.yaml [key=value ...]
//	fob setup experiment.yaml
//	fob plot experiment.yaml
//	fob model -task translation -o t5.onnx
//	fob doctor
//
// Flags take one dash or two (-task and --task); key=value arguments override any config value
// (engine.seed=1, optimizer.learning_rate=0.01, task.model.onnx=my.onnx).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	_ "github.com/fob-go/fob/tasks/all"
	_ "github.com/fob-go/fob/train/optim/all"
)

const usage = `fob: the Fast Optimizer Benchmark

usage:
  fob train    -task NAME -opt NAME [-model FILE.onnx] [-config FILE.yaml] [key=value ...]
  fob eval     -checkpoint FILE.onnx [-task NAME] [-split test|val] [-json]
  fob run      EXPERIMENT.yaml [key=value ...]
  fob setup    EXPERIMENT.yaml [key=value ...]
  fob plot     EXPERIMENT.yaml [key=value ...]
  fob model    -task NAME -o FILE.onnx [key=value ...]
  fob doctor   [-backend SPEC]
  fob tasks | fob optimizers

Run "fob COMMAND -help" for a command's flags.
`

type command func(ctx context.Context, args []string) error

var commands = map[string]command{
	"train":      cmdTrain,
	"eval":       cmdEval,
	"run":        cmdRun,
	"setup":      cmdSetup,
	"plot":       cmdPlot,
	"doctor":     cmdDoctor,
	"model":      cmdModel,
	"tasks":      cmdTasks,
	"optimizers": cmdOptimizers,
}

func main() {
	os.Exit(realMain(os.Args[1:]))
}

func realMain(args []string) (code int) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "fob: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "fob %s: internal error: %v\n", args[0], r)
			if os.Getenv("FOB_DEBUG") != "" {
				debug.PrintStack()
			} else {
				fmt.Fprintln(os.Stderr, "(set FOB_DEBUG=1 for a stack trace, and please report it)")
			}
			code = 3
		}
	}()
	if err := cmd(ctx, normalizeFlags(args[1:])); err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "fob %s: %v\n", args[0], err)
		if ctx.Err() != nil {
			return 130
		}
		return 1
	}
	return 0
}

func logLevel() slog.Level {
	switch strings.ToLower(os.Getenv("FOB_LOG")) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error", "silent":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// normalizeFlags lets -flag mean --flag (Go's flag package style) while pflag parses: a
// single-dash argument with a multi-letter name gets a second dash. key=value overrides and
// negative numbers pass through untouched.
func normalizeFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && !(a[1] >= '0' && a[1] <= '9') && !strings.Contains(a[:min(len(a), strings.IndexByte(a+"=", '='))], ".") {
			name := a[1:]
			if j := strings.IndexByte(name, '='); j >= 0 {
				name = name[:j]
			}
			if len(name) > 1 {
				a = "-" + a
			}
		}
		out[i] = a
	}
	return out
}
