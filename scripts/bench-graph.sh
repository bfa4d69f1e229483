#!/usr/bin/env bash
# Times training steps of the graph task's GIN (width 300, 5 layers, batch 128, AdamW) in fob
# (BenchmarkGraphTrainStep: batches padded to buckets, and exact batch sizes, with the number of
# compiles each needs) and the same GIN in PyTorch with index_add_ message passing
# (scripts/bench_gin_torch.py), on the same consecutive train batches of an OGB-layout set, and
# prints ms/step side by side with the ratio fob/PyTorch.
#
#   scripts/bench-graph.sh [DATA_DIR]
#
# DATA_DIR holds graph/hiv (ogbg-molhiv extracted, or the offline NCI set that
# tasks/graph/testdata/make_ogb_from_rdkit.py writes; without DATA_DIR the NCI set is converted
# into a temporary folder). Environment: STEPS (timed steps, default 30), THREADS (threads of
# both: PyTorch's intra-op and BLAS threads, GOMAXPROCS for fob; default 2), PYTHON (default
# /usr/bin/python3). On a loaded machine THREADS=1 gives the steadier numbers: threads that wait
# for a busy core spin and burn CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

STEPS=${STEPS:-30}
THREADS=${THREADS:-2}
PY=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=${1:-}
if [ -z "$data" ]; then
	data=$tmp/data
	"$PY" tasks/graph/testdata/make_ogb_from_rdkit.py "$data" >&2
fi
data=$(cd "$data" && pwd)
log=$tmp/log
echo "# fob: FOB_GRAPH_DATA=$data GOMAXPROCS=$THREADS go test -bench GraphTrainStep -benchtime ${STEPS}x ./tasks/graph/" >&2
FOB_GRAPH_DATA=$data GOMAXPROCS=$THREADS go test -run '^$' -bench '^BenchmarkGraphTrainStep$' -benchtime "${STEPS}x" -timeout 60m ./tasks/graph/ | tee -a "$log" >&2
echo "# PyTorch: $PY scripts/bench_gin_torch.py $data --steps $STEPS --threads $THREADS" >&2
OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS "$PY" -W ignore scripts/bench_gin_torch.py "$data" \
	--steps "$STEPS" --threads "$THREADS" | tee -a "$log" >&2

metric() { bench_metric "$log" "$1" "$2"; }
py=$(awk '$1 == "gin" { print $2 }' "$log")
pycpu=$(awk '$1 == "gin-cpu" { print $2 }' "$log")
echo "wall ms/step (fob without and with compiles), CPU ms/step with compiles; PyTorch wall $py, CPU $pycpu"
printf '%-12s %9s %14s %18s %14s %16s\n' model compiles "fob ms/step" "fob ms/step+comp" "fob CPU ms" "ratio wall/CPU"
for mode in buckets exact; do
	ms=$(metric "BenchmarkGraphTrainStep/$mode" ms/step)
	comp=$(metric "BenchmarkGraphTrainStep/$mode" compiles)
	all=$(metric "BenchmarkGraphTrainStep/$mode" ms/step-with-compiles)
	cpu=$(metric "BenchmarkGraphTrainStep/$mode" cpu-ms/step-with-compiles)
	printf '%-12s %9s %14s %18s %14s %9.1fx/%.1fx\n' "gin/$mode" "$comp" "${ms:-n/a}" "$all" "$cpu" \
		"$(echo "$all / $py" | bc -l)" "$(echo "$cpu / $pycpu" | bc -l)"
done
