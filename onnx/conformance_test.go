package onnx

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	gomlxonnx "github.com/gomlx/onnx-gomlx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
)

// The conformance test runs ONNX's own backend node tests (Debian package libonnx-testdata: one
// folder per test with model.onnx and test_data_set_0/{input,output}_<k>.pb) through what
// training uses: Parse, Validate, ForImport, onnx-gomlx and fob's pure-Go backend. The tests
// that cannot pass are listed with their reason in testdata/conformance_unsupported.txt; any
// other failure, a listed test that passes, or a listed test failing for another kind of reason
// fails the suite. `go test ./onnx -run TestConformance -conformance.update` rewrites the list
// (keeping the reasons of tests still listed); review the diff before committing it.

// conformanceDir is where Debian's libonnx-testdata installs the node tests.
const conformanceDir = "/usr/share/libonnx-testdata/data/node"

// conformanceList is the committed list of expected failures.
const conformanceList = "testdata/conformance_unsupported.txt"

var (
	updateConformance = flag.Bool("conformance.update", false, "rewrite "+conformanceList+" from this run")
	conformanceOnly   = flag.String("conformance.run", "", "run only the node tests whose name contains this")
)

// conformanceTimeout bounds one node test; a test that takes longer counts as failed (its
// goroutine is left behind, the suite goes on).
const conformanceTimeout = 20 * time.Second

// Failure kinds, from the first stage that failed. The list records the kind of each expected
// failure, so that a test moving from, say, "op" to "values" fails the suite.
const (
	kindParse    = "parse"    // fob's Parse rejects the file
	kindValidate = "validate" // fob's Validate rejects the graph
	kindType     = "type"     // non-tensor inputs/outputs (sequence, optional, map)
	kindDType    = "dtype"    // an element type GoMLX has no dtype for (string, float8, ...)
	kindOp       = "op"       // ForImport: an op or an op mode neither onnx-gomlx nor fob's lowering has
	kindLower    = "lower"    // ForImport: another error
	kindImport   = "import"   // onnx-gomlx fails (or panics) parsing or building the graph
	kindRun      = "run"      // running the compiled graph fails
	kindValues   = "values"   // wrong output values or shapes
	kindTimeout  = "timeout"  // the test ran past conformanceTimeout
)

// conformanceResult is the outcome of one node test: kind is "" when it passed.
type conformanceResult struct {
	kind, detail string
}

func failed(kind, format string, args ...any) conformanceResult {
	return conformanceResult{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// tolerances are the rtol, atol of ONNX's backend tests (float32), widened for the tests
// whose reference values come from float64 computations that float32 cannot reproduce more
// closely.
var tolerances = map[string][2]float64{
	"": {1e-3, 1e-7},
}

// runConformanceCase runs one node test folder.
func runConformanceCase(dir string, backend backends.Backend) conformanceResult {
	raw, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return failed(kindParse, "%v", err)
	}
	m, err := Parse(raw)
	if err != nil {
		return failed(kindParse, "%v", err)
	}
	g := m.GetGraph()
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, vi := range append(append([]*onnxpb.ValueInfoProto{}, g.GetInput()...), g.GetOutput()...) {
		if inits[vi.GetName()] {
			continue
		}
		tt := vi.GetType().GetTensorType()
		if tt == nil {
			return failed(kindType, "%q is not a tensor (%s)", vi.GetName(), typeKind(vi.GetType()))
		}
		if _, ok := gomlxDType(tt.GetElemType()); !ok {
			return failed(kindDType, "%q has element type %s", vi.GetName(), onnxpb.TensorProto_DataType(tt.GetElemType()))
		}
	}
	if err := Validate(m); err != nil {
		return failed(kindValidate, "%v", err)
	}

	// Inputs and expected outputs, by position (input_<k> is the k-th non-initializer input).
	var inNames []string
	for _, vi := range g.GetInput() {
		if !inits[vi.GetName()] {
			inNames = append(inNames, vi.GetName())
		}
	}
	inputs := map[string]*tensors.Tensor{}
	for k, name := range inNames {
		t, err := readTensorFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		if err != nil {
			return failed(kindType, "input %q: %v", name, err)
		}
		inputs[name] = t
	}
	want := make([]numbers, len(g.GetOutput()))
	for k := range want {
		t, err := readTensorFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("output_%d.pb", k)))
		if err == nil {
			want[k], err = numbersOf(t)
		}
		if err != nil {
			return failed(kindType, "output %q: %v", g.GetOutput()[k].GetName(), err)
		}
	}

	m, err = withStaticInputs(m, inNames, dir)
	if err != nil {
		return failed(kindType, "%v", err)
	}
	// fob's shape inference (which Validate trusts) must agree with the expected outputs.
	opset := int64(0)
	for _, o := range m.GetOpsetImport() {
		if normDomain(o.GetDomain()) == "" {
			opset = o.GetVersion()
		}
	}
	si := inferOutputShapes(m.GetGraph(), opset)
	for k, out := range g.GetOutput() {
		have := shape{}
		for _, d := range want[k].shape {
			have = append(have, fixed(int64(d)))
		}
		if s := si.shapes[out.GetName()]; s.known() && !compatible(s, have) {
			return failed(kindValues, "output %q: fob's shape inference gives %s, the expected output has %s", out.GetName(), s, have)
		}
	}
	low, _, err := ForImport(m, ImportOptions{})
	if err != nil {
		if strings.Contains(err.Error(), "is not supported for training") {
			return failed(kindOp, "%v", err)
		}
		return failed(kindLower, "%v", err)
	}
	got, built, err := runLowered(low, inputs, backend)
	if err != nil {
		if strings.Contains(err.Error(), "unsupported/unknown ONNX data type") {
			return failed(kindDType, "onnx-gomlx: %v", err)
		}
		if !built {
			return failed(kindImport, "%v", err)
		}
		return failed(kindRun, "%v", err)
	}
	tol := tolerances[filepath.Base(dir)]
	if tol == [2]float64{} {
		tol = tolerances[""]
	}
	for k, out := range g.GetOutput() {
		if err := allClose(got[k], want[k], tol[0], tol[1]); err != nil {
			return failed(kindValues, "output %q: %v", out.GetName(), err)
		}
	}
	return conformanceResult{}
}

// staticPositions are the node inputs that onnx-gomlx (and fob's lowering) need as constants:
// shapes, axes, pads, slice bounds and the like. Exporters write them as Constant nodes or
// initializers; the node tests feed many of them as graph inputs.
var staticPositions = map[string][]int{
	"Reshape": {1}, "Expand": {1}, "Tile": {1}, "Unsqueeze": {1}, "Squeeze": {1}, "ConstantOfShape": {0},
	"Range": {0, 1, 2}, "CumSum": {1}, "Trilu": {1}, "Split": {1}, "Pad": {1, 2, 3}, "Slice": {1, 2, 3, 4},
	"ReduceSum": {1}, "ReduceMean": {1}, "ReduceMax": {1}, "ReduceMin": {1}, "ReduceProd": {1},
	"ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSum": {1}, "ReduceLogSumExp": {1}, "ReduceSumSquare": {1},
	"TopK": {1}, "OneHot": {1}, "Resize": {1, 2, 3}, "Upsample": {1}, "Dropout": {1, 2},
}

// withStaticInputs returns m with each graph input that some node reads at a static position
// (see staticPositions) replaced by a Constant node holding the test's value for it, as an
// exporter would write it.
func withStaticInputs(m *onnxpb.ModelProto, inNames []string, dir string) (*onnxpb.ModelProto, error) {
	static := map[string]bool{}
	for _, n := range m.GetGraph().GetNode() {
		for _, k := range staticPositions[n.GetOpType()] {
			if k < len(n.GetInput()) {
				static[n.GetInput()[k]] = true
			}
		}
	}
	var consts []*onnxpb.NodeProto
	for k, name := range inNames {
		if !static[name] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		if err != nil {
			return nil, err
		}
		tp := &onnxpb.TensorProto{}
		if err := proto.Unmarshal(b, tp); err != nil {
			return nil, fmt.Errorf("input %q: %w", name, err)
		}
		tp.Name = nil
		consts = append(consts, &onnxpb.NodeProto{Name: proto.String("static." + name), OpType: proto.String("Constant"),
			Output: []string{name}, Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"),
				Type: onnxpb.AttributeProto_TENSOR.Enum(), T: tp}}})
	}
	if len(consts) == 0 {
		return m, nil
	}
	c := proto.Clone(m).(*onnxpb.ModelProto)
	g := c.Graph
	var inputs []*onnxpb.ValueInfoProto
	for _, vi := range g.Input {
		if !static[vi.GetName()] {
			inputs = append(inputs, vi)
		}
	}
	g.Input = inputs
	g.Node = append(consts, g.Node...)
	return c, nil
}

// runLowered imports the lowered model with onnx-gomlx and runs it; built reports whether the
// GoMLX graph was built (so an error is a run-time one).
func runLowered(low *onnxpb.ModelProto, inputs map[string]*tensors.Tensor, backend backends.Backend) (out []numbers, built bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return runLoweredNoRecover(low, inputs, backend)
}

func runLoweredNoRecover(low *onnxpb.ModelProto, inputs map[string]*tensors.Tensor, backend backends.Backend) (out []numbers, built bool, err error) {
	b, err := Marshal(low)
	if err != nil {
		return nil, false, err
	}
	gm, err := gomlxonnx.Parse(b)
	if err != nil {
		return nil, false, err
	}
	ctx := context.New()
	if err := gm.VariablesToContext(ctx); err != nil {
		return nil, false, err
	}
	names := gm.InputsNames
	args := make([]any, len(names))
	for i, n := range names {
		t, ok := inputs[n]
		if !ok {
			return nil, false, fmt.Errorf("no test data for input %q", n)
		}
		args[i] = t
	}
	call := func(ctx *context.Context, g *graph.Graph, ins []*graph.Node) []*graph.Node {
		feed := map[string]*graph.Node{}
		for i, n := range names {
			feed[n] = ins[i]
		}
		outs := gm.CallGraph(ctx, g, feed, gm.OutputsNames...)
		built = true
		return outs
	}
	var exec *context.Exec
	if len(names) == 0 {
		exec, err = context.NewExec(backend, ctx, func(ctx *context.Context, g *graph.Graph) []*graph.Node { return call(ctx, g, nil) })
	} else {
		exec, err = context.NewExec(backend, ctx, func(ctx *context.Context, ins []*graph.Node) []*graph.Node { return call(ctx, ins[0].Graph(), ins) })
	}
	if err != nil {
		return nil, false, err
	}
	res, err := exec.Exec(args...)
	if err != nil {
		return nil, built, err
	}
	for _, t := range res {
		v, err := numbersOf(t)
		if err != nil {
			return nil, true, err
		}
		out = append(out, v)
	}
	return out, true, nil
}

func typeKind(t *onnxpb.TypeProto) string {
	switch {
	case t == nil:
		return "no type"
	case t.GetSequenceType() != nil:
		return "sequence"
	case t.GetOptionalType() != nil:
		return "optional"
	case t.GetMapType() != nil:
		return "map"
	case t.GetSparseTensorType() != nil:
		return "sparse tensor"
	}
	return "unknown type"
}

func readTensorFile(path string) (*tensors.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return tensorFromProto(tp)
}

// expectedFailures reads the committed list: "test_name kind: reason" per line, # comments.
func expectedFailures(path string) (map[string]conformanceResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]conformanceResult{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, rest, _ := strings.Cut(s, " ")
		kind, reason, ok := strings.Cut(strings.TrimSpace(rest), ": ")
		if !ok || kind == "" || reason == "" {
			return nil, fmt.Errorf("%s:%d: want \"test_name kind: reason\", got %q", path, line, s)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", path, line, name)
		}
		out[name] = conformanceResult{kind: kind, detail: reason}
	}
	return out, sc.Err()
}

// conformanceHeader heads the generated list.
const conformanceHeader = `# ONNX node conformance tests (libonnx-testdata) that fob's import path cannot pass, with the kind
# of failure and the reason. Kinds: op (neither onnx-gomlx nor fob's lowering has the op or
# this mode of it), dtype (no GoMLX dtype), type (sequence/optional inputs), import (onnx-gomlx
# fails building the graph), run, values (wrong values), lower, validate, parse, timeout.
# TestConformance fails when a test not listed here fails, when a listed test passes, or when a
# listed test fails with another kind. Regenerate with
#   go test ./onnx -run TestConformance -conformance.update
# and review the diff; replace generated reasons by better ones where they help.
`

// conformanceCases lists the node test folders under dir; when there are none the error says
// how to install them.
func conformanceCases(dir string) ([]string, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("ONNX conformance data not found (%v): install Debian's libonnx-testdata (apt-get install libonnx-testdata)", err)
	}
	dirs, err := filepath.Glob(filepath.Join(dir, "test_*"))
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("no node tests under %s (%v): reinstall libonnx-testdata (apt-get install --reinstall libonnx-testdata)", dir, err)
	}
	return dirs, nil
}

// TestConformanceMissingData: without the package the suite fails saying what to install.
func TestConformanceMissingData(t *testing.T) {
	_, err := conformanceCases(filepath.Join(t.TempDir(), "node"))
	if err == nil || !strings.Contains(err.Error(), "apt-get install libonnx-testdata") {
		t.Fatalf("error %v, want it to name apt-get install libonnx-testdata", err)
	}
	if _, err := conformanceCases(t.TempDir()); err == nil || !strings.Contains(err.Error(), "apt-get install --reinstall libonnx-testdata") {
		t.Fatalf("error %v for an empty folder", err)
	}
}

// TestConformance: see the comment at the top of this file.
func TestConformance(t *testing.T) {
	dirs, err := conformanceCases(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	expected, err := expectedFailures(conformanceList)
	if err != nil && !(*updateConformance && errors.Is(err, os.ErrNotExist)) {
		t.Fatal(err)
	}
	backend := goBackend(t)
	// GoMLX frees device buffers from finalizers; a low GC target keeps 900 compiled graphs from
	// piling up memory.
	defer debug.SetGCPercent(debug.SetGCPercent(50))

	start := time.Now()
	results := map[string]conformanceResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan string)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dir := range jobs {
				res := runWithTimeout(dir, backend)
				mu.Lock()
				results[filepath.Base(dir)] = res
				mu.Unlock()
			}
		}()
	}
	ran := 0
	for _, dir := range dirs {
		if *conformanceOnly != "" && !strings.Contains(filepath.Base(dir), *conformanceOnly) {
			continue
		}
		ran++
		jobs <- dir
	}
	close(jobs)
	wg.Wait()

	var pass, listed int
	var problems []string
	names := make([]string, 0, len(results))
	for name := range results {
		names = append(names, name)
	}
	sort.Strings(names)
	kinds := map[string]int{}
	for _, name := range names {
		res, exp := results[name], expected[name]
		listedHere := exp.kind != ""
		switch {
		case res.kind == "" && !listedHere:
			pass++
		case res.kind == "" && listedHere:
			problems = append(problems, fmt.Sprintf("%s passes now: remove it from %s", name, conformanceList))
		case !listedHere:
			problems = append(problems, fmt.Sprintf("%s fails (%s): %s", name, res.kind, res.detail))
		case res.kind != exp.kind:
			problems = append(problems, fmt.Sprintf("%s is listed as %s (%s) but fails as %s: %s", name, exp.kind, exp.detail, res.kind, res.detail))
		default:
			listed++
			kinds[res.kind]++
		}
	}
	for name, exp := range expected {
		if _, ok := results[name]; !ok && *conformanceOnly == "" {
			problems = append(problems, fmt.Sprintf("%s is listed (%s) but no such node test exists", name, exp.kind))
		}
	}
	t.Logf("ONNX node conformance: %d pass, %d expected-unsupported %v, %d total, %s", pass, listed, kinds, ran, time.Since(start).Round(time.Second))

	if *updateConformance {
		writeConformanceList(t, names, results, expected)
		return
	}
	if len(problems) > 0 {
		t.Errorf("%d node tests differ from %s:\n  %s", len(problems), conformanceList, strings.Join(problems, "\n  "))
	}
}

// runWithTimeout runs one node test with a panic guard and a time limit.
func runWithTimeout(dir string, backend backends.Backend) conformanceResult {
	done := make(chan conformanceResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- failed(kindImport, "panic: %v", r)
			}
		}()
		done <- runConformanceCase(dir, backend)
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(conformanceTimeout):
		return failed(kindTimeout, "ran past %s", conformanceTimeout)
	}
}

// writeConformanceList writes the expected failures of this run, keeping listed reasons.
func writeConformanceList(t *testing.T, names []string, results, expected map[string]conformanceResult) {
	var b strings.Builder
	b.WriteString(conformanceHeader)
	for _, name := range names {
		res := results[name]
		if res.kind == "" {
			continue
		}
		reason := shortReason(res)
		if exp := expected[name]; exp.kind == res.kind {
			reason = exp.detail
		}
		fmt.Fprintf(&b, "%s %s: %s\n", name, res.kind, reason)
	}
	if err := os.WriteFile(conformanceList, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", conformanceList)
}

// shortReason condenses an error into a one-line reason for the list.
func shortReason(r conformanceResult) string {
	s := strings.Join(strings.Fields(r.detail), " ")
	if i := strings.Index(s, "; supported: "); i >= 0 {
		s = s[:i]
	}
	switch r.kind {
	case kindOp:
		// "onnx: op X (node N) is not supported for training<why>[; op Y ...]"
		if m := opReason.FindStringSubmatch(s); m != nil {
			if m[2] == "" {
				return m[1] + ": in neither onnx-gomlx v0.3.4 nor fob's lowering"
			}
			return m[1] + m[2]
		}
	case kindType:
		return "non-tensor values (" + s + "); onnx-gomlx imports tensors only"
	case kindImport, kindRun:
		if strings.Contains(s, "reflect: slice index out of range") || strings.Contains(s, "index out of range [0] with length 0") {
			return "zero-size tensor, which GoMLX cannot hold (" + s + ")"
		}
		s = "onnx-gomlx: " + s
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

var opReason = regexp.MustCompile(`op (\S+) \(node [^)]*\) is not supported for training([^;]*)`)
