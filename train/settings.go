package train

import (
	"fmt"

	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/experiment"
)

// settings are the config values the loop reads, checked once up front so that a bad value
// fails before any work starts.
type settings struct {
	engine experiment.EngineConfig
	tc     experiment.TaskConfig

	task, optimizer          string
	batchSize, maxEpochs     int
	maxSteps                 int
	targetMetric, targetMode string
	externalModel            string
	seed                     int64
	train, test, validate    bool
	resumeFalse              bool
	resumePath               string
	restrictEpochs           int
	earlyStopping            int
	esMetric                 string
	checkFinite              bool
	clipVal                  float64
	clipAlg                  string
	loggingInterval          int
	silent                   bool
	dataDir, mirror, backend string
	workers, devices         int
}

func readSettings(c config.Map) (s settings, err error) {
	if s.engine, err = experiment.Engine(c); err != nil {
		return s, err
	}
	if s.tc, err = experiment.Task(c); err != nil {
		return s, err
	}
	if s.optimizer, err = config.String(c, "optimizer.name"); err != nil {
		return s, err
	}
	if !config.IsNull(c, "task.model.onnx") {
		if s.externalModel, err = config.String(c, "task.model.onnx"); err != nil {
			return s, err
		}
	}
	e, t := s.engine, s.tc
	s.task, s.batchSize, s.maxEpochs = t.Name, t.BatchSize, t.MaxEpochs
	if t.MaxSteps != nil {
		s.maxSteps = *t.MaxSteps
	}
	s.targetMetric, s.targetMode = t.TargetMetric, t.TargetMetricMode
	s.seed = e.Seed
	s.train, s.test, s.validate = e.Train, e.Test, e.Validate
	s.resumeFalse = !e.Resume.Enabled && e.Resume.Path == ""
	s.resumePath = e.Resume.Path
	if e.RestrictTrainEpochs != nil {
		s.restrictEpochs = *e.RestrictTrainEpochs
	}
	if e.EarlyStopping != nil {
		s.earlyStopping = *e.EarlyStopping
	}
	s.esMetric, s.checkFinite = e.EarlyStoppingMetric, e.CheckFinite
	if e.GradientClipVal != nil {
		s.clipVal = *e.GradientClipVal
	}
	s.clipAlg = e.GradientClipAlg
	s.loggingInterval = max(e.LoggingInterval, 1)
	s.silent = e.Silent
	s.dataDir, s.mirror, s.backend = e.DataDir, e.DataMirror, e.Backend
	s.workers, s.devices = e.Workers, max(e.Devices, 1)
	if s.batchSize <= 0 || s.maxEpochs <= 0 {
		return s, fmt.Errorf("task.batch_size and task.max_epochs must be positive (got %d, %d)", s.batchSize, s.maxEpochs)
	}
	return s, nil
}
