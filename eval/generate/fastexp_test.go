package generate

import (
	"math"
	"testing"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 10; x += 0.00137 {
		got, want := float64(exp32(x)), math.Exp(float64(x))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 3e-7 {
		t.Fatalf("relative error up to %g", worst)
	}
	t.Logf("worst relative error %g (float32 ulp %g)", worst, math.Pow(2, -23))
	if exp32(-100) != 0 || !math.IsInf(float64(exp32(100)), 1) || exp32(0) != 1 {
		t.Fatalf("ends: %v %v %v", exp32(-100), exp32(100), exp32(0))
	}
}

func TestSumExpShifted(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 17, 32128} {
		x := make([]float32, n)
		m := float32(math.Inf(-1))
		for i := range x {
			x[i] = float32(math.Sin(float64(i)*1.7)*30 - 10)
			if i == n/2 {
				x[i] = -1e30 // underflows, like a masked logit
			}
			m = max(m, x[i])
		}
		var want float64
		for _, v := range x {
			want += math.Exp(float64(v - m))
		}
		got := sumExpShifted(x, m)
		if math.Abs(got-want) > 3e-7*want {
			t.Fatalf("n %d: %v, want %v", n, got, want)
		}
	}
}
