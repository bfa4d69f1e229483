package graph

import (
	"fmt"
	"strings"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// NumOutputs is the width of FOB's prediction head: Linear(300 → 2), of which the loss and the
// metric use column 1.
const NumOutputs = 2

// maxLayers bounds task.model.num_layers (FOB's is 5).
const maxLayers = 64

// BuildModel builds the OGB example GIN from task.model (models.GIN).
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	m, err := ginFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	return m.Build("graph_gin", seed)
}

// ginFromConfig reads task.model.{hidden_channels, num_layers, dropout, graph_pooling,
// jumping_knowledge, virtual_node}. FOB accepts pooling attention, set2set and max and a virtual
// node as well; fob builds mean and sum pooling without virtual node, and names what it lacks.
func ginFromConfig(cfg config.Map) (models.GIN, error) {
	hidden, err := tasks.IntInRange(cfg, "model.hidden_channels", 1, tasks.MaxWidth)
	if err != nil {
		return models.GIN{}, err
	}
	layers, err := tasks.IntInRange(cfg, "model.num_layers", 1, maxLayers)
	if err != nil {
		return models.GIN{}, err
	}
	dropout, err := config.Float(cfg, "model.dropout")
	if err != nil {
		return models.GIN{}, fmt.Errorf("task.%w", err)
	}
	if dropout < 0 || dropout >= 1 {
		return models.GIN{}, fmt.Errorf("task.model.dropout must be in [0, 1), got %v", dropout)
	}
	pool, err := config.String(cfg, "model.graph_pooling")
	if err != nil {
		return models.GIN{}, fmt.Errorf("task.%w", err)
	}
	switch pool = strings.ToLower(pool); pool {
	case models.GINPoolMean, models.GINPoolSum:
	case "max", "attention", "set2set":
		return models.GIN{}, fmt.Errorf("task.model.graph_pooling = %q is an option of FOB that fob does not build; use mean (FOB's default) or sum", pool)
	default:
		return models.GIN{}, fmt.Errorf("task.model.graph_pooling = %q is not a pooling; valid: mean, sum (FOB also knows max, attention, set2set)", pool)
	}
	jk, err := config.String(cfg, "model.jumping_knowledge")
	if err != nil {
		return models.GIN{}, fmt.Errorf("task.%w", err)
	}
	if jk = strings.ToLower(jk); jk != models.GINJKLast && jk != models.GINJKSum {
		return models.GIN{}, fmt.Errorf("task.model.jumping_knowledge = %q; valid: last, sum", jk)
	}
	vn, err := config.Bool(cfg, "model.virtual_node")
	if err != nil {
		return models.GIN{}, fmt.Errorf("task.%w", err)
	}
	if vn {
		return models.GIN{}, fmt.Errorf("task.model.virtual_node = true (OGB's GIN-virtual) is not built in fob; set task.model.virtual_node=false (FOB's default)")
	}
	return models.GIN{Hidden: hidden, Layers: layers, Dropout: dropout, Pooling: pool, JK: jk, Outputs: NumOutputs}, nil
}
