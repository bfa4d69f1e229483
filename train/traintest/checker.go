package traintest

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// CheckCheckpoints runs ONNX's own checker (onnx.checker.check_model with full_check, shape
// inference included; Debian's python3-onnx) on every checkpoint a run exported, so what fob
// writes is valid for any ONNX tool, not only for onnxruntime.
func CheckCheckpoints(tb testing.TB, runDir string) {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(runDir, "checkpoints", "*.onnx"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no ONNX checkpoints in %s (%v)", runDir, err)
	}
	const script = `import sys, onnx
for p in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(p), full_check=True)
`
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("onnx.checker on %v (needs python3-onnx): %v\n%s", files, err, out)
	}
}
