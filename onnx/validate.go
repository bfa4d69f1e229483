package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fob-go/fob/onnx/onnxpb"
)

// MaxOpset is the newest default-domain (ai.onnx) opset Validate accepts: the newest that
// onnxruntime 1.30, which scores exported models, officially supports (it refuses 27).
const MaxOpset = 26

// knownDomains are the operator-set domains Validate accepts in opset_import besides those of
// the model's own functions: ONNX's and onnxruntime's contrib-op domains (onnxruntime runs
// those; training supports the default domain only, which ForImport reports per node).
var knownDomains = map[string]bool{
	"": true, "ai.onnx.ml": true, "ai.onnx.training": true, "ai.onnx.preview.training": true,
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.experimental": true,
	"com.ms.internal.nhwc": true,
}

// maxProblems caps how many problems one Validate error lists.
const maxProblems = 8

// Validate checks a model the way onnx.checker does before fob trains or scores it, so that a
// malformed file is a clear error rather than a crash (a cycle overflows onnx-gomlx's recursive
// graph builder) or wrong results:
//   - opset_import: no domain twice, every domain known (see knownDomains) or the domain of a
//     model-local function, the default-domain opset within 1..MaxOpset, every node's domain
//     imported;
//   - names: graph inputs, initializers and node outputs each defined once (an initializer may
//     also be listed as a graph input, as old exporters do, with the same type and shape);
//     every node input defined by an earlier node, a graph input or an initializer (so the
//     nodes are in topological order; a cycle is reported as such, with its nodes); graph
//     outputs listed once and produced; subgraphs (If/Loop/Scan bodies) likewise, with the
//     enclosing graphs' names in scope;
//   - types: element types set and valid; initializer data matching their dims and element
//     type (a truncated file often fails here); value_info and graph input/output entries that
//     name an initializer agreeing with it;
//   - shapes: each graph output's declared shape agreeing with the shape inferred from the
//     graph, where both are known (rank, and fixed dims).
//
// The error lists the problems found (up to 8), each naming the node, op or tensor and, where
// one exists, the fix.
func Validate(m *onnxpb.ModelProto) error {
	if m == nil {
		return fmt.Errorf("onnx: Validate of a nil model")
	}
	v := &validator{opsets: map[string]int64{}}
	g := m.GetGraph()
	if g == nil {
		return &invalidErr{"the model has no graph"}
	}
	v.model(m)
	if len(v.problems) == 0 {
		v.graph(g, "", nil, true)
	}
	if len(v.problems) == 0 {
		v.outputShapes(g)
	}
	if len(v.problems) == 0 {
		return nil
	}
	list := v.problems
	more := ""
	if len(list) > maxProblems {
		more = fmt.Sprintf("; and %d more", len(list)-maxProblems)
		list = list[:maxProblems]
	}
	return &invalidErr{fmt.Sprintf("graph %q: %s%s", g.GetName(), strings.Join(list, "; "), more)}
}

type validator struct {
	opsets   map[string]int64 // imported domain ("" for ai.onnx) -> version
	problems []string
}

func (v *validator) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

// normDomain maps "ai.onnx" to "", its other spelling.
func normDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

func domainLabel(d string) string {
	if d == "" {
		return "ai.onnx (default)"
	}
	return strconv.Quote(d)
}

// model checks the model-level fields: IR version and operator sets.
func (v *validator) model(m *onnxpb.ModelProto) {
	if m.GetIrVersion() <= 0 {
		v.add("ir_version is missing; the exporter must set it")
	}
	functions := map[string]bool{}
	for _, f := range m.GetFunctions() {
		functions[normDomain(f.GetDomain())] = true
	}
	if len(m.GetOpsetImport()) == 0 {
		v.add("opset_import is missing; the exporter must name the opset it used")
	}
	for _, o := range m.GetOpsetImport() {
		d := normDomain(o.GetDomain())
		if _, dup := v.opsets[d]; dup {
			v.add("opset_import lists domain %s twice", domainLabel(d))
			continue
		}
		v.opsets[d] = o.GetVersion()
		switch {
		case !knownDomains[d] && !functions[d]:
			v.add("opset_import names domain %q, whose ops neither fob nor onnxruntime knows (custom ops are not supported)", d)
		case o.GetVersion() < 1:
			v.add("opset_import gives domain %s version %d; versions start at 1", domainLabel(d), o.GetVersion())
		case d == "" && o.GetVersion() > MaxOpset:
			v.add("opset %d of the default domain is newer than %d, the newest onnxruntime 1.30 supports; export with opset_version <= %d", o.GetVersion(), MaxOpset, MaxOpset)
		}
	}
}

// definition describes what defined a name, for error messages.
type definition struct {
	what string
	node int // index of the defining node in its graph, -1 for inputs and initializers
}

// graph checks one graph; where prefixes its problems ("" for the main graph, which the error
// names; the path to a subgraph otherwise), outer holds the names visible from enclosing
// graphs (nil for the main graph), main is true for the model's graph (whose inputs and
// outputs need types).
func (v *validator) graph(g *onnxpb.GraphProto, where string, outer map[string]bool, main bool) {
	defined := map[string]definition{}
	define := func(name string, d definition) {
		if prev, dup := defined[name]; dup {
			v.add("%s%q is defined twice: by %s and by %s", where, name, prev.what, d.what)
			return
		}
		defined[name] = d
	}

	inputs := map[string]*onnxpb.ValueInfoProto{}
	for i, vi := range g.GetInput() {
		name := vi.GetName()
		if name == "" {
			v.add("%sgraph input %d has no name", where, i)
			continue
		}
		v.valueType(where, "graph input", vi, main)
		inputs[name] = vi
		define(name, definition{what: "graph input", node: -1})
	}
	inits := map[string]*onnxpb.TensorProto{}
	for i, t := range g.GetInitializer() {
		name := t.GetName()
		if name == "" {
			v.add("%sinitializer %d has no name", where, i)
			continue
		}
		if _, dup := inits[name]; dup {
			v.add("%sinitializer %q is defined twice", where, name)
			continue
		}
		inits[name] = t
		v.tensorData(where, "initializer", t)
		if vi, ok := inputs[name]; ok {
			// Old exporters list initializers as inputs too: allowed when they agree.
			v.agrees(where, vi, "graph input", t)
			continue
		}
		define(name, definition{what: "initializer", node: -1})
	}
	for i, st := range g.GetSparseInitializer() {
		name := st.GetValues().GetName()
		if name == "" {
			v.add("%ssparse initializer %d has no name", where, i)
			continue
		}
		if _, ok := inputs[name]; !ok {
			define(name, definition{what: "sparse initializer", node: -1})
		}
	}

	// Producers of every node output, to tell a node reading a later node's output (unsorted or
	// cyclic) from one reading a name nothing defines.
	producer := producers(g)
	// The first node reading a name defined only by a later node: the graph is unsorted or,
	// if cyclic (decided after the loop), has a cycle.
	var order string
	for i, n := range g.GetNode() {
		label := fmt.Sprintf("%snode %q (%s)", where, nodeLabel(n), n.GetOpType())
		if n.GetOpType() == "" {
			v.add("%snode %q has no op_type", where, nodeLabel(n))
		}
		d := normDomain(n.GetDomain())
		if _, ok := v.opsets[d]; !ok {
			v.add("%s uses domain %s, which opset_import does not import", label, domainLabel(d))
		}
		for k, in := range n.GetInput() {
			if in == "" {
				continue // an omitted optional input
			}
			if _, ok := defined[in]; ok || outer[in] {
				continue
			}
			j, later := producer[in]
			switch {
			case later && j >= i:
				if order == "" {
					order = fmt.Sprintf("%s reads %q (input %d), which node %q (%s) defines after it; ONNX requires nodes in topological order (re-export, or sort them with onnx's tools)",
						label, in, k, nodeLabel(g.GetNode()[j]), g.GetNode()[j].GetOpType())
				}
			default:
				v.add("%s reads %q (input %d), which no graph input, initializer or earlier node defines", label, in, k)
			}
		}
		attrs := map[string]bool{}
		for _, a := range n.GetAttribute() {
			if attrs[a.GetName()] {
				v.add("%s has attribute %q twice", label, a.GetName())
			}
			attrs[a.GetName()] = true
			subs := a.GetGraphs()
			if a.GetG() != nil {
				subs = append([]*onnxpb.GraphProto{a.GetG()}, subs...)
			}
			for _, sub := range subs {
				scope := map[string]bool{}
				for name := range outer {
					scope[name] = true
				}
				for name := range defined {
					scope[name] = true
				}
				v.graph(sub, fmt.Sprintf("%s attribute %q (subgraph %q): ", label, a.GetName(), sub.GetName()), scope, false)
			}
			if t := a.GetT(); t != nil {
				v.tensorData(label+": ", fmt.Sprintf("attribute %q tensor", a.GetName()), t)
			}
		}
		for _, o := range n.GetOutput() {
			if o != "" {
				define(o, definition{what: fmt.Sprintf("node %q (%s)", nodeLabel(n), n.GetOpType()), node: i})
			}
		}
	}

	if order != "" {
		if start, ok := cycleNode(g); ok {
			v.add("%sthe graph has a cycle: %s; ONNX graphs must be acyclic (check the exporter)", where, findCycle(g, start))
		} else {
			v.add("%s", order)
		}
	}

	listed := map[string]bool{}
	for i, vi := range g.GetOutput() {
		name := vi.GetName()
		if name == "" {
			v.add("%sgraph output %d has no name", where, i)
			continue
		}
		if listed[name] {
			v.add("%sgraph output %q is listed twice; each output must be listed once", where, name)
			continue
		}
		listed[name] = true
		v.valueType(where, "graph output", vi, main)
		if _, ok := defined[name]; !ok && !outer[name] {
			if _, ok := inits[name]; !ok {
				v.add("%sgraph output %q is not produced by any node, graph input or initializer", where, name)
			}
		}
		if t, ok := inits[name]; ok {
			v.agrees(where, vi, "graph output", t)
		}
	}
	for _, vi := range g.GetValueInfo() {
		v.valueType(where, "value_info", vi, false)
		if t, ok := inits[vi.GetName()]; ok {
			v.agrees(where, vi, "value_info", t)
		}
	}
}

// producers maps each node output name to the index of the first node writing it.
func producers(g *onnxpb.GraphProto) map[string]int {
	producer := map[string]int{}
	for i, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			if _, ok := producer[o]; !ok && o != "" {
				producer[o] = i
			}
		}
	}
	return producer
}

// cycleNode returns a node on a cycle of g's "reads from" graph, if there is one: Kahn's
// algorithm removes every node not on or behind a cycle; walking producers from one that is
// left must come back to a node it has seen, which lies on a cycle.
func cycleNode(g *onnxpb.GraphProto) (int, bool) {
	nodes := g.GetNode()
	producer := producers(g)
	indeg := make([]int, len(nodes))
	consumers := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if j, ok := producer[in]; ok {
				indeg[i]++
				consumers[j] = append(consumers[j], i)
			}
		}
	}
	var ready []int
	for i, d := range indeg {
		if d == 0 {
			ready = append(ready, i)
		}
	}
	removed := make([]bool, len(nodes))
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		removed[i] = true
		for _, c := range consumers[i] {
			if indeg[c]--; indeg[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	for start := range nodes {
		if removed[start] {
			continue
		}
		seen := map[int]bool{}
		for i := start; ; {
			if seen[i] {
				return i, true
			}
			seen[i] = true
			next := -1
			for _, in := range nodes[i].GetInput() {
				if j, ok := producer[in]; ok && !removed[j] {
					next = j
					break
				}
			}
			if next < 0 {
				break // cannot happen: a node left by Kahn's algorithm has a producer left
			}
			i = next
		}
	}
	return 0, false
}

// findCycle looks for a cycle through node start (following inputs to their producers) and
// describes it, e.g. `node "a" (Add) reads "y" from node "b" (Relu), which reads "x" from node
// "a"`; "" when start is on no cycle. The search is iterative: no stack overflow on deep graphs.
func findCycle(g *onnxpb.GraphProto, start int) string {
	nodes := g.GetNode()
	producer := producers(g)
	// Depth-first search over "reads from" edges; via[i] is the (node, tensor) it was reached from.
	type edge struct {
		node   int
		tensor string
	}
	via := map[int]edge{}
	seen := map[int]bool{start: true}
	stack := []int{start}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, in := range nodes[i].GetInput() {
			j, ok := producer[in]
			if !ok {
				continue
			}
			if j == start {
				// Walk back from i to start: start reads ... from i, ..., i reads in from start.
				path := []edge{{start, in}}
				for k := i; k != start; k = via[k].node {
					path = append(path, edge{k, via[k].tensor})
				}
				var b strings.Builder
				for p := len(path) - 1; p >= 0; p-- {
					reader := nodes[path[(p+1)%len(path)].node]
					if p == len(path)-1 {
						fmt.Fprintf(&b, "node %q (%s)", nodeLabel(reader), reader.GetOpType())
					} else {
						b.WriteString(", which")
					}
					from := nodes[path[p].node]
					fmt.Fprintf(&b, " reads %q from node %q (%s)", path[p].tensor, nodeLabel(from), from.GetOpType())
				}
				return b.String()
			}
			if !seen[j] {
				seen[j] = true
				via[j] = edge{i, in}
				stack = append(stack, j)
			}
		}
	}
	return ""
}

// valueType checks a value_info entry: a known type; for tensors a valid element type (required
// on the main graph's inputs and outputs) and non-negative dims.
func (v *validator) valueType(where, what string, vi *onnxpb.ValueInfoProto, required bool) {
	t := vi.GetType()
	if t == nil || t.GetValue() == nil {
		if required {
			v.add("%s%s %q has no type; the exporter must declare it", where, what, vi.GetName())
		}
		return
	}
	tt := t.GetTensorType()
	if tt == nil {
		return // sequence, map, optional: fob's training rejects them later with its own error
	}
	switch et := tt.GetElemType(); {
	case et == 0 && required:
		v.add("%s%s %q has no element type; the exporter must declare it", where, what, vi.GetName())
	case et < 0:
		v.add("%s%s %q has invalid element type %d", where, what, vi.GetName(), et)
	}
	for i, d := range tt.GetShape().GetDim() {
		if d.GetDimValue() < 0 {
			v.add("%s%s %q dim %d is %d; sizes cannot be negative (use a symbolic dim_param for a dynamic size)", where, what, vi.GetName(), i, d.GetDimValue())
		}
	}
}

// agrees checks that the value_info entry vi of an initializer declares the initializer's
// element type and dims (where it declares them).
func (v *validator) agrees(where string, vi *onnxpb.ValueInfoProto, what string, t *onnxpb.TensorProto) {
	tt := vi.GetType().GetTensorType()
	if vi.GetType() == nil || vi.GetType().GetValue() == nil {
		return
	}
	if tt == nil {
		v.add("%s%s %q is an initializer but not declared as a tensor", where, what, vi.GetName())
		return
	}
	if et := tt.GetElemType(); et != 0 && et != t.GetDataType() {
		v.add("%s%s %q is declared %s but its initializer holds %s", where, what, vi.GetName(),
			dtypeName(et), dtypeName(t.GetDataType()))
	}
	if tt.GetShape() == nil {
		return
	}
	declared := shapeOfValueInfo(vi)
	if len(declared) != len(t.GetDims()) {
		v.add("%s%s %q is declared with shape %s but its initializer has dims %v", where, what, vi.GetName(), declared, t.GetDims())
		return
	}
	for i, d := range declared {
		if d.isFixed() && d.v != t.GetDims()[i] {
			v.add("%s%s %q is declared with shape %s but its initializer has dims %v", where, what, vi.GetName(), declared, t.GetDims())
			return
		}
	}
}

// elemSize is the byte size of one element in raw_data (0: not fixed, e.g. strings, or a type
// newer than this package's schema, whose size is not checked).
func elemSize(et onnxpb.TensorProto_DataType) int {
	switch et {
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_INT8, onnxpb.TensorProto_BOOL:
		return 1
	case onnxpb.TensorProto_UINT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return 2
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_COMPLEX64:
		return 8
	case onnxpb.TensorProto_COMPLEX128:
		return 16
	}
	return 0
}

// elemCount returns the number of elements dims describe, or an error on negative dims or a
// count past 2^40 (no real initializer is that large; it guards the arithmetic and allocations).
func elemCount(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("has negative dim %d", d)
		}
		if d > 0 && n > (1<<40)/d {
			return 0, fmt.Errorf("has dims %v, more than 2^40 elements", dims)
		}
		n *= d
	}
	return n, nil
}

// tensorData checks that a TensorProto's element type is set and its data matches its dims.
func (v *validator) tensorData(where, what string, t *onnxpb.TensorProto) {
	et := onnxpb.TensorProto_DataType(t.GetDataType())
	if et <= 0 {
		v.add("%s%s %q has no element type", where, what, t.GetName())
		return
	}
	n, err := elemCount(t.GetDims())
	if err != nil {
		v.add("%s%s %q %v", where, what, t.GetName(), err)
		return
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return // the data is in another file: checked by whoever reads it
	}
	var have, want int64
	unit := "values"
	switch {
	case t.GetRawData() != nil:
		size := elemSize(et)
		if size == 0 {
			return
		}
		have, want, unit = int64(len(t.GetRawData())), n*int64(size), "bytes of raw_data"
	default:
		want = n
		switch et {
		case onnxpb.TensorProto_FLOAT:
			have = int64(len(t.GetFloatData()))
		case onnxpb.TensorProto_COMPLEX64:
			have, want = int64(len(t.GetFloatData())), 2*n
		case onnxpb.TensorProto_DOUBLE:
			have = int64(len(t.GetDoubleData()))
		case onnxpb.TensorProto_COMPLEX128:
			have, want = int64(len(t.GetDoubleData())), 2*n
		case onnxpb.TensorProto_INT64:
			have = int64(len(t.GetInt64Data()))
		case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
			have = int64(len(t.GetUint64Data()))
		case onnxpb.TensorProto_STRING:
			have = int64(len(t.GetStringData()))
		case onnxpb.TensorProto_INT32, onnxpb.TensorProto_INT16, onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT16,
			onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
			have = int64(len(t.GetInt32Data()))
		default:
			return
		}
	}
	if have != want {
		v.add("%s%s %q holds %d %s, its dims %v of %s need %d (truncated or corrupt file?)",
			where, what, t.GetName(), have, unit, t.GetDims(), et, want)
	}
}

// outputShapes compares each graph output's declared shape with the shape inferred from the
// graph without it, where both are known.
func (v *validator) outputShapes(g *onnxpb.GraphProto) {
	if !panicsAreFindings.Load() {
		defer func() {
			if r := recover(); r != nil {
				v.add("inferring the output shapes failed (%v); this is a bug in fob's shape inference, please report it with the model", r)
			}
		}()
	}
	si := inferOutputShapes(g, v.opsets[""])
	producer := map[string]*onnxpb.NodeProto{}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
	}
	for _, o := range g.GetOutput() {
		declared, inferred := shapeOfValueInfo(o), si.shapes[o.GetName()]
		if !declared.known() || !inferred.known() || compatible(declared, inferred) {
			continue
		}
		by := ""
		if p := producer[o.GetName()]; p != nil {
			by = fmt.Sprintf(" (node %q (%s) computes it)", nodeLabel(p), p.GetOpType())
		}
		v.add("graph output %q is declared with shape %s but the graph computes shape %s%s; fix the declared output shape or the graph",
			o.GetName(), declared, inferred, by)
	}
}

// inferOutputShapes runs the shape inference over g as if its outputs declared no shapes
// (value_info entries for them included), so that what it finds for them comes from the graph.
func inferOutputShapes(g *onnxpb.GraphProto, opset int64) *shapeInference {
	isOutput := map[string]bool{}
	for _, o := range g.GetOutput() {
		isOutput[o.GetName()] = true
	}
	bare := &onnxpb.GraphProto{Node: g.GetNode(), Initializer: g.GetInitializer(), Input: g.GetInput()}
	for _, vi := range g.GetValueInfo() {
		if !isOutput[vi.GetName()] {
			bare.ValueInfo = append(bare.ValueInfo, vi)
		}
	}
	return inferShapes(bare, graphConsts(g), opset)
}

// compatible reports whether two shapes can describe the same tensor: equal rank and equal
// fixed dims (a symbolic or unknown dim matches anything).
func compatible(a, b shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].isFixed() && b[i].isFixed() && a[i].v != b[i].v {
			return false
		}
	}
	return true
}

// String renders a shape as [batch,10,?].
func (s shape) String() string {
	if s == nil {
		return "[unknown rank]"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		switch {
		case d.isFixed():
			parts[i] = strconv.FormatInt(d.v, 10)
		case d.p != "":
			parts[i] = d.p
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}
