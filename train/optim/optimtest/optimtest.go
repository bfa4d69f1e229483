// Package optimtest runs optimizers on fixed gradient sequences and compares the parameters
// (and optionally state) after every step with reference values computed independently
// (train/optim/testdata/*.json, written by gen_refs.py with torch 1.13 / numpy). It also
// trains a toy quadratic, the smoke test every optimizer passes.
package optimtest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// GroupSpec is one parameter group of a case.
type GroupSpec struct {
	Name         string     `json:"name"`
	LRMultiplier float64    `json:"lr_multiplier"`
	WDMultiplier float64    `json:"wd_multiplier"`
	Options      config.Map `json:"options"`
	Params       []string   `json:"params"`
}

// ParamSpec is one parameter with its initial value (row-major).
type ParamSpec struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Init  []float64 `json:"init"`
}

// HessianSpec is a curvature update after a step (optim.CurvatureEstimator).
type HessianSpec struct {
	Grads     map[string][]float64 `json:"grads"`
	BatchSize float64              `json:"batch_size"`
}

// StepSpec is the input of one step: the group learning rates and the gradients.
type StepSpec struct {
	Step    int                  `json:"step"`
	LR      []float64            `json:"lr"`
	Grads   map[string][]float64 `json:"grads"`
	Hessian *HessianSpec         `json:"hessian"`
}

// Case is one reference run.
type Case struct {
	Name   string      `json:"name"`
	Note   string      `json:"note"`
	Config config.Map  `json:"config"`
	Groups []GroupSpec `json:"groups"`
	Params []ParamSpec `json:"params"`
	Steps  []StepSpec  `json:"steps"`
	// Expected[k][param] is the parameter after step k+1.
	Expected []map[string][]float64 `json:"expected"`
	// State[k][param][var] is optimizer state after step k+1 (optional, a subset).
	State []map[string]map[string][]float64 `json:"state"`
}

// Load reads the cases of a reference file.
func Load(path string) ([]Case, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cases []Case
	if err := json.Unmarshal(b, &cases); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range cases {
		cases[i].Config = normalize(cases[i].Config).(config.Map)
	}
	return cases, nil
}

// normalize turns JSON numbers that are integers into int, as YAML would give them.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	}
	return v
}

var (
	backendOnce sync.Once
	backend     backends.Backend
	backendErr  error
)

// Backend is the shared pure-Go backend of a test binary (operations run sequentially, which
// avoids the simplego scheduler hang on small machines).
func Backend(t testing.TB) backends.Backend {
	backendOnce.Do(func() {
		backend, backendErr = backends.NewWithConfig("go:ops_sequential")
	})
	if backendErr != nil {
		t.Fatalf("backend: %v", backendErr)
	}
	return backend
}

// OptimGroups converts the case's groups.
func (c Case) OptimGroups() []optim.Group {
	var gs []optim.Group
	for _, g := range c.Groups {
		gs = append(gs, optim.Group{Name: g.Name, LRMultiplier: g.LRMultiplier, WDMultiplier: g.WDMultiplier,
			Options: g.Options, Params: g.Params})
	}
	return gs
}

// Result holds what a run produced.
type Result struct {
	// Params[k][name] after step k+1.
	Params []map[string][]float64
	// State[k][name][var] for the variables the case's State lists.
	State []map[string]map[string][]float64
}

func flat(t testing.TB, tensor *tensors.Tensor) []float64 {
	var out []float64
	tensor.MustConstFlatData(func(f any) {
		switch x := f.(type) {
		case []float64:
			out = append(out, x...)
		case []float32:
			for _, v := range x {
				out = append(out, float64(v))
			}
		default:
			t.Fatalf("unexpected tensor dtype %s", tensor.DType())
		}
	})
	return out
}

func tensorOf(dtype dtypes.DType, data []float64, dims ...int) *tensors.Tensor {
	if dtype == dtypes.Float32 {
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		return tensors.FromFlatDataAndDimensions(f, dims...)
	}
	return tensors.FromFlatDataAndDimensions(append([]float64{}, data...), dims...)
}

// Run executes the case with parameters (and fed values) in dtype: one compiled update graph
// (and one Hessian graph when needed) executed once per step.
func Run(t testing.TB, c Case, dtype dtypes.DType) Result {
	t.Helper()
	name, _ := c.Config["name"].(string)
	entry, err := optim.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	groups := c.OptimGroups()
	opt, err := entry.New(optim.Settings{Config: c.Config, Groups: groups})
	if err != nil {
		t.Fatalf("%s: factory: %v", c.Name, err)
	}
	names := make([]string, len(c.Params))
	for i, p := range c.Params {
		names[i] = p.Name
	}
	gidx, err := optim.AssignGroups(groups, names)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	model := ctx.In("model").Checked(false)
	params := make([]optim.Param, len(c.Params))
	for i, p := range c.Params {
		v := model.VariableWithValue(optim.EscapeName(p.Name), tensorOf(dtype, p.Init, p.Shape...))
		params[i] = optim.Param{Name: p.Name, Var: v, Group: gidx[i]}
	}
	be := Backend(t)
	update, err := context.NewExec(be, ctx, func(ctx *context.Context, inputs []*Node) *Node {
		in := optim.StepInputs{Step: inputs[0], LR: inputs[1]}
		opt.Update(ctx.In("optimizer"), in, params, inputs[2:])
		return OnePlus(inputs[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	var hessian *context.Exec
	if ce, ok := opt.(optim.CurvatureEstimator); ok {
		hessian, err = context.NewExec(be, ctx, func(ctx *context.Context, inputs []*Node) *Node {
			in := optim.StepInputs{Step: inputs[0], LR: inputs[1]}
			ce.UpdateHessian(ctx.In("optimizer"), in, params, optim.HessianInputs{Grads: inputs[3:], BatchSize: inputs[2]})
			return OnePlus(inputs[0])
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var res Result
	for k, st := range c.Steps {
		// The trainer feeds the step as float32; the float64 run feeds float64 throughout.
		var stepT *tensors.Tensor = tensors.FromScalar(float32(st.Step))
		if dtype == dtypes.Float64 {
			stepT = tensors.FromScalar(float64(st.Step))
		}
		args := []any{stepT, tensorOf(dtype, st.LR, len(st.LR))}
		for _, p := range c.Params {
			g, ok := st.Grads[p.Name]
			if !ok {
				t.Fatalf("%s step %d: no gradient for %s", c.Name, st.Step, p.Name)
			}
			args = append(args, tensorOf(dtype, g, p.Shape...))
		}
		if _, err := update.Exec(args...); err != nil {
			t.Fatalf("%s step %d: %v", c.Name, st.Step, err)
		}
		if st.Hessian != nil {
			if hessian == nil {
				t.Fatalf("%s: case has Hessian inputs but %s is not a CurvatureEstimator", c.Name, name)
			}
			hargs := []any{args[0], args[1], tensors.FromScalar(st.Hessian.BatchSize)}
			if dtype == dtypes.Float32 {
				hargs[2] = tensors.FromScalar(float32(st.Hessian.BatchSize))
			}
			for _, p := range c.Params {
				hargs = append(hargs, tensorOf(dtype, st.Hessian.Grads[p.Name], p.Shape...))
			}
			if _, err := hessian.Exec(hargs...); err != nil {
				t.Fatalf("%s step %d hessian: %v", c.Name, st.Step, err)
			}
		}
		ps := map[string][]float64{}
		for _, p := range params {
			ps[p.Name] = flat(t, p.Var.MustValue())
		}
		res.Params = append(res.Params, ps)
		if k < len(c.State) {
			ss := map[string]map[string][]float64{}
			for pname, vars := range c.State[k] {
				ss[pname] = map[string][]float64{}
				for vname := range vars {
					v := ctx.GetVariableByScopeAndName("/optimizer/"+optim.EscapeName(pname), vname)
					if v == nil {
						t.Fatalf("%s: no state variable %s for %s", c.Name, vname, pname)
					}
					ss[pname][vname] = flat(t, v.MustValue())
				}
			}
			res.State = append(res.State, ss)
		}
	}
	return res
}

// RelErr is |got − want| / max(|want|, floor).
func RelErr(got, want, floor float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), floor)
}

// Compare runs the case in dtype and fails if any compared value after any step has a relative
// error above tol; it returns the largest relative error.
//
// In float64 every parameter and listed state element is compared on its own (denominator
// max(|want|, 1e-6)). In float32 the parameters are compared relative to the tensor's scale
// (denominator max(|want|, RMS of the reference tensor)), since an element that crosses 0
// carries the absolute rounding of its tensor; state scalars such as CPR's Lagrange
// multiplier (a difference of nearly equal sums) are only checked in float64.
func Compare(t *testing.T, c Case, dtype dtypes.DType, tol float64) float64 {
	t.Helper()
	res := Run(t, c, dtype)
	worst, where := 0.0, ""
	f32 := dtype == dtypes.Float32
	check := func(label string, got, want []float64) {
		if len(got) != len(want) {
			t.Fatalf("%s: %s has %d values, reference %d", c.Name, label, len(got), len(want))
		}
		floor := 1e-6
		if f32 {
			ss := 0.0
			for _, w := range want {
				ss += w * w
			}
			floor = math.Max(floor, math.Sqrt(ss/float64(len(want))))
		}
		for i := range got {
			e := RelErr(got[i], want[i], floor)
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			if e > worst {
				worst, where = e, fmt.Sprintf("%s[%d]: got %.17g want %.17g", label, i, got[i], want[i])
			}
		}
	}
	if len(c.Expected) != len(c.Steps) {
		t.Fatalf("%s: %d steps but %d expected", c.Name, len(c.Steps), len(c.Expected))
	}
	for k := range c.Steps {
		for _, name := range sortedKeys(c.Expected[k]) {
			check(fmt.Sprintf("step %d %s", k+1, name), res.Params[k][name], c.Expected[k][name])
		}
		if k < len(c.State) && !f32 {
			for _, pname := range sortedKeys(c.State[k]) {
				for _, vname := range sortedKeys(c.State[k][pname]) {
					check(fmt.Sprintf("step %d %s/%s", k+1, pname, vname), res.State[k][pname][vname], c.State[k][pname][vname])
				}
			}
		}
	}
	if worst > tol {
		t.Errorf("%s (%s): max relative error %.3g > %.1g at %s", c.Name, dtype, worst, tol, where)
	}
	return worst
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CompareFile runs every case of a reference file in float64 (tolerance 1e-6) and float32
// (1e-5) as subtests and logs the largest errors.
func CompareFile(t *testing.T, path string) {
	cases, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			e64 := Compare(t, c, dtypes.Float64, 1e-6)
			e32 := Compare(t, c, dtypes.Float32, 1e-5)
			t.Logf("%d steps: max relative error float64 %.2g, float32 %.2g", len(c.Steps), e64, e32)
		})
	}
}

// Quadratic trains f(θ) = ½ Σ a_i (θ_i − c_i)² (a 3×4 matrix in group 0 and a 4-vector in
// group 1, lr multiplier 0.5, no weight decay) for steps steps at a constant learning rate and
// returns the loss before and after. The gradient a ⊙ (θ − c) is built in the graph.
func Quadratic(t testing.TB, cfg config.Map, lr float64, steps int) (before, after float64) {
	t.Helper()
	name, _ := cfg["name"].(string)
	entry, err := optim.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	groups := []optim.Group{
		{Name: "decay", LRMultiplier: 1, WDMultiplier: 1, Params: []string{"w"}},
		{Name: "no_decay", LRMultiplier: 0.5, WDMultiplier: 0, Params: []string{"b"}},
	}
	opt, err := entry.New(optim.Settings{Config: cfg, Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	wInit := []float32{1, -2, 0.5, 3, -1, 2, 0, 1.5, -0.5, 2.5, -3, 1}
	bInit := []float32{2, -1, 0.5, -2}
	ctx := context.New()
	model := ctx.In("model").Checked(false)
	w := model.VariableWithValue("w", tensors.FromFlatDataAndDimensions(wInit, 3, 4))
	b := model.VariableWithValue("b", tensors.FromFlatDataAndDimensions(bInit, 4))
	params := []optim.Param{{Name: "w", Var: w, Group: 0}, {Name: "b", Var: b, Group: 1}}
	loss := func(g *Graph) (*Node, []*Node) {
		var total *Node
		var grads []*Node
		for i, p := range params {
			theta := p.Var.ValueGraph(g)
			a := AddScalar(MulScalar(Iota(g, theta.Shape(), 0), 0.5), 1+float64(i))
			d := Sub(theta, MulScalar(OnesLike(theta), 0.25))
			grads = append(grads, Mul(a, d))
			l := MulScalar(ReduceAllSum(Mul(a, Square(d))), 0.5)
			if total == nil {
				total = l
			} else {
				total = Add(total, l)
			}
		}
		return total, grads
	}
	be := Backend(t)
	evalLoss := context.MustNewExec(be, ctx, func(ctx *context.Context, g *Graph) *Node {
		l, _ := loss(g)
		return l
	})
	step := context.MustNewExec(be, ctx, func(ctx *context.Context, k, lrs *Node) *Node {
		l, grads := loss(k.Graph())
		opt.Update(ctx.In("optimizer"), optim.StepInputs{Step: k, LR: lrs}, params, grads)
		return l
	})
	read := func() float64 { return float64(evalLoss.MustExec()[0].Value().(float32)) }
	before = read()
	mults := optim.Multipliers(groups)
	for k := 1; k <= steps; k++ {
		lrs := []float32{float32(lr * mults[0]), float32(lr * mults[1])}
		step.MustExec(float32(k), lrs)
	}
	return before, read()
}

// CheckQuadratic trains the quadratic of Quadratic and fails unless the loss falls below
// ratio × the initial loss.
func CheckQuadratic(t *testing.T, cfg config.Map, lr float64, steps int, ratio float64) {
	t.Helper()
	before, after := Quadratic(t, cfg, lr, steps)
	t.Logf("%v: loss %.4g → %.4g after %d steps", cfg["name"], before, after, steps)
	if !(after < ratio*before) {
		t.Errorf("%v: loss %.4g → %.4g after %d steps; want below %.3g", cfg["name"], before, after, steps, ratio*before)
	}
}

// BadConfig is one invalid hyperparameter and a fragment the error must contain.
type BadConfig struct {
	Key   string
	Value any
	Want  string
}

// CheckFactoryErrors sets each bad value on top of the defaults and checks the factory
// rejects it with an error naming the key and containing Want.
func CheckFactoryErrors(t *testing.T, name string, bad []BadConfig) {
	t.Helper()
	entry, err := optim.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	groups := []optim.Group{
		{Name: "decay", LRMultiplier: 1, WDMultiplier: 1, Params: []string{"w"}},
		{Name: "no_decay", LRMultiplier: 1, WDMultiplier: 0, Params: []string{"b"}},
	}
	base := config.Map{"name": name, "max_steps": 100, "max_epochs": 10}
	if _, err := entry.New(optim.Settings{Config: base, Groups: groups}); err != nil {
		t.Fatalf("%s: defaults rejected: %v", name, err)
	}
	for _, b := range bad {
		cfg := config.Map{}
		for k, v := range base {
			cfg[k] = v
		}
		cfg[b.Key] = b.Value
		_, err := entry.New(optim.Settings{Config: cfg, Groups: groups})
		if err == nil {
			t.Errorf("%s: %s = %v accepted", name, b.Key, b.Value)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, b.Key) || !strings.Contains(msg, b.Want) {
			t.Errorf("%s: %s = %v: error %q should name the key and contain %q", name, b.Key, b.Value, msg, b.Want)
		}
	}
}
