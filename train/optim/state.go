package optim

import (
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// EscapeName turns an initializer name into one context scope element. The escape is
// reversible ("%" → "%25", "/" → "%2F") so two different names never share optimizer state.
func EscapeName(name string) string {
	if name == "" {
		return "%00"
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(name)
}

// ParamScope is the context scope holding p's optimizer state: ctx/<escaped name>. It is
// unchecked so every graph the trainer builds (one per batch shape) reuses the same variables.
func ParamScope(ctx *context.Context, p Param) *context.Context {
	return ctx.Checked(false).In(EscapeName(p.Name))
}

// ZerosState returns (creating on first use) a non-trainable state variable of p's shape and
// dtype, initialised to zeros, named ctx/<param>/<name>.
func ZerosState(ctx *context.Context, p Param, name string) *context.Variable {
	return ZerosStateShaped(ctx, p, name, p.Var.Shape())
}

// ZerosStateShaped is ZerosState with an explicit shape (e.g. Adafactor's row/column EMAs).
func ZerosStateShaped(ctx *context.Context, p Param, name string, shape shapes.Shape) *context.Variable {
	c := ParamScope(ctx, p).WithInitializer(func(g *graph.Graph, s shapes.Shape) *graph.Node {
		return graph.Zeros(g, s)
	})
	return c.VariableWithShape(name, shape).SetTrainable(false)
}

// ScalarState returns (creating on first use) a non-trainable scalar state variable of p's
// dtype with the given initial value.
func ScalarState(ctx *context.Context, p Param, name string, init float64) *context.Variable {
	v := shapes.CastAsDType(init, p.Var.DType())
	return ParamScope(ctx, p).VariableWithValue(name, v).SetTrainable(false)
}

// Scalar is a graph constant of dtype.
func Scalar(g *graph.Graph, dtype dtypes.DType, v float64) *graph.Node {
	return graph.Scalar(g, dtype, v)
}

// GroupLR returns the learning rate fed for group (StepInputs.LR[group]) as a scalar of dtype.
func GroupLR(in StepInputs, group int, dtype dtypes.DType) *graph.Node {
	lr := graph.Slice(in.LR, graph.AxisElem(group))
	lr = graph.Reshape(lr)
	return graph.ConvertDType(lr, dtype)
}

// StepAs returns the 1-based step number as a scalar of dtype.
func StepAs(in StepInputs, dtype dtypes.DType) *graph.Node {
	return graph.ConvertDType(in.Step, dtype)
}

// AsDType converts x to dtype when needed (gradients may come in another precision).
func AsDType(x *graph.Node, dtype dtypes.DType) *graph.Node {
	if x.DType() == dtype {
		return x
	}
	return graph.ConvertDType(x, dtype)
}

// SetParam writes the new value of p, converting back to the variable's dtype.
func SetParam(p Param, value *graph.Node) {
	p.Var.SetValueGraph(AsDType(value, p.Var.DType()))
}

// WeightDecay is the decay of p's group: weightDecay × the group's WDMultiplier.
func WeightDecay(groups []Group, p Param, weightDecay float64) float64 {
	if p.Group < 0 || p.Group >= len(groups) {
		return weightDecay
	}
	return weightDecay * groups[p.Group].WDMultiplier
}

// Multipliers returns the groups' LR multipliers in group order (what the trainer passes to
// the schedule).
func Multipliers(groups []Group) []float64 {
	m := make([]float64, len(groups))
	for i, g := range groups {
		m[i] = g.LRMultiplier
	}
	return m
}
