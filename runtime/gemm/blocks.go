package gemm

import (
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// flatToBlockFn is the type of simplego's operand-to-blocks copy: source (any axis order) to
// blkOutput [batch, crossBlocks, contractBlocks, blkDim, blkDim], already zeroed.
type flatToBlockFn = func(source, blkOutput *simplego.Buffer, contractingAxes, batchAxes []int,
	batchSize, crossSize, contractingSize, blkLog2Dim int)

// flatToBlockMap is simplego's table of those copies by dtype (unexported there).
//
//go:linkname flatToBlockMap github.com/gomlx/gomlx/backends/simplego.dotGeneralFlatToBlockDTypeMap
var flatToBlockMap *simplego.DTypeMap

// layout says how a DotGeneral operand's axes are ordered, when it is a plain 3-axis layout.
type layout int

const (
	other layout = iota
	bck          // [batch..., cross..., contracting...]: rows of the operand are block rows
	bkc          // [batch..., contracting..., cross...]: the operand is transposed
)

// layoutOf classifies an operand of the given rank: batch axes first and in order, then either
// the cross axes followed by the contracting axes (in order), or the contracting axes followed by
// the cross axes.
func layoutOf(rank int, contractingAxes, batchAxes []int) layout {
	for i, a := range batchAxes {
		if a != i {
			return other
		}
	}
	nb, nk := len(batchAxes), len(contractingAxes)
	inOrder := func(from int) bool {
		for i, a := range contractingAxes {
			if a != from+i {
				return false
			}
		}
		return true
	}
	switch {
	case nk == 0:
		return bck
	case inOrder(rank - nk):
		return bck
	case inOrder(nb):
		return bkc
	}
	return other
}

// flatToBlocks copies a float32 operand into simplego's blocked form with row copies (bck) or
// tile transposes (bkc); other layouts go to simplego's general copy.
func flatToBlocks(stock flatToBlockFn) flatToBlockFn {
	return func(source, blkOutput *simplego.Buffer, contractingAxes, batchAxes []int,
		batchSize, crossSize, contractingSize, blkLog2Dim int) {
		src, ok1 := floats(source)
		dst, ok2 := floats(blkOutput)
		shape, ok3 := shapeOf(source)
		lay := other
		if ok1 && ok2 && ok3 && enabled.Load() && len(src) == batchSize*crossSize*contractingSize {
			lay = layoutOf(shape.Rank(), contractingAxes, batchAxes)
		}
		switch lay {
		case bck:
			copyRows(dst, src, batchSize, crossSize, contractingSize, blkLog2Dim)
		case bkc:
			copyTransposed(dst, src, batchSize, crossSize, contractingSize, blkLog2Dim)
		default:
			stock(source, blkOutput, contractingAxes, batchAxes, batchSize, crossSize, contractingSize, blkLog2Dim)
		}
	}
}

// copyRows: src [batch][cross][contract] → dst blocks; each source row splits into block rows.
func copyRows(dst, src []float32, batch, cross, contract, log2 int) {
	dim := 1 << log2
	crossBlocks, contractBlocks := (cross+dim-1)/dim, (contract+dim-1)/dim
	block := dim * dim
	for b := 0; b < batch; b++ {
		for i := 0; i < cross; i++ {
			row := src[(b*cross+i)*contract : (b*cross+i+1)*contract]
			base := ((b*crossBlocks+i>>log2)*contractBlocks)*block + (i&(dim-1))*dim
			for kb := 0; kb < contractBlocks; kb++ {
				lo := kb * dim
				copy(dst[base+kb*block:base+kb*block+dim], row[lo:min(lo+dim, contract)])
			}
		}
	}
}

// copyTransposed: src [batch][contract][cross] → dst blocks [cross][contract], a tile at a time.
func copyTransposed(dst, src []float32, batch, cross, contract, log2 int) {
	dim := 1 << log2
	crossBlocks, contractBlocks := (cross+dim-1)/dim, (contract+dim-1)/dim
	block := dim * dim
	for b := 0; b < batch; b++ {
		plane := src[b*contract*cross : (b+1)*contract*cross]
		for cb := 0; cb < crossBlocks; cb++ {
			i0, i1 := cb*dim, min(cb*dim+dim, cross)
			for kb := 0; kb < contractBlocks; kb++ {
				k0, k1 := kb*dim, min(kb*dim+dim, contract)
				out := dst[((b*crossBlocks+cb)*contractBlocks+kb)*block:][:block]
				for k := k0; k < k1; k++ {
					row := plane[k*cross+i0 : k*cross+i1]
					for ii, v := range row {
						out[ii*dim+k-k0] = v
					}
				}
			}
		}
	}
}

// floats returns a simplego buffer's float32 data (its unexported flat field, read only).
func floats(b *simplego.Buffer) ([]float32, bool) {
	v, ok := field(b, "flat")
	if !ok {
		return nil, false
	}
	s, ok := v.([]float32)
	return s, ok
}

// shapeOf returns a simplego buffer's shape (its unexported shape field).
func shapeOf(b *simplego.Buffer) (shapes.Shape, bool) {
	v, ok := field(b, "shape")
	if !ok {
		return shapes.Shape{}, false
	}
	s, ok := v.(shapes.Shape)
	return s, ok
}

func field(b *simplego.Buffer, name string) (any, bool) {
	if b == nil {
		return nil, false
	}
	f := reflect.ValueOf(b).Elem().FieldByName(name)
	if !f.IsValid() {
		return nil, false
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface(), true
}
