package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// cmdModel writes a task's untrained model (its defaults, with key=value overrides such as
// task.model.d_model=128 and engine.seed=2) as an ONNX file, and prints its size.
func cmdModel(_ context.Context, args []string) error {
	fs := newFlags("model", "-task NAME -o FILE.onnx [key=value ...]")
	taskName := fs.String("task", "", "task whose model to write (fob tasks lists them)")
	out := fs.StringP("out", "o", "", "ONNX file to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	overrides, extra := splitOverrides(fs.Args())
	if len(extra) > 0 {
		return fmt.Errorf("unexpected arguments %q: give config values as key=value", extra)
	}
	if *taskName == "" || *out == "" {
		fs.Usage()
		return errors.New("-task and -o are required")
	}
	t, err := tasks.Get(*taskName)
	if err != nil {
		return err
	}
	if nb, ok := t.(tasks.NotBuilt); ok {
		return errors.New(nb.NotBuilt())
	}
	exp, err := experiment.ParseBytes([]byte("{}"), "command line",
		append([]string{"task.name=" + t.Name()}, overrides...), experiment.RegistryCatalog())
	if err != nil {
		return err
	}
	if len(exp.Runs) != 1 {
		return fmt.Errorf("the overrides describe %d models; give one value per key", len(exp.Runs))
	}
	cfg := exp.Runs[0].Config
	seed, err := config.Int(cfg, "engine.seed")
	if err != nil {
		return err
	}
	m, err := t.BuildModel(config.Sub(cfg, "task"), int64(seed))
	if err != nil {
		return fmt.Errorf("tasks/%s: %w", t.Name(), err)
	}
	onnx.SetMetadata(m, "fob.task", t.Name())
	onnx.SetMetadata(m, "fob.seed", fmt.Sprint(seed))
	if err := onnx.Save(*out, m); err != nil {
		return err
	}
	fmt.Printf("%s: %s model, %d parameters (%s)\n", *out, t.Name(), ParameterCount(m), t.Signature())
	return nil
}

// ParameterCount is onnx.ParameterCount: the trainable weights of a fob model.
func ParameterCount(m *onnxpb.ModelProto) int64 { return onnx.ParameterCount(m) }
