package experiment

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fob-go/fob/train/config"
)

// File names inside a run folder.
const (
	ConfigFile     = "config.yaml"
	ExperimentFile = "experiment.yaml"
)

// WriteRunFiles creates the run folder and writes config.yaml (the resolved config, keys
// sorted) and experiment.yaml (the normalised experiment), each atomically.
func WriteRunFiles(run Run, exp *Experiment) error {
	if err := WriteConfig(run); err != nil {
		return err
	}
	_, err := WriteExperimentFile(run.Dir, exp)
	return err
}

// WriteConfig creates the run folder and writes config.yaml: the run's resolved config before
// any runtime resolution (resume, max_steps and paths as given), keys sorted.
func WriteConfig(run Run) error {
	data, err := config.Marshal(run.Config)
	if err != nil {
		return fmt.Errorf("run %d: %w", run.Index, err)
	}
	if err := os.MkdirAll(run.Dir, 0o755); err != nil {
		return err
	}
	return config.WriteFileAtomic(filepath.Join(run.Dir, ConfigFile), data)
}

// WriteExperimentFile writes experiment.yaml into dir (creating it) and returns its path. The
// file parses back to the same runs in the same order, so "single:N" on it picks run N.
func WriteExperimentFile(dir string, exp *Experiment) (string, error) {
	data, err := config.Marshal(exp.Normalized)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, ExperimentFile)
	return path, config.WriteFileAtomic(path, data)
}
