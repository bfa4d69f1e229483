package template

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// BuildModel builds Linear(1 → hidden_channels) → act → Linear(hidden_channels → 1) → act as in
// the original template. Read hyperparameters from cfg (the task section) with the typed
// getters of train/config: their errors name the key. Initialise from seed only, so the same
// seed gives the same model.
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	hidden, err := tasks.IntInRange(cfg, "model.hidden_channels", 1, tasks.MaxWidth)
	if err != nil {
		return nil, err
	}
	act, err := config.String(cfg, "model.activation")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	return models.MLP{Sizes: []int{1, hidden, 1}, Activation: act, Input: "x", Output: "y", OutputActivation: true}.Build("template_mlp", seed)
}
