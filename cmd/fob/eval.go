package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/fob-go/fob/eval"
	"github.com/fob-go/fob/tasks"
	"github.com/spf13/pflag"
)

var errHelp = errors.New("help shown")

func newFlags(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: fob %s %s\n\nflags (one dash or two):\n%s", name, synopsis, fs.FlagUsages())
	}
	return fs
}

func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelp
		}
		return err
	}
	return nil
}

func cmdEval(ctx context.Context, args []string) error {
	fs := newFlags("eval", "-checkpoint FILE.onnx [flags]")
	ckpt := fs.String("checkpoint", "", "exported ONNX model to score (e.g. RUN/checkpoints/best.onnx)")
	taskName := fs.String("task", "", "task of the model (read from the file's metadata when omitted)")
	split := fs.String("split", "test", "split to score: test or val")
	asJSON := fs.Bool("json", false, "print the metrics as JSON")
	cuda := fs.Bool("cuda", false, "ask onnxruntime for its CUDA execution provider (falls back to CPU)")
	dataDir := fs.String("data-dir", "./data", "engine.data_dir: where datasets live")
	batch := fs.Int("batch-size", 0, "evaluation batch size (default: the task's batch_size)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ckpt == "" {
		if fs.NArg() == 1 {
			*ckpt = fs.Arg(0)
		} else {
			fs.Usage()
			return errors.New("-checkpoint is required")
		}
	}
	ck, err := eval.ReadCheckpoint(*ckpt, *taskName)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dataDir)
	env := tasks.DataEnv{DataDir: abs, Mirror: os.Getenv("FOB_DATA_MIRROR")}
	if len(ck.Config) == 0 {
		if ck.Config, err = taskDefaults(ck.Task); err != nil {
			return err
		}
	}
	if ck.Task, err = tasks.Configure(ck.Task, ck.Config); err != nil {
		return err
	}
	dm, err := ck.Task.NewData(env, ck.Config)
	if err != nil {
		return err
	}
	if err := dm.Prepare(ctx); err != nil {
		return err
	}
	if err := dm.Setup(ctx, ck.Seed); err != nil {
		return err
	}
	bs := *batch
	if bs == 0 {
		if v, ok := ck.Config["batch_size"].(int); ok {
			bs = v
		}
	}
	metrics, provider, err := eval.Outputs(ctx, eval.Request{Task: ck.Task, Data: dm, Split: *split, Path: *ckpt, BatchSize: bs, CUDA: *cuda}, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.MarshalIndent([]map[string]float64{metrics}, "", "    ")
		fmt.Println(string(b))
		return nil
	}
	fmt.Printf("%s on %s split of %s (onnxruntime, %s):\n", *ckpt, *split, ck.Task.Name(), provider)
	keys := make([]string, 0, len(metrics))
	for k := range metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %-16s %.6g\n", k, metrics[k])
	}
	return nil
}
