package tasks

import (
	"fmt"

	"github.com/fob-go/fob/train/config"
)

// MaxWidth is the widest layer a task model accepts (task.model.num_hidden,
// hidden_channels, ...): far beyond the benchmark's sizes, small enough that building the
// model cannot exhaust the memory of an ordinary machine by a typo.
const MaxWidth = 1 << 16

// IntInRange reads the integer at key (dotted, e.g. "model.hidden_channels") of a task section
// and checks that it lies in [lo, hi]. Errors name task.<key>, the value and the valid range,
// so a bad size fails before anything is built.
func IntInRange(cfg config.Map, key string, lo, hi int) (int, error) {
	raw, ok := config.Get(cfg, key)
	if !ok {
		return 0, fmt.Errorf("task.%s is missing; set it to an integer from %d to %d", key, lo, hi)
	}
	v, err := config.Int(cfg, key)
	if err != nil {
		return 0, fmt.Errorf("task.%s: want an integer from %d to %d, got %s", key, lo, hi, config.PyRepr(raw))
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("task.%s = %d is out of range; valid values are %d to %d", key, v, lo, hi)
	}
	return v, nil
}
