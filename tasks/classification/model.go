package classification

import (
	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// buildModel builds FOB's network: timm's wide_resnet50_2 (1000 classes; the layout and
// parameter names of torchvision's, and timm's zero_init_last: each block's last BatchNorm
// starts at weight 0) whose conv1 is replaced by Conv2d(3, 64, kernel_size, stride, padding,
// bias=False) drawn as a fresh torch conv; model.maxpool keeps the stem max-pool
// (models.ResNet; 68,875,560 parameters at the defaults). It reads task.model.{kernel_size,
// stride, padding, maxpool}.
func buildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	stem, err := tasks.ReadStem(cfg, true)
	if err != nil {
		return nil, err
	}
	m := models.WideResNet50x2(NumClasses)
	m.StemKernel, m.StemStride, m.StemPadding, m.MaxPool = stem.Kernel, stem.Stride, stem.Padding, stem.MaxPool
	m.StemInit, m.ZeroInitLast = models.StemTorchDefault, true
	m.ImageSize, m.Input, m.Output = ImageSize, inputName, "logits"
	return m.Build("classification_wide_resnet50_2", seed)
}
