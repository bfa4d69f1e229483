#!/usr/bin/env bash
# Images per second of the vision training augmentation (RandomCrop reflect, flip,
# TrivialAugmentWide bilinear, normalisation) per core: fob's Go pipeline
# (tasks/data/vision BenchmarkAugment32/64 and per-operation BenchmarkOp, one goroutine) next
# to torchvision's on uint8 tensors (tasks/data/vision/testdata/torchvision_bench.py, one
# thread), run one after the other ROUNDS times (default 2) so machine load hits both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/vision.test
go test -c -o "$bin" ./tasks/data/vision/
for _ in $(seq "${ROUNDS:-2}"); do
	(cd tasks/data/vision && "$bin" -test.run '^$' -test.bench "${BENCH:-Augment|Batch128|Op}" -test.benchtime 2s -test.cpu 1 | grep img/s)
	/usr/bin/python3 tasks/data/vision/testdata/torchvision_bench.py 2
done
