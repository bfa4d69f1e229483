package tasks

import "github.com/fob-go/fob/train/optim"

// ParamGrouper is implemented by tasks whose optimizer parameter groups differ from the default
// weight-decay split (segmentation's backbone at a tenth of the learning rate, FOB's
// parameter_groups). ParamGroups receives every trainable parameter and must put each in
// exactly one group.
type ParamGrouper interface {
	ParamGroups(params []optim.ParamInfo) ([]optim.Group, error)
}
