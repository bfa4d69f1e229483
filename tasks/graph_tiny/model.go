package graph_tiny

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// maxLayers is the deepest GCN graph_tiny builds (FOB's is 2 layers deep).
const maxLayers = 64

// BuildModel builds the GCN NumFeatures → hidden_channels (× num_layers-1) → NumClasses with
// ReLU and dropout between layers and a log-softmax output, as FOB's graph_tiny model. Messages
// travel along the edge list (models.GCNSparse: Gather + ScatterElements add), as PyG's GCNConv
// does; the product with a dense adjacency matrix (models.GCNDense) computes the same function
// about 4x slower on the pure-Go backend.
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	m, err := gcnFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	return m.Build("graph_tiny_gcn", seed)
}

// gcnFromConfig reads task.model.{hidden_channels, num_layers, dropout, normalize, reset_params,
// cached}.
func gcnFromConfig(cfg config.Map) (models.GCN, error) {
	hidden, err := tasks.IntInRange(cfg, "model.hidden_channels", 1, tasks.MaxWidth)
	if err != nil {
		return models.GCN{}, err
	}
	// At least the input and output convolutions.
	layers, err := tasks.IntInRange(cfg, "model.num_layers", 2, maxLayers)
	if err != nil {
		return models.GCN{}, err
	}
	dropout, err := config.Float(cfg, "model.dropout")
	if err != nil {
		return models.GCN{}, fmt.Errorf("task.%w", err)
	}
	normalize, err := config.Bool(cfg, "model.normalize")
	if err != nil {
		return models.GCN{}, fmt.Errorf("task.%w", err)
	}
	reset, err := config.Bool(cfg, "model.reset_params")
	if err != nil {
		return models.GCN{}, fmt.Errorf("task.%w", err)
	}
	// cached only changes when PyG recomputes the normalisation; the result is the same.
	if _, err := config.Bool(cfg, "model.cached"); err != nil {
		return models.GCN{}, fmt.Errorf("task.%w", err)
	}
	if dropout < 0 || dropout >= 1 {
		return models.GCN{}, fmt.Errorf("task.model.dropout must be in [0, 1), got %v", dropout)
	}
	sizes := []int{NumFeatures}
	for i := 1; i < layers; i++ {
		sizes = append(sizes, hidden)
	}
	sizes = append(sizes, NumClasses)
	return models.GCN{Sizes: sizes, Dropout: dropout, Normalize: normalize, KipfInit: reset,
		Aggregation: models.GCNSparse, Features: "x", Graph: "edge_index", Output: "log_probs"}, nil
}
