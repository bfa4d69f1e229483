package runtime

import (
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors/images"
)

// convBranchesStep is branchesStep with k parallel 3x3 convolutions of ResNet-like [batch, 32,
// 16, 16] activations: forward and backward have k convolutions, k input gradients and k kernel
// gradients ready at once, with fob's block-kernel convolution starting its own goroutines.
func convBranchesStep(t testing.TB, b backends.Backend, k, batch int) func() error {
	return parallelStep(t, b, k, shapes.Make(dtypes.Float32, batch, 32, 16, 16), shapes.Make(dtypes.Float32, 32, 32, 3, 3),
		func(x, w *graph.Node) *graph.Node {
			return graph.Convolve(x, w).ChannelsAxis(images.ChannelsFirst).StridePerAxis(1, 1).
				PaddingPerDim([][2]int{{1, 1}, {1, 1}}).DilationPerAxis(1, 1).Done()
		})
}
