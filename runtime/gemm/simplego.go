package gemm

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// kernelMap is simplego's table of block-kernel builders by dtype (unexported there; simplego
// has no public hook for architecture-specific kernels, although its registry has a priority
// level for them). Each entry has the type
// func(lhs, rhs, output *simplego.Buffer, blockDim int) kernelFuncType, with
// kernelFuncType func(lhsBlockIdx, rhsBlockIdx, outputBlockIdx int).
//
//go:linkname kernelMap github.com/gomlx/gomlx/backends/simplego.dotGeneralKernelDTypeMap
var kernelMap *simplego.DTypeMap

var (
	installMu sync.Mutex
	installed bool
	enabled   atomic.Bool
)

// ErrUnavailable is returned by Install on CPUs without AVX2 and FMA.
var ErrUnavailable = errors.New("gemm: the float32 kernel needs an amd64 CPU with AVX2 and FMA")

// Install makes simplego's float32 matrix products use the kernel (process-wide; later calls do
// nothing). It checks the simplego internals it relies on first and leaves simplego untouched,
// with an error, when they are not as expected (a GoMLX version other than v0.26.0).
func Install() error {
	installMu.Lock()
	defer installMu.Unlock()
	if installed {
		return nil
	}
	if !hasKernel {
		return ErrUnavailable
	}
	if kernelMap == nil {
		return errors.New("gemm: simplego's kernel table is not linked")
	}
	stock := kernelMap.Map[dtypes.Float32]
	if stock == nil {
		return errors.New("gemm: simplego has no float32 kernel to replace")
	}
	ft := reflect.TypeOf(stock)
	bufType := reflect.TypeOf((*simplego.Buffer)(nil))
	intType := reflect.TypeOf(0)
	if ft.Kind() != reflect.Func || ft.NumIn() != 4 || ft.NumOut() != 1 || ft.In(0) != bufType ||
		ft.In(1) != bufType || ft.In(2) != bufType || ft.In(3) != intType {
		return fmt.Errorf("gemm: simplego's kernel builder has type %s, not the one this package was written for", ft)
	}
	kt := ft.Out(0)
	if kt.Kind() != reflect.Func || kt.NumIn() != 3 || kt.NumOut() != 0 || kt.In(0) != intType ||
		kt.In(1) != intType || kt.In(2) != intType {
		return fmt.Errorf("gemm: simplego's block kernel has type %s, not the one this package was written for", kt)
	}
	for name, kind := range map[string]reflect.Kind{"flat": reflect.Interface, "shape": reflect.Struct} {
		if f, ok := reflect.TypeOf(simplego.Buffer{}).FieldByName(name); !ok || f.Type.Kind() != kind {
			return fmt.Errorf("gemm: simplego.Buffer has no %s field of kind %s", name, kind)
		}
	}
	if flatToBlockMap == nil {
		return errors.New("gemm: simplego's operand-to-blocks table is not linked")
	}
	stockCopy, ok := flatToBlockMap.Map[dtypes.Float32].(flatToBlockFn)
	if !ok {
		return fmt.Errorf("gemm: simplego's float32 operand-to-blocks copy has type %T, not the one this package was written for", flatToBlockMap.Map[dtypes.Float32])
	}
	stockFn := reflect.ValueOf(stock)
	builder := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		if args[3].Int() == Dim && enabled.Load() {
			lhs, ok1 := floats(args[0].Interface().(*simplego.Buffer))
			rhs, ok2 := floats(args[1].Interface().(*simplego.Buffer))
			out, ok3 := floats(args[2].Interface().(*simplego.Buffer))
			if ok1 && ok2 && ok3 && len(lhs)%BlockSize == 0 && len(rhs)%BlockSize == 0 && len(out)%BlockSize == 0 {
				return []reflect.Value{reflect.ValueOf(newKernel(lhs, rhs, out)).Convert(kt)}
			}
		}
		return stockFn.Call(args)
	})
	kernelMap.Map[dtypes.Float32] = builder.Interface()
	flatToBlockMap.Map[dtypes.Float32] = flatToBlocks(stockCopy)
	installed = true
	enabled.Store(true)
	return nil
}

// Active reports whether float32 products run on the kernel (installed and enabled).
func Active() bool {
	installMu.Lock()
	defer installMu.Unlock()
	return installed && enabled.Load()
}

// SetEnabled switches between the kernel (true, the state after Install) and simplego's own, for
// side-by-side benchmarks and tests. Products already compiled switch too.
func SetEnabled(on bool) { enabled.Store(on) }

// newKernel returns the block kernel over simplego's blocked operands: out block o +=
// lhs block l · (rhs block r)ᵀ, each block [Dim][Dim] with the contracting axis last.
func newKernel(lhs, rhs, out []float32) func(l, r, o int) {
	rhsT := make([]float32, len(rhs))
	transposeBlocks(rhsT, rhs)
	return func(l, r, o int) {
		block32(out[o*BlockSize:(o+1)*BlockSize], lhs[l*BlockSize:(l+1)*BlockSize], rhsT[r*BlockSize:(r+1)*BlockSize])
	}
}
