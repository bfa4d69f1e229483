package experiment

import (
	"errors"
	"fmt"
	"sort"

	"github.com/fob-go/fob/train/config"
)

// GenericTaskKeys are the task keys every task accepts besides those of its default.yaml:
// its name, the folder name of its runs, the step budget, and task.model.onnx, an external
// ONNX model to train instead of the task's own (docs/fob-behaviour.md §1.2).
var GenericTaskKeys = config.Map{
	"name":            nil,
	"output_dir_name": nil,
	"max_steps":       nil,
	"model":           config.Map{"onnx": nil},
}

// taskKeys is the tree of valid keys of a task's section: its default.yaml's task section
// plus GenericTaskKeys. Maps are sub-trees; any other value is a leaf.
func (p *parser) taskKeys(name string) (config.Map, error) {
	td, err := p.defaultMap("task/"+name, "tasks/"+name+"/default.yaml", func() ([]byte, error) { return p.cat.TaskDefault(name) })
	if err != nil {
		return nil, err
	}
	tree, _ := td["task"].(config.Map)
	if tree == nil {
		tree = config.Map{}
	}
	return config.Merge(tree, config.Clone(GenericTaskKeys).(config.Map)), nil
}

// evaluationKeys is the tree of valid evaluation keys: the evaluation defaults plus what the
// tasks' default.yaml files add (plot.test_metric_mode).
func (p *parser) evaluationKeys() (config.Map, error) {
	ed, err := p.defaultMap("evaluation", "train/config/evaluation.yaml", func() ([]byte, error) { return config.EvaluationDefaultYAML, nil })
	if err != nil {
		return nil, err
	}
	tree := config.Sub(ed, "evaluation")
	for _, name := range p.cat.TaskNames() {
		td, err := p.defaultMap("task/"+name, "tasks/"+name+"/default.yaml", func() ([]byte, error) { return p.cat.TaskDefault(name) })
		if err != nil {
			return nil, err
		}
		tree = config.Merge(tree, config.Sub(td, "evaluation"))
	}
	return tree, nil
}

// checkTaskKeys refuses keys of the task section that its task does not have, for each task
// the section names (a name, a map with a name, a list of those, a map whose name is a list).
// A misspelt key would otherwise be carried along unused: task.max_epoch=1 trained the
// default 30 epochs.
func (p *parser) checkTaskKeys(v any) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := p.checkTaskKeys(e); err != nil {
				return err
			}
		}
	case *config.Ordered:
		nv, ok := x.Get("name")
		if !ok {
			return nil // no task: said after merging
		}
		names, err := Expand(p.ctx, nv, maxRuns)
		if tl := (*GridTooLargeError)(nil); errors.As(err, &tl) {
			return nil // refused with the whole grid
		}
		if err != nil {
			return err
		}
		for _, n := range names {
			name, ok := n.(string)
			if !ok || !contains(p.cat.TaskNames(), name) {
				continue // the name check says what is wrong
			}
			tree, err := p.taskKeys(name)
			if err != nil {
				return err
			}
			if err := checkKeys(x, tree, "task", "key of task "+name); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEvaluationKeys refuses evaluation keys that neither the evaluation defaults nor any
// task default has.
func (p *parser) checkEvaluationKeys(v any) error {
	tree, err := p.evaluationKeys()
	if err != nil {
		return err
	}
	return checkKeys(v, tree, "evaluation", "evaluation key")
}

// checkKeys checks the keys of v (maps, and the maps inside lists: grid axes) against tree,
// recursing where tree has a map. The error names where the key was written, its dotted path,
// the valid keys at that level and the closest one.
func checkKeys(v any, tree config.Map, path, what string) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := checkKeys(e, tree, path, what); err != nil {
				return err
			}
		}
	case *config.Ordered:
		for _, k := range x.Keys() {
			kp := path + "." + k
			sub, ok := tree[k]
			if !ok {
				valid := make([]string, 0, len(tree))
				for vk := range tree {
					valid = append(valid, vk)
				}
				sort.Strings(valid)
				w := what
				if path != "task" && path != "evaluation" {
					w += " under " + path
				}
				return fmt.Errorf("%s: %w", x.Pos(k), config.UnknownKey(kp, w, valid))
			}
			if st, ok := sub.(config.Map); ok {
				kv, _ := x.Get(k)
				if err := checkKeys(kv, st, kp, what); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
