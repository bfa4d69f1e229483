//go:build !amd64

package gemm

var hasKernel = false

func block32(out, lhs, rhsT []float32) { block32Go(out, lhs, rhsT) }
