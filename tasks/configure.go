package tasks

import "github.com/fob-go/fob/train/config"

// Configurer is implemented by tasks whose loss or metrics depend on the run's task section
// (classification's task.label_smoothing): Task.Loss and NewMetrics take no config, so the
// runner asks for a task value carrying it before training or scoring.
type Configurer interface {
	// Configure validates the settings it reads from cfg (the resolved task section) and
	// returns the task that uses them.
	Configure(cfg config.Map) (Task, error)
}

// Configure returns t set up for the task section cfg: t.Configure(cfg) when t is a
// Configurer, t itself otherwise.
func Configure(t Task, cfg config.Map) (Task, error) {
	if c, ok := t.(Configurer); ok {
		return c.Configure(cfg)
	}
	return t, nil
}
