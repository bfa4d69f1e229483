#!/usr/bin/env bash
# Times one training step of SegFormer-B0 (segmentation's model) in fob (Go benchmark, default
# GoMLX backend) and in PyTorch (Debian's python3-torch on the CPU), in one run, at the same
# batch and resolution, and prints ms/step side by side with the ratio fob/PyTorch.
#
#   scripts/bench-segmentation.sh            # batch 4, 128×128
#   BATCH=2 SIZE=256 STEPS=3 scripts/bench-segmentation.sh
#
# Environment: BATCH (default 4), SIZE (default 128), STEPS (timed steps, default 5), THREADS
# (PyTorch intra-op threads, default 2), PYTHON (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
BATCH=${BATCH:-4}
SIZE=${SIZE:-128}
STEPS=${STEPS:-5}
THREADS=${THREADS:-2}
PY=${PYTHON:-/usr/bin/python3}
require_torch
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# fob: FOB_SEG_BATCH=$BATCH FOB_SEG_SIZE=$SIZE go test -run '^\$' -bench SegFormerTrainStep -benchtime ${STEPS}x ./tasks/segmentation/" >&2
FOB_SEG_BATCH=$BATCH FOB_SEG_SIZE=$SIZE go test -run '^$' -bench '^BenchmarkSegFormerTrainStep$' -benchtime "${STEPS}x" \
	-timeout 60m ./tasks/segmentation/ | tee -a "$log" >&2
echo "# PyTorch: $PY scripts/bench_segmentation_torch.py --batch $BATCH --size $SIZE --steps $STEPS --threads $THREADS" >&2
OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS "$PY" -W ignore scripts/bench_segmentation_torch.py \
	--batch "$BATCH" --size "$SIZE" --steps "$STEPS" --threads "$THREADS" | tee -a "$log" >&2
# The benchmark's result may follow a log line on the next line: take any line with ms/step.
go_ms=$(awk '/ms\/step/ { for (i = 1; i < NF; i++) if ($(i+1) == "ms/step") print $i }' "$log" | tail -1)
py_ms=$(awk '$1 == "segformer_b0" { print $2 }' "$log")
if [ -z "$go_ms" ] || [ -z "$py_ms" ]; then
	echo "bench-segmentation.sh: no timing in the output above" >&2
	exit 1
fi
printf '%-28s %12s %12s %8s\n' "model (batch $BATCH, ${SIZE}px)" "fob ms/step" "torch ms/step" "ratio"
awk -v g="$go_ms" -v p="$py_ms" 'BEGIN { printf "%-28s %12.1f %12.1f %8.1f\n", "SegFormer-B0 train step", g, p, g / p }'
