package mnist

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/train/config"
)

// BuildModel builds flatten(784) → Linear(784, num_hidden) → activation → Linear(num_hidden, 10);
// the softmax is left to the loss and the metrics (the logits are the output).
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	hidden, err := config.Int(cfg, "model.num_hidden")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	act, err := config.String(cfg, "model.activation")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	if hidden <= 0 {
		return nil, fmt.Errorf("task.model.num_hidden must be positive, got %d", hidden)
	}
	return models.MLP{Sizes: []int{784, hidden, 10}, Activation: act, Input: "X", Output: "logits"}.Build("mnist_mlp", seed)
}
