#!/usr/bin/env bash
# Baselines of the ready tasks with their default hyperparameters (FOB's: AdamW, cosine
# schedule; mnist 30 epochs at batch 512, lr 1e-2, wd 0.1; tabular 50 epochs at batch 256,
# lr 1e-3, wd 0.01; graph_tiny 50 epochs, lr 0.1, wd 1e-3): one run per seed, then the mean ± sample standard deviation of the
# best checkpoint's test metrics (results_best_model.json, scored in onnxruntime) and each
# run's wall time.
#
#   FOB_DATA_MIRROR=/path/to/mirror scripts/baselines.sh
#
# Environment: TASKS (default "mnist graph_tiny tabular"), SEEDS (default "1 2 3"), OUT (default
# $TMPDIR/fob-baselines-tabular-graph). Runs finished in OUT are not run again, and an
# interrupted run resumes from its last checkpoint (its wall time then covers the last part only),
# so the script can be restarted.
# On the 2-core development machine a tabular run takes about an hour, a graph_tiny run under
# a minute (see the tasks' README.md).
set -euo pipefail
# The Go benchmarks run in their package folders: a relative mirror path is the caller's.
if [ -n "${FOB_DATA_MIRROR:-}" ]; then FOB_DATA_MIRROR=$(cd "$FOB_DATA_MIRROR" && pwd); fi
cd "$(dirname "$0")/.."

TASKS=${TASKS:-mnist graph_tiny tabular}
SEEDS=${SEEDS:-1 2 3}
OUT=${OUT:-${TMPDIR:-/tmp}/fob-baselines}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# A binary of its own, so that rebuilding bin/fob meanwhile does not change later runs.
BIN="$OUT/fob"
go build -o "$BIN" ./cmd/fob
if [ -z "${ONNXRUNTIME_LIB:-}" ] && [ -f .local/onnxruntime/lib/libonnxruntime.so.1 ]; then
	export ONNXRUNTIME_LIB=$PWD/.local/onnxruntime/lib/libonnxruntime.so.1
fi

# metric FILE KEY: the value of "KEY": in a results JSON file.
metric() { sed -n "s/^ *\"$2\": *\([-0-9.eE+]*\),\{0,1\}$/\1/p" "$1"; }
# stats: mean ± sample std of the numbers on stdin.
stats() { awk '{ s += $1; ss += $1 * $1; n++ } END { m = s / n; v = n > 1 ? (ss - n * m * m) / (n - 1) : 0;
	if (v < 0) v = 0; printf "%.4f ± %.4f (n=%d)", m, sqrt(v), n }'; }

declare -A metrics=([tabular]="test_rmse test_r2_score test_loss" [graph_tiny]="test_acc test_loss" [mnist]="test_acc test_loss")
declare -A bar=([tabular]="test_rmse <= 0.42 (FOB: 0.397 ± 0.006)" [graph_tiny]="test_acc >= 0.80 (FOB: 0.819 ± 0.006)" [mnist]="test_acc >= 0.97 (FOB: 0.97)")

for task in $TASKS; do
	for seed in $SEEDS; do
		dir="$OUT/$task/seed$seed"
		if [ -f "$dir/wall_seconds" ] && [ -n "$(find "$dir" -name results_best_model.json)" ]; then
			echo "== $task seed $seed: done before, in $dir" >&2
			continue
		fi
		mkdir -p "$dir"
		echo "== $task seed $seed -> $dir" >&2
		start=$(date +%s.%N)
		"$BIN" train -task "$task" -opt adamw "engine.seed=$seed" "engine.output_dir=$dir" engine.silent=true \
			>"$dir/train.log" 2>&1 || { echo "run failed; see $dir/train.log" >&2; tail -5 "$dir/train.log" >&2; exit 1; }
		end=$(date +%s.%N)
		awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", b - a }' >"$dir/wall_seconds"
	done
done

echo
echo "# best checkpoint, test split (onnxruntime); mean ± sample std over seeds $SEEDS"
for task in $TASKS; do
	for seed in $SEEDS; do
		dir="$OUT/$task/seed$seed"
		res=$(find "$dir" -name results_best_model.json -print -quit)
		[ -n "$res" ] || { echo "no results_best_model.json under $dir" >&2; exit 1; }
		line="$task seed $seed:"
		for k in ${metrics[$task]}; do line+=" $k=$(metric "$res" "$k")"; done
		timing=$(find "$dir" -name timing.json -print -quit)
		line+=" wall=$(cat "$dir/wall_seconds")s train=$(metric "$timing" train_time_s | xargs printf '%.1f')s"
		line+=" step=$(metric "$timing" mean_step_ms | xargs printf '%.1f')ms"
		echo "$line"
	done
	for k in ${metrics[$task]}; do
		vals=$(for seed in $SEEDS; do metric "$(find "$OUT/$task/seed$seed" -name results_best_model.json -print -quit)" "$k"; done)
		echo "$task $k: $(echo "$vals" | stats)"
	done
	echo "$task wall seconds: $(for seed in $SEEDS; do cat "$OUT/$task/seed$seed/wall_seconds"; done | stats)"
	echo "$task bar: ${bar[$task]}"
done
