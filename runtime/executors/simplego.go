package executors

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// executor is the type of simplego's per-op functions (its nodeExecutor).
type executor = func(*simplego.Backend, *simplego.Node, []*simplego.Buffer, []bool) (*simplego.Buffer, error)

// nodeExecutors is simplego's table of per-op functions (unexported there; simplego has no
// public hook for architecture-specific ops, although its registry has a priority for them).
//
//go:linkname nodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var nodeExecutors [backends.OpTypeLast]executor

// getBufferForShape allocates an output buffer from simplego's pool.
//
//go:linkname getBufferForShape github.com/gomlx/gomlx/backends/simplego.(*Backend).getBufferForShape
func getBufferForShape(b *simplego.Backend, shape shapes.Shape) *simplego.Buffer

// putBuffer returns a buffer to simplego's pool.
//
//go:linkname putBuffer github.com/gomlx/gomlx/backends/simplego.(*Backend).putBuffer
func putBuffer(b *simplego.Backend, buf *simplego.Buffer)

// Offsets of the unexported fields read here, checked by Install.
var (
	offNodeShape, offNodeData, offNodeInputs uintptr
	offBufFlat, offBufShape                  uintptr
)

func nodeShape(n *simplego.Node) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(n), offNodeShape))
}

func nodeData(n *simplego.Node) any { return *(*any)(unsafe.Add(unsafe.Pointer(n), offNodeData)) }

func bufFlat(b *simplego.Buffer) any { return *(*any)(unsafe.Add(unsafe.Pointer(b), offBufFlat)) }

func bufShape(b *simplego.Buffer) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(b), offBufShape))
}

var (
	installMu sync.Mutex
	installed bool
	enabled   atomic.Bool
	stock     [backends.OpTypeLast]executor
	fastCalls atomic.Int64 // nodes this package executed (tests check the fast paths ran)
)

// fieldOffset returns the offset of a struct field after checking its type.
func fieldOffset(t reflect.Type, name string, want reflect.Type) (uintptr, error) {
	f, ok := t.FieldByName(name)
	if !ok || f.Type != want {
		return 0, fmt.Errorf("executors: simplego.%s has no field %s of type %s (a GoMLX version other than v0.26.0)", t.Name(), name, want)
	}
	return f.Offset, nil
}

// Install replaces simplego's float32 executors of the ops this package speeds up (process-wide;
// later calls do nothing). Each replacement handles the float32 cases it knows and hands every
// other call to simplego's own executor. It checks the internals it relies on first and leaves
// simplego untouched, with an error, when they differ.
func Install() error {
	installMu.Lock()
	defer installMu.Unlock()
	if installed {
		return nil
	}
	anyType := reflect.TypeOf((*any)(nil)).Elem()
	shapeType := reflect.TypeOf(shapes.Shape{})
	nodeType, bufType := reflect.TypeOf(simplego.Node{}), reflect.TypeOf(simplego.Buffer{})
	var err error
	for _, f := range []struct {
		t    reflect.Type
		name string
		want reflect.Type
		off  *uintptr
	}{
		{nodeType, "shape", shapeType, &offNodeShape},
		{nodeType, "data", anyType, &offNodeData},
		{nodeType, "inputs", reflect.TypeOf([]*simplego.Node(nil)), &offNodeInputs},
		{bufType, "flat", anyType, &offBufFlat},
		{bufType, "shape", shapeType, &offBufShape},
	} {
		if *f.off, err = fieldOffset(f.t, f.name, f.want); err != nil {
			return err
		}
	}
	ops := fastOps()
	for op := range ops {
		if nodeExecutors[op] == nil {
			return errors.New("executors: simplego has no executor for " + op.String())
		}
	}
	for op, fast := range ops {
		stock[op] = nodeExecutors[op]
		nodeExecutors[op] = wrap(op, fast)
	}
	if nodeExecutors[bnOp] == nil { // simplego has none: the slot runs the fused batch norm
		nodeExecutors[bnOp] = execBatchNorm
	}
	installed = true
	enabled.Store(true)
	return nil
}

// Active reports whether the fast executors are installed and enabled.
func Active() bool {
	installMu.Lock()
	defer installMu.Unlock()
	return installed && enabled.Load()
}

// SetEnabled switches between this package's executors and simplego's (tests, benchmarks);
// compiled graphs switch too.
func SetEnabled(on bool) { enabled.Store(on) }

// fastFn computes one node into a buffer it allocates or reuses; ok is false when it does not
// take the case (the stock executor runs instead).
type fastFn func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, owned []bool) (out *simplego.Buffer, ok bool)

func wrap(op backends.OpType, fast fastFn) executor {
	return func(b *simplego.Backend, n *simplego.Node, inputs []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		if enabled.Load() {
			if out, ok := fast(b, n, inputs, owned); ok {
				fastCalls.Add(1)
				return out, nil
			}
		}
		return stock[op](b, n, inputs, owned)
	}
}
