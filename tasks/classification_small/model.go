package classification_small

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// buildModel builds FOB's network: torchvision's resnet18(num_classes=100) whose conv1 is
// replaced by Conv2d(3, hidden_channel, kernel_size, stride 1, padding, bias=False) drawn as a
// fresh torch conv, and whose max-pool is the identity unless model.maxpool (models.ResNet;
// 11,220,132 parameters at the defaults). It reads task.model.{hidden_channel, kernel_size,
// padding, maxpool}.
func buildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	// FOB passes hidden_channel to the stem conv only: torchvision's bn1 and layer1 stay at 64
	// channels, so any other width fails there (docs/fob-behaviour.md, bug 28).
	hidden, err := tasks.IntInRange(cfg, "model.hidden_channel", 1, tasks.MaxWidth)
	if err != nil {
		return nil, err
	}
	if hidden != 64 {
		return nil, fmt.Errorf("task.model.hidden_channel = %d: ResNet-18's first BatchNorm and layer1 have 64 channels, so the stem must have 64 (as in FOB, where other values fail); set task.model.hidden_channel: 64", hidden)
	}
	stem, err := tasks.ReadStem(cfg, false)
	if err != nil {
		return nil, err
	}
	m := models.ResNet18(NumClasses)
	m.StemChannels, m.StemKernel, m.StemStride, m.StemPadding, m.MaxPool = hidden, stem.Kernel, stem.Stride, stem.Padding, stem.MaxPool
	m.StemInit = models.StemTorchDefault
	m.ImageSize, m.Input, m.Output = ImageSize, inputName, "logits"
	return m.Build("classification_small_resnet18", seed)
}
