#!/usr/bin/env bash
# The segmentation learning demonstration (tasks/segmentation/README.md): SegFormer-B0 from
# random initialisation trained through fob's run loop on MNIST scenes written in the
# ADEChallengeData2016 layout (real MNIST digits on coloured noise, 64×64 after the processor),
# then scored in onnxruntime. Prints metrics.csv and the test metrics; fails unless test mIoU
# exceeds 20.
#
# Environment: EPOCHS (default 6), TRAIN (training scenes, default 512), LR (default 1e-3),
# DIR (keep the run and data there instead of a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
FOB_SEG_LEARN=1 FOB_SEG_EPOCHS=${EPOCHS:-6} FOB_SEG_TRAIN=${TRAIN:-512} FOB_SEG_LR=${LR:-1e-3} FOB_SEG_DIR=${DIR:-} \
	go test -count=1 -run '^TestMNISTScenesLearn$' -v -timeout 120m ./tasks/segmentation/
