package runtime

import (
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// statisticSuffixes end the names PyTorch's exporter gives normalisation state.
var statisticSuffixes = []string{"running_mean", "running_var", "num_batches_tracked"}

// Trainable says whether an ONNX initializer should be trained (gomlx-notes item 4): only float
// tensors, and not normalisation statistics. isStatistic is what the caller knows from the graph
// (inputs 3 and 4 of a BatchNormalization node); names ending like PyTorch's batch-norm buffers
// count too. Integer initializers (Reshape shapes, Gather indices, Slice bounds) must never
// train: an optimizer's weight decay would shrink a shape [2 3 2] to [0 0 0], and the export would
// write that back.
func Trainable(name string, dtype dtypes.DType, isStatistic bool) bool {
	if !dtype.IsFloat() || isStatistic {
		return false
	}
	for _, s := range statisticSuffixes {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}
