package train

import (
	"fmt"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Stepper owns the compiled graphs of one run: the train step (forward, loss, gradients,
// clipping, optimizer update) and the inference forward pass. Graphs are compiled once per
// batch shape and cached by GoMLX.
type Stepper struct {
	backend backends.Backend
	ctx     *context.Context
	model   *Model
	task    tasks.Task
	opt     optim.Optimizer
	params  []optim.Param
	clipAlg string
	clipVal float64 // 0: no clipping

	targets []string // target names, fixed by the first batch
	train   *context.Exec
	infer   *context.Exec

	hessian      *context.Exec // curvature update, every hessianEvery steps (nil: none)
	hessianEvery int

	shapes map[string]bool // batch shapes seen (each compiled once)
}

// StepperConfig gathers what NewStepper needs.
type StepperConfig struct {
	Backend   backends.Backend
	Context   *context.Context
	Model     *Model
	Task      tasks.Task
	Optimizer optim.Optimizer
	Params    []optim.Param
	ClipAlg   string
	ClipVal   float64
}

// NewStepper prepares (but does not yet compile) the graphs.
func NewStepper(c StepperConfig) (*Stepper, error) {
	s := &Stepper{backend: c.Backend, ctx: c.Context, model: c.Model, task: c.Task, opt: c.Optimizer,
		params: c.Params, clipAlg: c.ClipAlg, clipVal: c.ClipVal}
	var err error
	if s.train, err = context.NewExecAny(c.Backend, c.Context, s.trainGraph); err != nil {
		return nil, err
	}
	if s.infer, err = context.NewExecAny(c.Backend, c.Context, s.inferGraph); err != nil {
		return nil, err
	}
	if ce, ok := c.Optimizer.(optim.CurvatureEstimator); ok && ce.HessianEvery() > 0 {
		if _, ok := c.Task.(tasks.TargetSampler); !ok {
			return nil, fmt.Errorf("optimizer needs curvature estimates, but task %s cannot sample targets from its model (it does not implement tasks.TargetSampler)", c.Task.Name())
		}
		s.hessianEvery = ce.HessianEvery()
		if s.hessian, err = context.NewExecAny(c.Backend, c.Context, s.hessianGraph); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// StepResult is what one train step reports back.
type StepResult struct {
	Loss    float64
	Outputs map[string]tensor.Tensor
	// Compiled is true when this step's batch shape was new, so its time includes compiling
	// the graph; step-time statistics leave such steps out.
	Compiled bool
}

// Step runs one optimisation step on batch b. step is 1-based; lrs holds each group's learning rate.
func (s *Stepper) Step(b tasks.Batch, step int, lrs []float64) (res StepResult, err error) {
	defer recoverAs(&err, fmt.Sprintf("train step %d", step))
	if s.targets == nil {
		s.targets = sortedKeys(b.Targets)
	}
	key := fmt.Sprint(b.Inputs[s.model.Inputs[0]].Shape)
	if !s.shapes[key] {
		if s.shapes == nil {
			s.shapes = map[string]bool{}
		}
		s.shapes[key], res.Compiled = true, true
	}
	args := s.modelArgs(b)
	for _, name := range s.targets {
		t, ok := b.Targets[name]
		if !ok {
			return res, fmt.Errorf("batch lacks target %q", name)
		}
		args = append(args, deviceTensor(t))
	}
	lr := make([]float32, len(lrs))
	for i, v := range lrs {
		lr[i] = float32(v)
	}
	args = append(args, tensors.FromScalar(float32(step)), tensors.FromFlatDataAndDimensions(lr, len(lr)))
	outs, err := s.train.Exec(args...)
	if err != nil {
		return res, err
	}
	res.Loss = float64(tensors.ToScalar[float32](outs[0]))
	if res.Outputs, err = s.hostOutputs(b, outs[1:]); err != nil {
		return res, err
	}
	if s.hessian != nil && step%s.hessianEvery == 0 {
		if _, err := s.hessian.Exec(args...); err != nil {
			return res, fmt.Errorf("curvature update: %w", err)
		}
	}
	return res, nil
}

// Forward runs the model without dropout and returns its outputs on the host.
func (s *Stepper) Forward(b tasks.Batch) (out map[string]tensor.Tensor, err error) {
	defer recoverAs(&err, "forward pass")
	args := s.modelArgs(b)
	outs, err := s.infer.Exec(args...)
	if err != nil {
		return nil, err
	}
	return s.hostOutputs(b, outs)
}

func (s *Stepper) modelArgs(b tasks.Batch) []any {
	args := make([]any, 0, len(s.model.Inputs)+len(b.Targets)+2)
	for _, name := range s.model.Inputs {
		args = append(args, deviceTensor(b.Inputs[name]))
	}
	return args
}

// hostOutputs copies the outputs of a step on batch b to the host and checks them against the
// task's signature, so that metrics never index past what the model really returned.
func (s *Stepper) hostOutputs(b tasks.Batch, outs []*tensors.Tensor) (map[string]tensor.Tensor, error) {
	m := make(map[string]tensor.Tensor, len(outs))
	for i, t := range outs {
		ht, err := hostTensor(t)
		if err != nil {
			return nil, err
		}
		m[s.model.Outputs[i]] = ht
	}
	if s.task == nil {
		return m, nil
	}
	if err := s.task.Signature().CheckTensors(b.Inputs, m); err != nil {
		return nil, fmt.Errorf("task %s: %w", s.task.Name(), err)
	}
	return m, nil
}

func (s *Stepper) inputMap(ins []*graph.Node) map[string]*graph.Node {
	m := make(map[string]*graph.Node, len(s.model.Inputs))
	for i, name := range s.model.Inputs {
		m[name] = ins[i]
	}
	return m
}

func (s *Stepper) outputMap(outs []*graph.Node) map[string]*graph.Node {
	m := make(map[string]*graph.Node, len(outs))
	for i, name := range s.model.Outputs {
		m[name] = outs[i]
	}
	return m
}

func (s *Stepper) inferGraph(ctx *context.Context, ins []*graph.Node) []*graph.Node {
	return s.model.Infer.CallGraph(ctx, ins[0].Graph(), s.inputMap(ins), s.model.Outputs...)
}

// forward builds the training forward pass and loss: inputs, targets, step and learning rates
// come in the train step's argument order; stats are the updated running statistics
// (Model.Stats order). With sample set, the targets are replaced by draws
// from the model's own predictive distribution (for curvature estimates).
func (s *Stepper) forward(ctx *context.Context, ins []*graph.Node, sample bool) (loss *graph.Node, outs []*graph.Node, in optim.StepInputs, terms *graph.Node, stats []*graph.Node) {
	g := ins[0].Graph()
	nIn := len(s.model.Inputs)
	inputs := s.inputMap(ins[:nIn])
	targets := map[string]*graph.Node{}
	for i, name := range s.targets {
		targets[name] = ins[nIn+i]
	}
	in = optim.StepInputs{Step: ins[nIn+len(s.targets)], LR: ins[nIn+len(s.targets)+1]}

	// Dropout: a fresh keep-mask per site and step, drawn from the context's seeded RNG.
	for i, shape := range s.dropoutShapes(ctx, ins[:nIn]) {
		site := s.model.Sites[i]
		keep := graph.GreaterOrEqual(ctx.RandomUniform(g, shape), graph.Scalar(g, dtypes.Float32, site.Ratio))
		scale := graph.Scalar(g, dtypes.Float32, 1/(1-site.Ratio))
		inputs[site.Mask] = graph.Mul(graph.ConvertDType(keep, dtypes.Float32), scale)
	}

	// The updated BatchNormalization statistics come after the model's outputs.
	all := callGraph(s.model.Train, ctx, g, inputs, append(append([]string{}, s.model.Outputs...), s.model.statTensors()...)...)
	outs, stats = all[:len(s.model.Outputs)], all[len(s.model.Outputs):]
	if sample {
		targets, terms = s.task.(tasks.TargetSampler).SampleTargets(ctx, s.outputMap(outs), targets)
	}
	loss = s.task.Loss(g, s.outputMap(outs), targets)
	if loss.DType() != dtypes.Float32 {
		loss = graph.ConvertDType(loss, dtypes.Float32)
	}
	return loss, outs, in, terms, stats
}

func (s *Stepper) paramNodes(g *graph.Graph) []*graph.Node {
	nodes := make([]*graph.Node, len(s.params))
	for i, p := range s.params {
		nodes[i] = p.Var.ValueGraph(g)
	}
	return nodes
}

func (s *Stepper) trainGraph(ctx *context.Context, ins []*graph.Node) []*graph.Node {
	loss, outs, in, _, stats := s.forward(ctx, ins, false)
	grads := graph.Gradient(loss, s.paramNodes(loss.Graph())...)
	if s.clipVal > 0 {
		grads = optim.ClipGradients(grads, s.clipAlg, s.clipVal)
	}
	s.opt.Update(ctx.In("optimizer").Checked(false), in, s.params, grads)
	s.model.assignStats(stats)
	return append([]*graph.Node{loss}, outs...)
}

// hessianGraph feeds an optimizer's curvature estimate (sophia): the gradient of the loss
// against targets sampled from the model itself (the Gauss-Newton-Bartlett estimator), unclipped.
func (s *Stepper) hessianGraph(ctx *context.Context, ins []*graph.Node) *graph.Node {
	// Curvature estimates leave the running statistics alone: only train steps move them.
	loss, _, in, terms, _ := s.forward(ctx, ins, true)
	grads := graph.Gradient(loss, s.paramNodes(loss.Graph())...)
	s.opt.(optim.CurvatureEstimator).UpdateHessian(ctx.In("optimizer").Checked(false), in, s.params,
		optim.HessianInputs{Grads: grads, BatchSize: terms})
	return loss
}

// dropoutShapes finds the shape of each dropout site's input for the current input shapes by
// building (never compiling) the inference graph on a scratch graph.
func (s *Stepper) dropoutShapes(ctx *context.Context, ins []*graph.Node) []shapes.Shape {
	if len(s.model.Sites) == 0 {
		return nil
	}
	pg := graph.NewGraph(s.backend, "dropout-shapes")
	defer pg.Finalize()
	m := map[string]*graph.Node{}
	for i, name := range s.model.Inputs {
		m[name] = graph.Parameter(pg, name, ins[i].Shape())
	}
	names := make([]string, len(s.model.Sites))
	for i, site := range s.model.Sites {
		names[i] = site.Input
	}
	nodes := s.model.Infer.CallGraph(ctx, pg, m, names...)
	out := make([]shapes.Shape, len(nodes))
	for i, n := range nodes {
		out[i] = n.Shape()
	}
	return out
}
