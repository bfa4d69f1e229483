// Package runtime chooses the GoMLX backend fob trains on and installs the GoMLX fixes training
// needs (see InstallFixes).
//
// Backend specs:
//
//	go                    pure-Go backend (default), with fob's extra ops and a scheduler
//	                      configuration that cannot deadlock (see GoDefaultConfig)
//	go:<options>          the same with simplego options, e.g. go:parallelism=2
//	xla:cpu               XLA through a PJRT CPU plugin found on this machine
//	xla:cuda              XLA on an NVIDIA GPU through a CUDA PJRT plugin (see runtime/xla)
//	xla:/abs/plugin.so    XLA through the given PJRT plugin file
//
// Plugins are never downloaded.
package runtime

import (
	"fmt"
	"os"
	"strings"

	fobxla "github.com/fob-go/fob/runtime/xla"
	"github.com/gomlx/gomlx/backends"
)

// EnvBackend is the environment variable read when the spec is empty (GoMLX's own name for it).
const EnvBackend = "GOMLX_BACKEND"

// DefaultSpec is the backend used when neither the spec nor GOMLX_BACKEND names one.
const DefaultSpec = "go"

// GoDefaultConfig is the simplego configuration behind spec "go" when the spec sets no scheduling
// option of its own. simplego's default scheduler runs graph nodes on a worker pool that the
// nodes' own kernels also wait on: when as many matrix products as pool slots (2 x cores) are
// ready at once, each holds a slot and waits for another, and the process hangs at 0% CPU (see
// TestGoBackendNoDeadlock, TestStockSchedulerDeadlocks). ops_sequential runs nodes one at a time
// from the caller's goroutine while each kernel still splits its work over the pool, so it cannot
// hang. BenchmarkGoConfigs: within 2-8% of the fastest option measured
// (ops_parallel,parallelism=-1), which also cannot hang but spawns unbounded goroutines and
// prints to stdout on every backend creation; "go:ops_parallel,parallelism=-1" selects it.
const GoDefaultConfig = "ops_sequential"

// ValidSpecs lists the backend specs NewBackend accepts.
func ValidSpecs() []string {
	return []string{"go", "go:<simplego options>", "xla:cpu", "xla:cuda", "xla:/abs/path/to/pjrt_plugin.so"}
}

// NewBackend returns the backend for spec (see the package comment); an empty spec means
// $GOMLX_BACKEND, else "go". It installs the GoMLX fixes first and never panics.
func NewBackend(spec string) (b backends.Backend, err error) {
	defer recoverTo(&err, fmt.Sprintf("creating backend %q", spec))
	InstallFixes()
	resolved := spec
	if resolved == "" {
		resolved = os.Getenv(EnvBackend)
	}
	if resolved == "" {
		resolved = DefaultSpec
	}
	name, config, _ := strings.Cut(resolved, ":")
	switch name {
	case "go", GoBackendName:
		return newGoBackend(goConfig(config))
	case "xla":
		if config == "" {
			return nil, fmt.Errorf("backend %q: name the XLA plugin: xla:cpu, xla:cuda or xla:/abs/path/to/pjrt_plugin.so", resolved)
		}
		if _, _, _, err := fobxla.ParseSpec(config); err != nil {
			return nil, err
		}
		return newXLABackend(config)
	}
	from := ""
	if spec == "" {
		from = " (from $" + EnvBackend + ")"
	}
	return nil, fmt.Errorf("unknown backend %q%s: valid specs are %s", resolved, from, strings.Join(ValidSpecs(), ", "))
}

// goConfig adds GoDefaultConfig unless the options already choose how ops are scheduled
// (ops_sequential or ops_parallel).
func goConfig(config string) string {
	for _, opt := range strings.Split(config, ",") {
		key, _, _ := strings.Cut(opt, "=")
		if key == "ops_sequential" || key == "ops_parallel" {
			return config
		}
	}
	if config == "" {
		return GoDefaultConfig
	}
	return GoDefaultConfig + "," + config
}

// recoverTo turns a panic (GoMLX reports many errors by panicking) into an error.
func recoverTo(err *error, what string) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("%s: %w", what, e)
			return
		}
		*err = fmt.Errorf("%s: %v", what, r)
	}
}
