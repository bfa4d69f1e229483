#!/usr/bin/env bash
# The image-pipeline learning demonstration (tasks/classification_small/README.md): MNIST digits
# served as 3×32×32 images through classification_small's CIFAR-100 pipeline (task.dataset
# mnist: RandomCrop reflect, flip, TrivialAugmentWide, normalisation) train the task's
# ResNet-18 from random initialisation on the pure-Go backend; fails unless accuracy on the
# first test images exceeds 0.5 (chance 0.1).
#
# Environment: STEPS (default 150), BATCH (32), LR (1e-3), EVAL (test images, 320).
set -euo pipefail
cd "$(dirname "$0")/.."
FOB_CLS_LEARN=1 FOB_CLS_STEPS=${STEPS:-150} FOB_CLS_BATCH=${BATCH:-32} FOB_CLS_LR=${LR:-1e-3} FOB_CLS_EVAL=${EVAL:-320} \
	go test -count=1 -run '^TestMNISTLearn$' -v -timeout 120m ./tasks/classification_small/
