// Package cpr implements Constrained Parameter Regularization (Franke et al., "Improving Deep
// Learning Optimization through Constrained Parameter Regularization", NeurIPS 2024) as a
// graph step applied after the base optimizer's update: each regularized parameter keeps its
// regularization value R(θ) below a bound κ through a Lagrange multiplier λ,
//
//	λ ← max(0, λ + μ (R(θ) − κ)),   θ ← θ − λ ∇R(θ),
//
// with R the mean over elements for l2 (θ²), l1 (|θ|) and huber, and the standard deviation
// for std. The state (lagmul, kappa, …) lives in the parameter's optimizer scope.
package cpr

import (
	"fmt"

	"github.com/fob-go/fob/train/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Methods are the valid kappa initialisations (warm_start_factor is translated by the caller).
var Methods = []string{"warm_start", "uniform", "dependent", "inflection_point"}

// RegFunctions are the valid regularization functions.
var RegFunctions = []string{"l2", "l1", "std", "huber"}

// Config is one CPR setup.
type Config struct {
	// Method is warm_start, uniform, dependent or inflection_point.
	Method string
	// KappaInit is κ for uniform and the factor on R(θ₀) for dependent.
	KappaInit float64
	// WarmStart is the step k at which warm_start sets κ = R(θ); the constraint applies from
	// step k + 1. It is at least 1.
	WarmStart int
	// RegStepSize is the burn-in unit of inflection_point: the bound is set at the first step
	// k > 3·RegStepSize where the per-step increase of Σθ² shrinks.
	RegStepSize int
	// Reg is l2, l1, std or huber.
	Reg string
	// KappaUpdate is μ, the Lagrange multiplier's step size.
	KappaUpdate float64
	// KappaAdapt lowers κ to R(θ) whenever the constraint is inactive (λ = 0) after it has
	// once been active (pytorch-cpr's kappa_adapt).
	KappaAdapt bool
}

// Validate checks the choices.
func (c Config) Validate() error {
	ok := func(v string, valid []string) bool {
		for _, x := range valid {
			if v == x {
				return true
			}
		}
		return false
	}
	if !ok(c.Method, Methods) {
		return fmt.Errorf("cpr: unknown kappa_init_method %q", c.Method)
	}
	if !ok(c.Reg, RegFunctions) {
		return fmt.Errorf("cpr: unknown reg_function %q", c.Reg)
	}
	if c.Method == "warm_start" && c.WarmStart < 1 {
		return fmt.Errorf("cpr: warm start %d < 1", c.WarmStart)
	}
	return nil
}

// Value is R(θ) in the form κ is compared with: mean θ² (l2), mean |θ| (l1), mean Huber
// (huber) or the unbiased standard deviation (std).
func Value(reg string, theta *Node) *Node {
	switch reg {
	case "l2":
		return ReduceAllMean(Square(theta))
	case "l1":
		return ReduceAllMean(Abs(theta))
	case "huber":
		return ReduceAllMean(huber(theta))
	case "std":
		return std(theta)
	}
	panic("cpr: unknown reg_function " + reg)
}

func huber(theta *Node) *Node {
	a := Abs(theta)
	return Where(LessThan(a, OnesLike(a)), MulScalar(Square(theta), 0.5), AddScalar(a, -0.5))
}

func std(theta *Node) *Node {
	n := theta.Shape().Size()
	c := Sub(theta, ReduceAllMean(theta))
	return Sqrt(DivScalar(ReduceAllSum(Square(c)), float64(n-1)))
}

// Constrain applies one constraint step to theta with multiplier lagmul and bound kappa and
// returns the new theta and lagmul. For l2/l1/huber the multiplier moves by (μ/n)(Σ r(θ) − κn),
// for std by μ(σ − κ), as pytorch-cpr does.
func Constrain(reg string, theta, lagmul, kappa *Node, kappaUpdate float64) (*Node, *Node) {
	g := theta.Graph()
	dt := theta.DType()
	n := float64(theta.Shape().Size())
	zero := optim.Scalar(g, dt, 0)
	var constraint, grad *Node
	switch reg {
	case "l2":
		constraint = Mul(optim.Scalar(g, dt, kappaUpdate/n), Sub(ReduceAllSum(Square(theta)), MulScalar(kappa, n)))
		grad = MulScalar(theta, 2)
	case "l1":
		constraint = Mul(optim.Scalar(g, dt, kappaUpdate/n), Sub(ReduceAllSum(Abs(theta)), MulScalar(kappa, n)))
		grad = Sign(theta)
	case "huber":
		constraint = Mul(optim.Scalar(g, dt, kappaUpdate/n), Sub(ReduceAllSum(huber(theta)), MulScalar(kappa, n)))
		a := Abs(theta)
		grad = Where(LessThan(a, OnesLike(a)), theta, Sign(theta))
	case "std":
		s := std(theta)
		constraint = MulScalar(Sub(s, kappa), kappaUpdate)
		grad = Div(Sub(theta, ReduceAllMean(theta)), MulScalar(s, n-1))
	default:
		panic("cpr: unknown reg_function " + reg)
	}
	lagmul = Max(Add(lagmul, constraint), zero)
	return Sub(theta, Mul(grad, lagmul)), lagmul
}

// Apply runs CPR for one regularized parameter after the base update: theta0 is the value
// before this step's update (dependent uses it at step 1), theta the updated value; it
// returns the regularized value. step is the 1-based step number in theta's dtype.
func Apply(ctx *context.Context, p optim.Param, c Config, step, theta0, theta *Node) *Node {
	g := theta.Graph()
	dt := theta.DType()
	if c.Reg == "std" && theta.Shape().Size() < 2 {
		return theta // the standard deviation of one element is undefined
	}
	lagVar := optim.ScalarState(ctx, p, "lagmul", 0)
	kappaInit := 0.0
	if c.Method == "uniform" {
		kappaInit = c.KappaInit
	}
	kappaVar := optim.ScalarState(ctx, p, "kappa", kappaInit)
	lagmul := lagVar.ValueGraph(g)
	kappa := kappaVar.ValueGraph(g)
	scalar := func(v float64) *Node { return optim.Scalar(g, dt, v) }

	var active *Node // constraint applied this step
	switch c.Method {
	case "uniform":
		active = GreaterOrEqual(step, scalar(1))
	case "dependent":
		kappa = Where(Equal(step, scalar(1)), MulScalar(Value(c.Reg, theta0), c.KappaInit), kappa)
		active = GreaterOrEqual(step, scalar(1))
	case "warm_start":
		ws := scalar(float64(c.WarmStart))
		kappa = Where(Equal(step, ws), Value(c.Reg, theta), kappa)
		active = GreaterThan(step, ws)
	case "inflection_point":
		setVar := optim.ScalarState(ctx, p, "kappa_set", 0)
		prevVar := optim.ScalarState(ctx, p, "prev_reg", 0)
		prevGradVar := optim.ScalarState(ctx, p, "prev_reg_gradient", 0)
		set := setVar.ValueGraph(g)
		prev := prevVar.ValueGraph(g)
		prevGrad := prevGradVar.ValueGraph(g)
		active = GreaterThan(set, scalar(0.5))
		searching := LogicalNot(active)
		R := float64(c.RegStepSize)
		s := ReduceAllSum(Square(theta))
		grad := Sub(s, prev)
		found := LogicalAnd(searching, LogicalAnd(GreaterThan(step, scalar(3*R)), GreaterThan(prevGrad, grad)))
		kappa = Where(found, Value(c.Reg, theta), kappa)
		setVar.SetValueGraph(Where(found, scalar(1), set))
		pastR := LogicalAnd(searching, GreaterThan(step, scalar(R)))
		prevVar.SetValueGraph(Where(pastR, s, prev))
		prevGradVar.SetValueGraph(Where(LogicalAnd(searching, GreaterThan(step, scalar(2*R))), grad, prevGrad))
	default:
		panic("cpr: unknown kappa_init_method " + c.Method)
	}

	newTheta, newLag := Constrain(c.Reg, theta, lagmul, kappa, c.KappaUpdate)
	if c.KappaAdapt {
		flagVar := optim.ScalarState(ctx, p, "adapt_flag", 0)
		flag := flagVar.ValueGraph(g)
		lower := LogicalAnd(GreaterThan(flag, scalar(0.5)), Equal(newLag, scalar(0)))
		adapted := Where(lower, Min(kappa, Value(c.Reg, newTheta)), kappa)
		newFlag := Where(GreaterThan(newLag, scalar(0)), scalar(1), flag)
		kappa = Where(active, adapted, kappa)
		flagVar.SetValueGraph(Where(active, newFlag, flag))
	}
	kappaVar.SetValueGraph(kappa)
	lagVar.SetValueGraph(Where(active, newLag, lagmul))
	return Where(active, newTheta, theta)
}
