#!/usr/bin/env bash
# Times one training step of the mnist MLP (batch 512), the tabular FT-Transformer (batch 256),
# the graph_tiny GCN (the whole Cora graph), translation's T5-small (batch 8, source and target
# length 64) and FOB's CIFAR ResNet-18 (batch 128, 32x32, 100 classes) in fob (Go benchmarks, default GoMLX backend) and in PyTorch (Debian's
# python3-torch on the CPU with OpenBLAS), in one run, and prints ms/step side by side with the
# ratio fob/PyTorch.
#
#   FOB_DATA_MIRROR=/path/to/mirror scripts/bench-tasks.sh
#
# Environment: STEPS (timed steps per model, default 20), T5_STEPS (timed steps of T5-small, whose
# steps take seconds, default 5), RESNET_STEPS (timed steps of ResNet-18, default 3), THREADS (PyTorch intra-op and BLAS
# threads, default 2), PYTHON (default /usr/bin/python3: Debian's, which has python3-torch).
# Install libopenblas0-pthread first: on the reference BLAS PyTorch is several times slower.
set -euo pipefail
# The Go benchmarks run in their package folders: a relative mirror path is the caller's.
if [ -n "${FOB_DATA_MIRROR:-}" ]; then FOB_DATA_MIRROR=$(cd "$FOB_DATA_MIRROR" && pwd); fi
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

: "${FOB_DATA_MIRROR:?set FOB_DATA_MIRROR to the folder holding california_housing/ and cora/}"
export FOB_DATA_MIRROR
STEPS=${STEPS:-20}
T5_STEPS=${T5_STEPS:-5}
RESNET_STEPS=${RESNET_STEPS:-3}
THREADS=${THREADS:-2}
PY=${PYTHON:-/usr/bin/python3}

require_torch
blas=$(ldconfig -p | awk '$1 == "libblas.so.3" && !found { print $NF; found = 1 }') # no early exit: ldconfig would die of SIGPIPE under pipefail
if [ -z "$blas" ] || ! readlink -f "$blas" | grep -q openblas; then
	echo "bench-tasks.sh: warning: libopenblas0-pthread is not installed; PyTorch will use the reference BLAS" >&2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "# fob: go test -bench 'MNISTTrainStep|TabularTrainStep|GraphTinyTrainStep' -benchtime ${STEPS}x" >&2
go test -run '^$' -bench '^(BenchmarkMNISTTrainStep|BenchmarkTabularTrainStep|BenchmarkGraphTinyTrainStep)$' -benchtime "${STEPS}x" \
	./train/ ./tasks/tabular/ ./tasks/graph_tiny/ | tee -a "$log" >&2
echo "# fob: go test -bench T5SmallTrainStep -benchtime ${T5_STEPS}x" >&2
go test -run '^$' -bench '^BenchmarkT5SmallTrainStep$' -benchtime "${T5_STEPS}x" ./models/ | tee -a "$log" >&2
echo "# fob: go test -bench ResNet18TrainStep -benchtime ${RESNET_STEPS}x" >&2
go test -run '^$' -bench '^BenchmarkResNet18TrainStep$' -benchtime "${RESNET_STEPS}x" -timeout 60m ./tasks/classification_small/ | tee -a "$log" >&2
echo "# PyTorch: $PY scripts/bench_tasks_torch.py --threads $THREADS --steps $STEPS --t5-steps $T5_STEPS --resnet-steps $RESNET_STEPS" >&2
OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS "$PY" -W ignore scripts/bench_tasks_torch.py \
	--threads "$THREADS" --steps "$STEPS" --t5-steps "$T5_STEPS" --resnet-steps "$RESNET_STEPS" | tee -a "$log" >&2

# Go benchmark lines end in "<x> ms/step"; PyTorch lines are "<model> <ms>".
go_ms() { bench_metric "$log" "$1" ms/step; }
py_ms() { awk -v m="$1" '$1 == m { print $2 }' "$log"; }
mnist_go=$(go_ms BenchmarkMNISTTrainStep)
tab_go=$(go_ms BenchmarkTabularTrainStep)
gcn_go=$(go_ms BenchmarkGraphTinyTrainStep/sparse)
gcn_dense_go=$(go_ms BenchmarkGraphTinyTrainStep/dense)
t5_go=$(go_ms BenchmarkT5SmallTrainStep)
resnet_go=$(go_ms BenchmarkResNet18TrainStep)
mnist_py=$(py_ms mnist)
tab_py=$(py_ms tabular)
gcn_py=$(py_ms graph_tiny)
t5_py=$(py_ms t5)
resnet_py=$(py_ms resnet18)
for v in mnist_go tab_go gcn_go gcn_dense_go t5_go resnet_go mnist_py tab_py gcn_py t5_py resnet_py; do
	if [ -z "${!v}" ]; then
		echo "bench-tasks.sh: no timing for $v in the output above" >&2
		exit 1
	fi
done

echo
printf '%-44s %12s %14s %10s\n' "model (one training step)" "fob ms/step" "PyTorch ms/step" "fob/PyTorch"
row() { printf '%-44s %12.1f %14.1f %10.1f\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { print a / b }')"; }
row "mnist MLP 784-128-10, batch 512" "$mnist_go" "$mnist_py"
row "tabular FT-Transformer, batch 256" "$tab_go" "$tab_py"
row "graph_tiny GCN, Cora, edge list (task)" "$gcn_go" "$gcn_py"
row "graph_tiny GCN, Cora, dense adjacency" "$gcn_dense_go" "$gcn_py"
row "translation T5-small, batch 8, length 64" "$t5_go" "$t5_py"
row "resnet18 CIFAR-100, batch 128, 32x32" "$resnet_go" "$resnet_py"
echo "(fob: $(go env GOOS)/$(go env GOARCH), backend ${GOMLX_BACKEND:-default}; PyTorch: $THREADS threads; $(nproc) cores)"
