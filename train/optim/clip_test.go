package optim_test

import (
	"math"
	"strings"
	"testing"

	"github.com/fob-go/fob/train/optim"
	"github.com/fob-go/fob/train/optim/optimtest"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestClipGradients(t *testing.T) {
	a := []float64{3, -4, 1, 0, 2, -2}
	b := []float64{0.5, -0.25, 8}
	norm := 0.0
	for _, v := range append(append([]float64{}, a...), b...) {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	scaled := func(c float64) ([]float64, []float64) {
		var x, y []float64
		for _, v := range a {
			x = append(x, v*c)
		}
		for _, v := range b {
			y = append(y, v*c)
		}
		return x, y
	}
	clamp := func(vs []float64, m float64) []float64 {
		var out []float64
		for _, v := range vs {
			out = append(out, math.Max(-m, math.Min(m, v)))
		}
		return out
	}
	coef := 2.5 / (norm + 1e-6) // torch clip_grad_norm_: max_norm / (total_norm + 1e-6)
	wa, wb := scaled(coef)
	for _, c := range []struct {
		alg    string
		val    float64
		wa, wb []float64
	}{
		{"norm", 2.5, wa, wb},
		{"norm", 100, a, b}, // coefficient clamped at 1: unchanged
		{"value", 1.5, clamp(a, 1.5), clamp(b, 1.5)},
	} {
		exec := context.MustNewExec(optimtest.Backend(t), context.New(), func(ctx *context.Context, x, y *Node) []*Node {
			return optim.ClipGradients([]*Node{x, y}, c.alg, c.val)
		})
		out := exec.MustExec(tensors.FromFlatDataAndDimensions(a, 2, 3), tensors.FromFlatDataAndDimensions(b, 3))
		for i, want := range [][]float64{c.wa, c.wb} {
			got := tensors.MustCopyFlatData[float64](out[i])
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-12*math.Max(1, math.Abs(want[j])) {
					t.Errorf("%s %v: grad %d[%d] = %.17g, want %.17g", c.alg, c.val, i, j, got[j], want[j])
				}
			}
		}
	}
}

func TestValidateClip(t *testing.T) {
	for _, c := range []struct {
		alg  string
		val  float64
		want string
	}{
		{"norm", 1, ""},
		{"value", 0.5, ""},
		{"l1", 1, "gradient_clip_alg"},
		{"norm", 0, "gradient_clip_val = 0"},
		{"norm", -1, "valid range (0, inf)"},
		{"value", math.NaN(), "gradient_clip_val"},
	} {
		err := optim.ValidateClip(c.alg, c.val)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("ValidateClip(%q, %v) = %v, want %q", c.alg, c.val, err, c.want)
		}
	}
}

// The label sampler of the Gauss-Newton-Bartlett estimator draws from softmax(logits).
func TestSampleCategorical(t *testing.T) {
	probs := []float64{0.2, 0.5, 0.3}
	const n = 20000
	logits := make([]float32, 0, 3*n)
	for i := 0; i < n; i++ {
		for _, p := range probs {
			logits = append(logits, float32(math.Log(p)+1.7)) // any shift: softmax is invariant
		}
	}
	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	exec := context.MustNewExec(optimtest.Backend(t), ctx, func(ctx *context.Context, l *Node) *Node {
		return optim.SampleCategorical(ctx, l)
	})
	labels := tensors.MustCopyFlatData[int32](exec.MustExec(tensors.FromFlatDataAndDimensions(logits, n, 3))[0])
	counts := make([]float64, 3)
	for _, l := range labels {
		counts[l]++
	}
	for i, p := range probs {
		f := counts[i] / n
		// 4 standard deviations of a binomial frequency.
		if tol := 4 * math.Sqrt(p*(1-p)/n); math.Abs(f-p) > tol {
			t.Errorf("class %d: frequency %.4f, want %.2f ± %.4f", i, f, p, tol)
		}
	}
	exec2 := context.MustNewExec(optimtest.Backend(t), ctx, func(ctx *context.Context, x *Node) *Node {
		return optim.SampleGaussianTargets(ctx, x)
	})
	ys := tensors.MustCopyFlatData[float32](exec2.MustExec(tensors.FromFlatDataAndDimensions(make([]float32, n), n))[0])
	mean, sq := 0.0, 0.0
	for _, y := range ys {
		mean += float64(y)
		sq += float64(y) * float64(y)
	}
	mean /= n
	if v := sq/n - mean*mean; math.Abs(mean) > 0.04 || math.Abs(v-1) > 0.05 {
		t.Errorf("Gaussian targets: mean %.3f variance %.3f, want 0 and 1", mean, v)
	}
}
