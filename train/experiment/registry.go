package experiment

import (
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/lrsched"
	"github.com/fob-go/fob/train/optim"
)

// RegistryCatalog serves the defaults embedded in the registered tasks and optimizers and the
// lr scheduler package: what the binary uses. The task and optimizer packages must be linked
// (tasks/all, train/optim/all) for their names to be valid.
func RegistryCatalog() Catalog { return registryCatalog{} }

type registryCatalog struct{}

func (registryCatalog) TaskNames() []string            { return tasks.Names() }
func (registryCatalog) TaskAliases() map[string]string { return tasks.Aliases() }
func (registryCatalog) OptimizerNames() []string       { return optim.Names() }
func (registryCatalog) LRSchedulerDefault() []byte     { return lrsched.DefaultYAML }

func (registryCatalog) TaskDefault(name string) ([]byte, error) {
	t, err := tasks.Get(name)
	if err != nil {
		return nil, err
	}
	return t.DefaultYAML(), nil
}

func (registryCatalog) OptimizerDefault(name string) ([]byte, error) {
	e, err := optim.Get(name)
	if err != nil {
		return nil, err
	}
	return e.DefaultYAML, nil
}
