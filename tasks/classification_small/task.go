// Package classification_small is FOB's classification_small task (docs/fob-behaviour.md §5.4):
// CIFAR-100 (32×32 images, 100 classes) with torchvision's ResNet-18, randomly initialised,
// whose stem is a 3×3 stride-1 convolution of hidden_channel (64) channels without
// max-pooling. The loss is cross-entropy with task.label_smoothing; metrics train_loss,
// train_acc, val_loss, val_acc and test_acc (and test_loss); the target val_acc (max).
//
// Batch contract with the data module (data.go): Inputs{"image": float32 [B, 3, 32, 32],
// normalised} and Targets{"label": int64 [B], classes 0..99} (names in names.go).
package classification_small

import (
	_ "embed"

	"github.com/fob-go/fob/tasks"
)

//go:embed default.yaml
var defaultYAML []byte

// Name is the task's name.
const Name = "classification_small"

// NumClasses is CIFAR-100's class count; ImageSize its image height and width.
const (
	NumClasses = 100
	ImageSize  = 32
)

// Task is the classification_small task as registered (no label smoothing; the trainer gets
// the run's through tasks.Configure).
var Task = tasks.ImageClassifier{
	TaskName: Name, Defaults: defaultYAML, Input: inputName, Label: labelName,
	ImageSize: ImageSize, Classes: NumClasses, ModelName: "resnet18",
	Build: buildModel, Data: newData,
}

func init() { tasks.Register(Task) }
