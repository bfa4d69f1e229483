package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/ort"
)

// cmdDoctor reports what fob finds on this machine: the GoMLX backend a run would use (and,
// for XLA, the plugin, its version, the NVIDIA libraries and the environment it sets) and the
// onnxruntime library that scores test splits.
func cmdDoctor(_ context.Context, args []string) error {
	fs := newFlags("doctor", "[-backend SPEC]")
	spec := fs.String("backend", "", "backend to check: go, xla:cpu, xla:cuda or xla:/path/plugin.so (default: $GOMLX_BACKEND or go)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *spec == "" {
		*spec = os.Getenv(runtime.EnvBackend)
	}
	if *spec == "" {
		*spec = runtime.DefaultSpec
	}
	var failed []string
	fmt.Printf("GoMLX backend %q:\n", *spec)
	if strings.HasPrefix(*spec, "xla") {
		rep, err := runtime.ProbeXLA(*spec)
		if err != nil {
			fmt.Println(indent("error: " + err.Error()))
			failed = append(failed, "backend")
		} else {
			fmt.Println(indent(rep.String()))
		}
	} else {
		b, err := runtime.NewBackend(*spec)
		if err != nil {
			fmt.Printf("  error: %v\n", err)
			failed = append(failed, "backend")
		} else {
			fmt.Printf("  ok: %s (%s)\n", b.Name(), b.Description())
			b.Finalize()
		}
	}
	fmt.Println("onnxruntime (test-split evaluation):")
	if err := ort.Init(); err != nil {
		fmt.Printf("  error: %v\n", err)
		failed = append(failed, "onnxruntime")
	} else {
		fmt.Printf("  ok: %s\n", ort.LibraryPath())
	}
	if len(failed) > 0 {
		return fmt.Errorf("problems with: %s", strings.Join(failed, ", "))
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
