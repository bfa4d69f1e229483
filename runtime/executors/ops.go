package executors

import (
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// fastOps lists the op types Install replaces and their float32 implementations.
func fastOps() map[backends.OpType]fastFn {
	ops := map[backends.OpType]fastFn{
		backends.OpTypeReduceSum:      reduction(reduceSum),
		backends.OpTypeReduceMax:      reduction(reduceMax),
		backends.OpTypeBroadcastInDim: broadcastInDim,
		backends.OpTypeConvertDType:   convertFromBool,
		backends.OpTypeGather:         gatherTake,
		backends.OpTypeConcatenate:    concatenate,
		backends.OpTypeConvGeneral:    convGeneral,
	}
	for op, b := range binaryOps {
		ops[op] = binary(b)
	}
	for _, op := range []backends.OpType{backends.OpTypeGreaterOrEqual, backends.OpTypeGreaterThan,
		backends.OpTypeLessOrEqual, backends.OpTypeLessThan} {
		ops[op] = compare(op)
	}
	return ops
}

// convRunner computes a float32 ConvGeneral node into an output buffer it overwrites
// entirely (SetConvRunner), or reports false.
var convRunner atomic.Pointer[func(params any, input, kernel, out *simplego.Buffer) bool]

// SetConvRunner makes float32 ConvGeneral nodes run on fn (runtime/gemm's RunConvNode) with an
// output buffer that is not zeroed first: simplego's executor zeroes every convolution output
// on one goroutine before computing it. Nodes fn declines run on simplego's executor; nil
// hands them all back to it.
func SetConvRunner(fn func(params any, input, kernel, out *simplego.Buffer) bool) {
	if fn == nil {
		convRunner.Store(nil)
		return
	}
	convRunner.Store(&fn)
}

func convGeneral(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
	run := convRunner.Load()
	os := nodeShape(n)
	if run == nil || os.DType != dtypes.Float32 || len(inputs) != 2 {
		return nil, false
	}
	out := getBufferForShape(b, os)
	if !(*run)(nodeData(n), inputs[0], inputs[1], out) {
		putBuffer(b, out)
		return nil, false
	}
	return out, true
}
