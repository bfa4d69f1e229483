# Shared by the scripts/bench-*.sh scripts, which source it after cd to the repository root.

# require_torch: exits unless $PY (the Python that runs the PyTorch side) imports torch.
require_torch() {
	if ! "$PY" -c 'import torch' 2>/dev/null; then
		echo "$(basename "$0"): $PY cannot import torch; install python3-torch (apt-get install python3-torch) or set PYTHON" >&2
		exit 1
	fi
}

# bench_metric LOG BENCH UNIT: the values reported in UNIT by the Go benchmark BENCH (with or
# without its -GOMAXPROCS suffix) in the `go test -bench` output LOG, one a line.
bench_metric() {
	awk -v b="$2" -v u="$3" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 1; i < NF; i++) if ($(i+1) == u) print $i }' "$1"
}
