// Package classification is FOB's classification task (docs/fob-behaviour.md §5.3): ImageNet
// at 64×64 pixels (1000 classes) with timm's wide_resnet50_2, randomly initialised, whose stem
// is a 3×3 stride-1 convolution (64 channels) followed by the max-pool (model.maxpool). The
// loss is cross-entropy with task.label_smoothing; metrics {train,val,test}_top1_acc,
// _top1_err, _top5_acc, _top5_err (sklearn's top_k_accuracy_score on the softmax) and the
// losses; the target val_top5_err (min).
//
// Batch contract with the data module (data.go): Inputs{"image": float32 [B, 3, 64, 64],
// normalised} and Targets{"label": int64 [B], classes 0..999} (names in names.go).
package classification

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

// Name is the task's name.
const Name = "classification"

// NumClasses is ImageNet's class count; ImageSize the downsampled images' height and width.
const (
	NumClasses = 1000
	ImageSize  = 64
)

// Task is the classification task as registered (no label smoothing; the trainer gets the
// run's through tasks.Configure).
var Task = tasks.ImageClassifier{
	TaskName: Name, Defaults: defaultYAML, Input: inputName, Label: labelName,
	ImageSize: ImageSize, Classes: NumClasses, ModelName: "wide_resnet50_2",
	Build: buildModel, Data: newData, Ks: []int{1, 5},
}

func init() { tasks.Register(Task) }
