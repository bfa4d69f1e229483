package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Catalog provides the default files that are merged beneath each run, and the valid task and
// optimizer names. Engine and evaluation defaults are fixed (train/config).
type Catalog interface {
	// TaskDefault returns tasks/<name>/default.yaml.
	TaskDefault(name string) ([]byte, error)
	// OptimizerDefault returns the optimizer's default.yaml.
	OptimizerDefault(name string) ([]byte, error)
	// TaskNames lists the valid task names, sorted.
	TaskNames() []string
	// OptimizerNames lists the valid optimizer names, sorted.
	OptimizerNames() []string
	// LRSchedulerDefault returns the learning-rate scheduler defaults (optimizer.lr_scheduler.*),
	// merged beneath every optimizer.
	LRSchedulerDefault() []byte
}

// DirCatalog reads the default files from a fob source tree rooted at root:
// tasks/<name>/default.yaml, train/optim/<name>/default.yaml and train/lrsched/default.yaml.
// A task or optimizer is any folder holding a default.yaml. It serves tools that work on a
// checkout, and tests; the binary uses RegistryCatalog.
func DirCatalog(root string) (Catalog, error) {
	c := &dirCatalog{root: root}
	var err error
	if c.tasks, err = namesWithDefault(filepath.Join(root, "tasks")); err != nil {
		return nil, err
	}
	if c.optims, err = namesWithDefault(filepath.Join(root, "train", "optim")); err != nil {
		return nil, err
	}
	if c.lr, err = os.ReadFile(filepath.Join(root, "train", "lrsched", "default.yaml")); err != nil {
		return nil, err
	}
	return c, nil
}

type dirCatalog struct {
	root          string
	tasks, optims []string
	lr            []byte
}

func namesWithDefault(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "default.yaml")); err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func (c *dirCatalog) TaskNames() []string        { return c.tasks }
func (c *dirCatalog) OptimizerNames() []string   { return c.optims }
func (c *dirCatalog) LRSchedulerDefault() []byte { return c.lr }

func (c *dirCatalog) TaskDefault(name string) ([]byte, error) {
	if !contains(c.tasks, name) {
		return nil, unknownName("task", name, c.tasks)
	}
	return os.ReadFile(filepath.Join(c.root, "tasks", name, "default.yaml"))
}

func (c *dirCatalog) OptimizerDefault(name string) ([]byte, error) {
	if !contains(c.optims, name) {
		return nil, unknownName("optimizer", name, c.optims)
	}
	return os.ReadFile(filepath.Join(c.root, "train", "optim", name, "default.yaml"))
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func unknownName(kind, name string, valid []string) error {
	return fmt.Errorf("unknown %s %q; valid %ss: %s", kind, name, kind, strings.Join(valid, ", "))
}
