#!/usr/bin/env bash
# The GPU check: fob on GoMLX's XLA CUDA backend against PyTorch on the same GPU.
#
#   scripts/device-check.sh prepare   # here (CPU machine): build bin/fob, put the data in data/
#   scripts/device-check.sh run       # on the GPU machine, from the repo root, with $OUT set
#
# The GPU machine has no Go and no network: it gets bin/fob and data/ carried in the working
# tree (about 35 MiB), JAX's CUDA PJRT plugin and onnxruntime from its Python packages, and
# PyTorch. `run` writes to $OUT: doctor.txt (what fob found), fob's run folders and logs,
# torch.json, and summary.json (step times, samples/s, ratios, mnist test accuracy, and whether
# onnxruntime scores the GPU-trained ONNX file the same as the run recorded).
#
# On a CPU machine, `FOB_DEVICE_BACKEND=go TORCH_DEVICE=cpu OUT=/tmp/out scripts/device-check.sh run`
# runs the same check on the pure-Go backend against PyTorch on the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
FOB=${FOB:-bin/fob}
# The Python with PyTorch (and, on the GPU machine, JAX's plugin and onnxruntime).
if [ -z "${PYTHON:-}" ]; then
	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import torch, numpy' 2>/dev/null; then PYTHON=$p; break; fi
	done
fi
PY=${PYTHON:-python3}
DATA=${DATA:-data}

prepare() {
	export PATH=/usr/local/go/bin:$PATH
	go build -o bin/fob ./cmd/fob || exit 1
	"$FOB" setup examples/device_check.yaml engine.data_dir="$DATA" || exit 1
	du -sh bin/fob "$DATA"
	echo "carry: bin, $DATA"
}

run() {
	: "${OUT:?set OUT to the folder for results}"
	local backend=${FOB_DEVICE_BACKEND:-xla:cuda} tdev=${TORCH_DEVICE:-cuda}
	mkdir -p "$OUT"
	# JAX's CUDA plugin and the NVIDIA libraries live in the Python site-packages.
	if [ -z "${FOB_PYTHON_SITE:-}" ]; then
		FOB_PYTHON_SITE=$("$PY" -c 'import site; print(":".join(site.getsitepackages()))' 2>/dev/null)
		export FOB_PYTHON_SITE
	fi
	if [ -z "${ONNXRUNTIME_LIB:-}" ]; then
		ONNXRUNTIME_LIB=$("$PY" -c 'import onnxruntime, os, glob; print(sorted(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*")))[0])' 2>/dev/null)
		[ -n "$ONNXRUNTIME_LIB" ] && export ONNXRUNTIME_LIB
	fi
	export GOMLX_NO_AUTO_INSTALL=1
	{ nvidia-smi -L || true; } >"$OUT/gpu.txt" 2>&1
	"$FOB" doctor -backend "$backend" >"$OUT/doctor.txt" 2>&1
	echo "doctor: exit $?" >>"$OUT/doctor.txt"

	local common=(engine.backend="$backend" engine.data_dir="$DATA" engine.output_dir="$OUT/runs" engine.silent=true engine.seed=1)
	"$FOB" train -task mnist -opt adamw task.max_epochs=2 "${common[@]}" >"$OUT/mnist.log" 2>&1
	echo "exit $?" >>"$OUT/mnist.log"
	"$FOB" train -task tabular -opt adamw task.max_steps=300 "${common[@]}" >"$OUT/tabular.log" 2>&1
	echo "exit $?" >>"$OUT/tabular.log"
	local mnist_run="$OUT/runs/mnist/adamw_baseline/engine.seed=1,task.max_epochs=2"
	"$FOB" eval -checkpoint "$mnist_run/checkpoints/last.onnx" -json -data-dir "$DATA" -cuda \
		>"$OUT/mnist_eval.json" 2>"$OUT/mnist_eval.log"

	"$PY" scripts/device_torch.py --device "$tdev" --data "$DATA" --epochs 2 --out "$OUT/torch.json" \
		>"$OUT/torch.log" 2>&1
	"$PY" - "$OUT" "$mnist_run" <<'PY'
import glob, json, os, sys
out, mnist_run = sys.argv[1], sys.argv[2]
def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except Exception as e:
        return {"error": f"{p}: {e}"}
s = {"gpu": open(os.path.join(out, "gpu.txt")).read().strip()}
s["fob_mnist_timing"] = load(os.path.join(mnist_run, "timing.json"))
s["fob_mnist_results"] = load(os.path.join(mnist_run, "results_final_model.json"))
s["onnxruntime_rescore"] = load(os.path.join(out, "mnist_eval.json"))
tab = glob.glob(os.path.join(out, "runs", "tabular", "adamw_baseline", "*", "timing.json"))
s["fob_tabular_timing"] = load(tab[0]) if tab else {"error": "no tabular run"}
s["torch"] = load(os.path.join(out, "torch.json"))
try:
    s["rescore_equal"] = s["onnxruntime_rescore"][0]["test_acc"] == s["fob_mnist_results"][0]["test_acc"]
    s["mnist_step_ratio_fob_over_torch"] = s["fob_mnist_timing"]["median_step_ms"] / s["torch"]["mnist"]["step_ms"]
    s["tabular_step_ratio_fob_over_torch"] = s["fob_tabular_timing"]["median_step_ms"] / s["torch"]["tabular"]["step_ms"]
    s["mnist_samples_per_s"] = {"fob": 512e3 / s["fob_mnist_timing"]["median_step_ms"], "torch": s["torch"]["mnist"]["samples_per_s"]}
except Exception as e:
    s["summary_error"] = repr(e)
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(s, f, indent=2)
print(json.dumps(s, indent=2))
PY
}

case "${1:-}" in
prepare) prepare ;;
run) run ;;
*) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
