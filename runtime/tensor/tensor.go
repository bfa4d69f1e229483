// Package tensor holds host-side dense tensors: the currency between data modules, GoMLX and
// onnxruntime. It is deliberately tiny: a shape and one typed flat slice.
package tensor

import "fmt"

// Tensor is a dense row-major host tensor. Exactly one of F32 and I64 is non-nil.
type Tensor struct {
	Shape []int
	F32   []float32
	I64   []int64
}

// F32s makes a float32 tensor; data is used as is, not copied.
func F32s(data []float32, shape ...int) Tensor { return Tensor{Shape: shape, F32: data} }

// I64s makes an int64 tensor; data is used as is, not copied.
func I64s(data []int64, shape ...int) Tensor { return Tensor{Shape: shape, I64: data} }

// Size is the number of elements the shape holds.
func (t Tensor) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// DType names the element type as ONNX and GoMLX spell it ("float32" or "int64").
func (t Tensor) DType() string {
	if t.I64 != nil {
		return "int64"
	}
	return "float32"
}

// Validate checks that the data length matches the shape.
func (t Tensor) Validate() error {
	n := len(t.F32)
	if t.I64 != nil {
		n = len(t.I64)
	}
	if (t.F32 == nil) == (t.I64 == nil) {
		return fmt.Errorf("tensor: exactly one of F32 and I64 must be set")
	}
	if n != t.Size() {
		return fmt.Errorf("tensor: shape %v holds %d elements, data has %d", t.Shape, t.Size(), n)
	}
	return nil
}

// Rows returns rows [lo, hi) along the first axis, sharing memory with t.
func (t Tensor) Rows(lo, hi int) Tensor {
	inner := 1
	for _, d := range t.Shape[1:] {
		inner *= d
	}
	shape := append([]int{hi - lo}, t.Shape[1:]...)
	if t.I64 != nil {
		return Tensor{Shape: shape, I64: t.I64[lo*inner : hi*inner]}
	}
	return Tensor{Shape: shape, F32: t.F32[lo*inner : hi*inner]}
}

// Gather copies the rows idx (along the first axis) into a new tensor.
func (t Tensor) Gather(idx []int) Tensor {
	inner := 1
	for _, d := range t.Shape[1:] {
		inner *= d
	}
	shape := append([]int{len(idx)}, t.Shape[1:]...)
	if t.I64 != nil {
		out := make([]int64, len(idx)*inner)
		for i, r := range idx {
			copy(out[i*inner:(i+1)*inner], t.I64[r*inner:(r+1)*inner])
		}
		return Tensor{Shape: shape, I64: out}
	}
	out := make([]float32, len(idx)*inner)
	for i, r := range idx {
		copy(out[i*inner:(i+1)*inner], t.F32[r*inner:(r+1)*inner])
	}
	return Tensor{Shape: shape, F32: out}
}
