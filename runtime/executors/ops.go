package executors

import "github.com/gomlx/gomlx/backends"

// fastOps lists the op types Install replaces and their float32 implementations.
func fastOps() map[backends.OpType]fastFn {
	ops := map[backends.OpType]fastFn{
		backends.OpTypeReduceSum:      reduction(reduceSum),
		backends.OpTypeReduceMax:      reduction(reduceMax),
		backends.OpTypeBroadcastInDim: broadcastInDim,
		backends.OpTypeConvertDType:   convertFromBool,
		backends.OpTypeGather:         gatherTake,
		backends.OpTypeConcatenate:    concatenate,
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
