package onnx

import (
	"fmt"
	"strings"

	"github.com/fob-go/fob/onnx/onnxpb"
)

// Rename is one graph input or output AdaptNames renamed.
type Rename struct {
	Kind     string // "input" or "output"
	From, To string
}

// AdaptNames lets an external model whose names are all that differ stand in for the task's:
// torch.onnx.export names a graph's tensors "input" and "output" (or numbers) unless told
// otherwise. When the task (want) has a single input and the model a single input of another
// name, that input is renamed to the task's, everywhere the graph refers to it (subgraphs
// included); outputs likewise. m is changed in place; the renames are returned for the caller
// to log. When the model has several inputs (or outputs) and none carries the task's name, it
// is ambiguous which one is meant: nothing is renamed and the error says how to name them at
// export. Tasks with several inputs are left to Check, which names what is missing.
func (want Signature) AdaptNames(m *onnxpb.ModelProto) ([]Rename, error) {
	got, err := SignatureOf(m)
	if err != nil {
		return nil, err
	}
	var plan []Rename
	for _, kind := range []struct {
		name      string
		want, got []TensorSpec
		flag      string
	}{
		{"input", want.Inputs, got.Inputs, "input_names"},
		{"output", want.Outputs, got.Outputs, "output_names"},
	} {
		if len(kind.want) != 1 || hasSpec(kind.got, kind.want[0].Name) {
			continue
		}
		w := kind.want[0].Name
		if len(kind.got) != 1 {
			names := make([]string, len(kind.got))
			for i, g := range kind.got {
				names[i] = fmt.Sprintf("%q", g.Name)
			}
			return nil, fmt.Errorf("onnx: the task expects one %s, %s, but the model has %d %ss (%s) and none is named %q, so which one is meant is ambiguous; export the model with %s=[%q] (torch.onnx.export) and no other %s",
				kind.name, kind.want[0], len(kind.got), kind.name, strings.Join(names, ", "), w, kind.flag, w, kind.name)
		}
		if used := definedNames(m.GetGraph()); used[w] {
			return nil, fmt.Errorf("onnx: the model's %s %q should be renamed to the task's %q, but the graph already uses %q for another tensor; export the model with %s=[%q]",
				kind.name, kind.got[0].Name, w, w, kind.flag, w)
		}
		plan = append(plan, Rename{Kind: kind.name, From: kind.got[0].Name, To: w})
	}
	if len(plan) == 2 && plan[0].From == plan[1].From {
		return nil, fmt.Errorf("onnx: the model's input is also its output %q; it cannot be renamed to both %q and %q", plan[0].From, plan[0].To, plan[1].To)
	}
	for _, r := range plan {
		renameValue(m.GetGraph(), r.From, r.To)
	}
	return plan, nil
}

func hasSpec(specs []TensorSpec, name string) bool {
	for _, s := range specs {
		if s.Name == name {
			return true
		}
	}
	return false
}

// definedNames lists every tensor name g declares or computes (inputs, initializers, node
// outputs, value_info), subgraphs included.
func definedNames(g *onnxpb.GraphProto) map[string]bool {
	used := map[string]bool{}
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		for _, vi := range g.GetInput() {
			used[vi.GetName()] = true
		}
		for _, t := range g.GetInitializer() {
			used[t.GetName()] = true
		}
		for _, vi := range g.GetValueInfo() {
			used[vi.GetName()] = true
		}
		for _, n := range g.GetNode() {
			for _, o := range n.GetOutput() {
				used[o] = true
			}
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil {
					walk(a.GetG())
				}
				for _, sg := range a.GetGraphs() {
					walk(sg)
				}
			}
		}
	}
	walk(g)
	return used
}

// renameValue renames the tensor from to to throughout g: graph inputs and outputs, value_info,
// node inputs and outputs, and the subgraphs that capture it from the enclosing scope.
func renameValue(g *onnxpb.GraphProto, from, to string) {
	for _, vi := range g.GetInput() {
		if vi.GetName() == from {
			vi.Name = &to
		}
	}
	for _, vi := range g.GetOutput() {
		if vi.GetName() == from {
			vi.Name = &to
		}
	}
	for _, vi := range g.GetValueInfo() {
		if vi.GetName() == from {
			vi.Name = &to
		}
	}
	for _, n := range g.GetNode() {
		for i, s := range n.Input {
			if s == from {
				n.Input[i] = to
			}
		}
		for i, s := range n.Output {
			if s == from {
				n.Output[i] = to
			}
		}
		for _, a := range n.GetAttribute() {
			if a.GetG() != nil {
				renameValue(a.GetG(), from, to)
			}
			for _, sg := range a.GetGraphs() {
				renameValue(sg, from, to)
			}
		}
	}
}
