package runtime

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

func TestTrainable(t *testing.T) {
	cases := []struct {
		name  string
		dtype dtypes.DType
		stat  bool
		want  bool
	}{
		{"fc1.weight", dtypes.Float32, false, true},
		{"fc1.bias", dtypes.Float64, false, true},
		{"emb.weight", dtypes.BFloat16, false, true},
		{"reshape_shape", dtypes.Int64, false, false},
		{"gather_idx", dtypes.Int32, false, false},
		{"mask", dtypes.Bool, false, false},
		{"bn_mean", dtypes.Float32, true, false},
		{"layer1.0.bn1.running_mean", dtypes.Float32, false, false},
		{"layer1.0.bn1.running_var", dtypes.Float32, false, false},
		{"layer1.0.bn1.num_batches_tracked", dtypes.Int64, false, false},
	}
	for _, c := range cases {
		if got := Trainable(c.name, c.dtype, c.stat); got != c.want {
			t.Errorf("Trainable(%q, %s, %v) = %v, want %v", c.name, c.dtype, c.stat, got, c.want)
		}
	}
}
