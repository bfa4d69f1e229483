package traintest

import (
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/runtime/tensor"
)

// ORTSession opens m in onnxruntime with the given number of threads; the session is closed
// when the test ends.
func ORTSession(tb testing.TB, m *onnxpb.ModelProto, threads int) *ort.Session {
	tb.Helper()
	raw, err := onnx.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := ort.NewSession(raw, ort.Options{Threads: threads})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sess.Close() })
	return sess
}

// RunORT runs m in onnxruntime (one thread) on inputs and returns every output.
func RunORT(tb testing.TB, m *onnxpb.ModelProto, inputs map[string]tensor.Tensor) map[string]tensor.Tensor {
	tb.Helper()
	out, err := ORTSession(tb, m, 1).Run(inputs)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
