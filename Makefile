# fob: the Fast Optimizer Benchmark in Go. `make run` trains and evaluates the default task;
# `make test` runs the test suite. Everything installs into the project (.local/, bin/).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
MIRROR ?= $(abspath ../shared/datasets)
export FOB_DATA_MIRROR ?= $(if $(wildcard $(MIRROR)),$(MIRROR),)
export GOMLX_NO_AUTO_INSTALL := 1

.PHONY: all build onnxruntime deps run test fuzz bench baselines clean generate

all: build

bin/fob: $(shell find . -name '*.go' -not -path './.local/*') $(shell find . -name '*.yaml' -path './tasks/*' -o -name '*.yaml' -path './train/*') go.mod go.sum
	$(GO) build -o bin/fob ./cmd/fob

build: bin/fob

onnxruntime:
	@bash scripts/install-onnxruntime.sh

deps: onnxruntime
	@bash scripts/install-deps.sh

# Trains mnist with AdamW (FOB's defaults: 30 epochs) and scores the test split in onnxruntime.
run: deps build
	./bin/fob train -task mnist -opt adamw_baseline engine.output_dir=experiments

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

# Go fuzz targets, one PACKAGE:FUNCTION a line; add yours here. Each runs for FUZZTIME; a
# failing input is saved under PACKAGE/testdata/fuzz/ and replays in `make test` once committed.
FUZZ_TARGETS := \
	./train/config:FuzzDecode \
	./train/experiment:FuzzParse \
	./train/experiment:FuzzOverride \
	./onnx:FuzzImport
FUZZTIME ?= 20s
# New inputs are minimised for at most 100 runs each, so that a short run mostly fuzzes.
FUZZFLAGS ?= -fuzzminimizetime 100x

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t##*:} ($${t%%:*}, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) "$${t%%:*}"; \
	done

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 20x ./train/

baselines: deps build
	bash scripts/baselines.sh

generate:
	$(GO) generate ./...

clean:
	rm -rf bin
