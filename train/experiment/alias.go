package experiment

import "github.com/fob-go/fob/train/config"

// TaskAliaser is implemented by catalogs that know short task names ("wmt" for translation).
// Experiments may use a short name wherever a task is named; it is replaced by the full name
// before anything else reads it, so run folders, configs and plots only see full names.
type TaskAliaser interface {
	// TaskAliases maps each short name to the task name it stands for.
	TaskAliases() map[string]string
}

// resolveTaskAliases rewrites short task names in the task section of root: a bare name, a
// map's name, each element of a list of either, and the keys of a named-dict section
// ({wmt: {...}}).
func resolveTaskAliases(root *config.Ordered, cat Catalog) {
	a, ok := cat.(TaskAliaser)
	if !ok {
		return
	}
	aliases := a.TaskAliases()
	if len(aliases) == 0 {
		return
	}
	v, ok := root.Get("task")
	if !ok {
		return
	}
	root.SetPos("task", resolveTaskValue(v, aliases), root.Pos("task"))
}

func resolveTaskValue(v any, aliases map[string]string) any {
	switch x := v.(type) {
	case string:
		if full, ok := aliases[x]; ok {
			return full
		}
	case []any:
		for i, e := range x {
			x[i] = resolveTaskValue(e, aliases)
		}
	case *config.Ordered:
		if n, ok := x.Get("name"); ok {
			x.SetPos("name", resolveTaskValue(n, aliases), x.Pos("name"))
			return x
		}
		// A named dict: rename alias keys in place, keeping order and positions.
		out := config.NewOrdered()
		for _, k := range x.Keys() {
			kv, _ := x.Get(k)
			nk := k
			if full, ok := aliases[k]; ok {
				nk = full
			}
			out.SetPos(nk, kv, x.Pos(k))
		}
		return out
	}
	return v
}
