package tabular

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/train/config"
)

// BuildModel builds rtdl's default FT-Transformer for task.model.n_blocks (1 to 6; FOB uses 3:
// d_block 192, 8 heads, attention dropout 0.2, ReGLU FFN of width 256 with dropout 0.1, no
// residual dropout) over the 8 features, with one output.
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	n, err := config.Int(cfg, "model.n_blocks")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	m, err := models.FTTransformerDefaults(n)
	if err != nil {
		return nil, fmt.Errorf("task.model.n_blocks=%d: valid values are 1 to 6 (rtdl's default configurations): %w", n, err)
	}
	m.NFeatures, m.DOut, m.Input, m.Output = NFeatures, 1, "X", "prediction"
	return m.Build("tabular_ft_transformer", seed)
}
