package mnist

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// BuildModel builds flatten(784) → Linear(784, num_hidden) → activation → Linear(num_hidden, 10);
// the softmax is left to the loss and the metrics (the logits are the output).
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	hidden, err := tasks.IntInRange(cfg, "model.num_hidden", 1, tasks.MaxWidth)
	if err != nil {
		return nil, err
	}
	act, err := config.String(cfg, "model.activation")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	return models.MLP{Sizes: []int{784, hidden, 10}, Activation: act, Input: "X", Output: "logits"}.Build("mnist_mlp", seed)
}
