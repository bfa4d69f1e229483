// Package segmentation is FOB's segmentation task: ADE20K scene parsing (SceneParse150, 150
// classes) with SegFormer-B0 (docs/fob-behaviour.md §5.5). The model is HF's
// SegformerForSemanticSegmentation built as ONNX (models.SegFormer); the loss upsamples the
// 1/4-resolution logits bilinearly to the label size and takes the cross-entropy ignoring 255;
// the metrics are mmseg's IoUMetric (aAcc, mIoU, mAcc in percent); the backbone trains at a
// tenth of the learning rate.
package segmentation

import (
	_ "embed"
	"fmt"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

//go:embed default.yaml
var defaultYAML []byte

// Classes is ADE20K's SceneParse150 class count.
const Classes = data.ADE20KClasses

// Ignore is the label of pixels the loss and metrics skip ("other" after reduce_labels).
const Ignore = 255

// BackboneLRMultiplier is FOB's learning-rate factor of the encoder ("segformer.*") parameters.
const BackboneLRMultiplier = 0.1

// Input and output names (HF's argument and output names).
const (
	InputName  = "pixel_values"
	OutputName = "logits"
	LabelsName = "labels"
)

// Task is the segmentation task; Size is the image size (task.image_size, 512 by default).
type Task struct {
	Size int
}

func init() { tasks.Register(Task{Size: 512}) }

// Name implements tasks.Task.
func (Task) Name() string { return "segmentation" }

// DefaultYAML implements tasks.Task.
func (Task) DefaultYAML() []byte { return defaultYAML }

// Configure reads task.image_size (tasks.Configurer).
func (t Task) Configure(cfg config.Map) (tasks.Task, error) {
	size, err := imageSize(cfg)
	if err != nil {
		return nil, err
	}
	return Task{Size: size}, nil
}

// imageSize reads task.image_size: at least 32, the smallest size whose last stage is not
// smaller than SegFormer-B0's spatial-reduction ratios.
func imageSize(cfg config.Map) (int, error) {
	return tasks.IntInRange(cfg, "image_size", 32, 4096)
}

// Signature is pixel_values float32[batch,3,S,S] → logits float32[batch,150,S/4,S/4] (S/4
// rounded up: SegFormer's first stage is a stride-4 7×7 conv with padding 3).
func (t Task) Signature() onnx.Signature {
	q := (t.Size-1)/4 + 1
	return onnx.Signature{
		Inputs:  []onnx.TensorSpec{{Name: InputName, DType: "float32", Dims: []int{-1, 3, t.Size, t.Size}, DimNames: []string{"batch", "", "", ""}}},
		Outputs: []onnx.TensorSpec{{Name: OutputName, DType: "float32", Dims: []int{-1, Classes, q, q}, DimNames: []string{"batch", "", "", ""}}},
	}
}

// Loss is HF's SegFormer loss: logits upsampled bilinearly (align_corners=False) to the label
// size, then the mean cross-entropy over the pixels whose label is not 255.
func (Task) Loss(_ *graph.Graph, outputs, targets map[string]*graph.Node) *graph.Node {
	return UpsampledCrossEntropy(outputs[OutputName], targets[LabelsName])
}

// NewMetrics reports <split>_loss, _aAcc, _mIoU and _mAcc for val and test; nothing for train
// (the trainer logs train_loss from the loss itself, as FOB logs no training IoU).
func (Task) NewMetrics(split string) tasks.Metrics {
	return &IoUMetrics{Split: split, Classes: Classes, Skip: split == "train"}
}

// ParamGroups is FOB's segmentation split: the backbone ("segformer.*", lr × 0.1) and the decode
// head ("decode_head.*"), each split again into decay and no-decay (tasks.ParamGrouper).
func (Task) ParamGroups(params []optim.ParamInfo) ([]optim.Group, error) {
	return ParamGroups(params)
}

// ParamGroups is Task.ParamGroups as a function.
func ParamGroups(params []optim.ParamInfo) ([]optim.Group, error) {
	lr := BackboneLRMultiplier
	split := optim.GroupsByRules(params, []optim.Rule{
		{Match: "segformer.*", Group: "backbone", LRMultiplier: &lr},
		{Match: "*", Group: "decoder"},
	}, nil)
	groups := optim.MergeGroups(split, optim.DefaultGroups(params))
	if len(groups) == 0 {
		return nil, fmt.Errorf("no parameters to group")
	}
	return groups, nil
}
