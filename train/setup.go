package train

import (
	"context"
	"fmt"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// Setup prepares the data of every task of an experiment once (the original's dataset_setup):
// for each distinct task name, the first run that uses it builds the data module and calls
// Prepare. It returns the names prepared.
func Setup(ctx context.Context, exp *experiment.Experiment) ([]string, error) {
	seen := map[string]bool{}
	var done []string
	for _, run := range exp.Runs {
		s, err := readSettings(run.Config)
		if err != nil {
			return done, err
		}
		if seen[s.task] {
			continue
		}
		seen[s.task] = true
		t, err := tasks.Get(s.task)
		if err != nil {
			return done, err
		}
		if nb, ok := t.(tasks.NotBuilt); ok {
			return done, fmt.Errorf("tasks/%s: %s", s.task, nb.NotBuilt())
		}
		env := tasks.DataEnv{DataDir: s.dataDir, Mirror: s.mirror, Workers: s.workers}
		dm, err := t.NewData(env, config.Sub(run.Config, "task"))
		if err != nil {
			return done, fmt.Errorf("tasks/%s: %w", s.task, err)
		}
		if err := dm.Prepare(ctx); err != nil {
			return done, fmt.Errorf("tasks/%s: %w", s.task, err)
		}
		done = append(done, s.task)
	}
	return done, nil
}
