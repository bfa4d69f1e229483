package runtime

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

var installOnce sync.Once

// stockVJPs keeps GoMLX's own gradients, used when a node's parameters cannot be read (a GoMLX
// version whose internals differ from v0.26.0): slower, but still correct.
var stockVJPs = map[graph.NodeType]graph.VJP{}

// InstallFixes patches GoMLX (process-wide, once; later calls do nothing) for training:
//
//   - Dot and DotGeneral gradients become DotGeneral products themselves. GoMLX builds them as a
//     broadcast multiply plus ReduceSum, which materialises a [batch, in, out] temporary per
//     layer (gigabytes for wide layers) and is 10-20x slower.
//   - Identity (ONNX Identity, onnx-gomlx's ScatterND) gets the pass-through gradient GoMLX lacks.
//   - Pad (ONNX Pad, fob's pooling lowering) gets the gradient GoMLX lacks.
//   - ConvGeneral gets a gradient that is right for every padding (GoMLX's is not) and keeps
//     groups in one product (conv_vjp.go).
//   - Max and Min (ReLU, pooling) get the same gradient in fewer elementwise passes (max_vjp.go).
//   - The pure-Go backend with the ops gradients need (Pad, Reverse) is registered as "fobgo".
//
// NewBackend calls it; call it directly only when building graphs on a backend made elsewhere.
func InstallFixes() {
	installOnce.Do(func() {
		for _, t := range []graph.NodeType{graph.NodeTypeDot, graph.NodeTypeDotGeneral, graph.NodeTypeConvGeneral, graph.NodeTypeMax, graph.NodeTypeMin} {
			stockVJPs[t] = graph.VJPRegistration[t]
		}
		graph.VJPRegistration[graph.NodeTypeDot] = dotVJP
		graph.VJPRegistration[graph.NodeTypeDotGeneral] = dotGeneralVJP
		// StopGradient and IdentityWithCustomGradient are Identity nodes too, but autodiff handles
		// their flags before it consults this table, so registering the plain case is safe.
		graph.VJPRegistration[graph.NodeTypeIdentity] = identityVJP
		graph.VJPRegistration[graph.NodeTypePad] = padVJP          // pad_vjp.go
		graph.VJPRegistration[graph.NodeTypeConvGeneral] = convVJP // conv_vjp.go
		graph.VJPRegistration[graph.NodeTypeMax] = minMaxVJP       // max_vjp.go
		graph.VJPRegistration[graph.NodeTypeMin] = minMaxVJP
		backends.Register(GoBackendName, newGoBackend)
	})
}

func identityVJP(_ *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
	return []*graph.Node{v[0]}
}

// dotVJP handles graph.Dot (what onnx-gomlx's 2-D MatMul becomes): Dot contracts the last axis of
// lhs with the first axis of rhs, which is a DotGeneral without batch axes.
func dotVJP(node *graph.Node, v []*graph.Node, _ shapes.Shape) []*graph.Node {
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	if lhs.Rank() > 2 || rhs.Rank() > 2 || lhs.Rank() == 0 || rhs.Rank() == 0 {
		return stockVJPs[graph.NodeTypeDot](node, v, shapes.Shape{})
	}
	return dotGeneralGrads(lhs, []int{lhs.Rank() - 1}, nil, rhs, []int{0}, nil, v[0])
}

// dotGeneralVJP handles graph.DotGeneral (MatMul on 3-D or larger inputs, Gemm via Einsum).
func dotGeneralVJP(node *graph.Node, v []*graph.Node, outputShape shapes.Shape) []*graph.Node {
	axes, err := dotGeneralAxes(node)
	if err != nil {
		return stockVJPs[graph.NodeTypeDotGeneral](node, v, outputShape)
	}
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	return dotGeneralGrads(lhs, axes[0], axes[1], rhs, axes[2], axes[3], v[0])
}

// dotGeneralAxes reads lhsContracting, lhsBatch, rhsContracting, rhsBatch from a DotGeneral
// node. GoMLX keeps them in an unexported struct; reflection may read (never write) them.
func dotGeneralAxes(node *graph.Node) (axes [4][]int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading DotGeneral axes: %v", r)
		}
	}()
	params, err := nodeParams(node, "DotGeneral")
	if err != nil {
		return axes, err
	}
	for i, name := range []string{"lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes"} {
		f := params.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice {
			return axes, fmt.Errorf("DotGeneral inputs lack %s", name)
		}
		axes[i] = make([]int, f.Len())
		for j := range axes[i] {
			axes[i][j] = int(f.Index(j).Int())
		}
	}
	return axes, nil
}

// crossAxes returns the axes of a rank-r operand that are neither contracted nor batch, ascending
// (the order DotGeneral lays them out in its output).
func crossAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// dotGeneralGrads returns d/d lhs and d/d rhs of out = DotGeneral(lhs, lc, lb, rhs, rc, rb) given
// v = d/d out, each as one DotGeneral of v with the other operand followed by a transpose.
//
// out's axes are [batch..., lhs cross..., rhs cross...]. For lhs, v is contracted with rhs over
// rhs's cross axes, leaving [batch..., lhs cross..., rhs contracting (ascending)...]; each of those
// is mapped back to the lhs axis it stands for. The rhs side mirrors it.
func dotGeneralGrads(lhs *graph.Node, lc, lb []int, rhs *graph.Node, rc, rb []int, v *graph.Node) []*graph.Node {
	lCross := crossAxes(lhs.Rank(), lc, lb)
	rCross := crossAxes(rhs.Rank(), rc, rb)
	nb := len(lb)
	vBatch := seq(0, nb)
	vL := seq(nb, len(lCross))
	vR := seq(nb+len(lCross), len(rCross))

	one := func(other *graph.Node, vContract, otherCross, otherBatch, otherContract, thisContract, thisBatch, thisCross []int, thisRank int) *graph.Node {
		g := graph.DotGeneral(v, vContract, vBatch, other, otherCross, otherBatch)
		// g axes -> this operand's axes.
		toThis := make([]int, 0, thisRank)
		toThis = append(toThis, thisBatch...)
		toThis = append(toThis, thisCross...)
		for _, a := range crossAxes(other.Rank(), otherCross, otherBatch) { // other's contracting axes, ascending
			toThis = append(toThis, thisContract[slices.Index(otherContract, a)])
		}
		perm := make([]int, thisRank)
		identity := true
		for gAxis, thisAxis := range toThis {
			perm[thisAxis] = gAxis
			identity = identity && gAxis == thisAxis
		}
		if identity {
			return g
		}
		return graph.TransposeAllAxes(g, perm...)
	}
	return []*graph.Node{
		one(rhs, vR, rCross, rb, rc, lc, lb, lCross, lhs.Rank()),
		one(lhs, vL, lCross, lb, lc, rc, rb, rCross, rhs.Rank()),
	}
}

func seq(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}
