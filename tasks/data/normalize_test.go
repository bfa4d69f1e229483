package data

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

type quantileRef struct {
	Cases []struct {
		Name          string
		NTrain        int       `json:"n_train"`
		NTest         int       `json:"n_test"`
		D             int       `json:"d"`
		NQuantiles    int       `json:"n_quantiles"`
		Train         []float32 `json:"train"`
		Test          []float32 `json:"test"`
		Quantiles     []float64 `json:"quantiles"`
		QuantileTrain []float32 `json:"quantile_train"`
		QuantileTest  []float32 `json:"quantile_test"`
		StandardMean  []float64 `json:"standard_mean"`
		StandardScale []float64 `json:"standard_scale"`
		StandardTest  []float32 `json:"standard_test"`
	}
	PPF struct{ P, Z []float64 }
}

func loadQuantileRef(t *testing.T) quantileRef {
	b, err := os.ReadFile(filepath.Join("testdata", "quantile_ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref quantileRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func maxAbsDiff(t *testing.T, got, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	m := 0.0
	for i := range got {
		m = math.Max(m, math.Abs(float64(got[i])-float64(want[i])))
	}
	return m
}

// QuantileNormalizer and StandardNormalizer against scikit-learn on the committed fixture
// (testdata/make_quantile_ref.py).
func TestNormalizersMatchScikitLearn(t *testing.T) {
	ref := loadQuantileRef(t)
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := QuantileCount(c.NTrain); got != c.NQuantiles {
				t.Errorf("QuantileCount(%d) = %d, want %d", c.NTrain, got, c.NQuantiles)
			}
			norm, err := NewNormalizer("quantile", c.NTrain)
			if err != nil {
				t.Fatal(err)
			}
			q := norm.(*QuantileNormalizer)
			if err := q.Fit(c.Train, c.NTrain, c.D); err != nil {
				t.Fatal(err)
			}
			for j := range c.D {
				for k := range c.NQuantiles {
					got, want := q.Quantiles[j][k], c.Quantiles[j*c.NQuantiles+k]
					if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
						t.Errorf("quantile %d of feature %d = %v, want %v", k, j, got, want)
					}
				}
			}
			out, err := q.Transform(c.Test, c.NTest, c.D)
			if err != nil {
				t.Fatal(err)
			}
			errTest := maxAbsDiff(t, out, c.QuantileTest)
			errTrain := 0.0
			if c.QuantileTrain != nil {
				out, _ := q.Transform(c.Train, c.NTrain, c.D)
				errTrain = maxAbsDiff(t, out, c.QuantileTrain)
			}
			t.Logf("quantile transform max |error|: test %.3g, train %.3g", errTest, errTrain)
			if errTest > 1e-5 || errTrain > 1e-5 {
				t.Errorf("quantile transform differs from scikit-learn by %g (test), %g (train)", errTest, errTrain)
			}

			s := &StandardNormalizer{}
			if err := s.Fit(c.Train, c.NTrain, c.D); err != nil {
				t.Fatal(err)
			}
			for j := range c.D {
				if math.Abs(s.Mean[j]-c.StandardMean[j]) > 1e-9*math.Max(1, math.Abs(c.StandardMean[j])) ||
					math.Abs(s.Scale[j]-c.StandardScale[j]) > 1e-9*math.Max(1, c.StandardScale[j]) {
					t.Errorf("feature %d: mean %v scale %v, want %v %v", j, s.Mean[j], s.Scale[j], c.StandardMean[j], c.StandardScale[j])
				}
			}
			out, err = s.Transform(c.Test, c.NTest, c.D)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxAbsDiff(t, out, c.StandardTest); e > 1e-5 {
				t.Errorf("standard transform differs from scikit-learn by %g", e)
			} else {
				t.Logf("standard transform max |error| %.3g", e)
			}
		})
	}
}

func TestNormPPF(t *testing.T) {
	ref := loadQuantileRef(t)
	for i, p := range ref.PPF.P {
		if got, want := normPPF(p), ref.PPF.Z[i]; math.Abs(got-want) > 1e-9 {
			t.Errorf("normPPF(%v) = %v, scipy %v", p, got, want)
		}
	}
	if !math.IsInf(normPPF(0), -1) || !math.IsInf(normPPF(1), 1) {
		t.Error("normPPF at 0 and 1 must be infinite")
	}
}

func TestNpInterp(t *testing.T) {
	xp := []float64{0, 1, 1, 1, 3}
	fp := []float64{0, 0.25, 0.5, 0.75, 1}
	for _, tc := range []struct{ x, want float64 }{
		{-1, 0}, {0, 0}, {0.5, 0.125}, {1, 0.75}, {2, 0.875}, {3, 1}, {4, 1},
	} {
		if got := npInterp(tc.x, xp, fp); got != tc.want {
			t.Errorf("npInterp(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
}

func TestNormalizerErrors(t *testing.T) {
	if _, err := NewNormalizer("minmax", 10); err == nil {
		t.Error("unknown normalizer accepted")
	}
	for _, norm := range []Normalizer{&QuantileNormalizer{NQuantiles: 10}, &StandardNormalizer{}} {
		if err := norm.Fit([]float32{1, 2, 3}, 2, 2); err == nil {
			t.Errorf("%T: shape mismatch accepted", norm)
		}
		if _, err := norm.Transform([]float32{1, 2}, 1, 2); err == nil {
			t.Errorf("%T: transform before fit accepted", norm)
		}
		if err := norm.Fit([]float32{1, 2, 3, 4}, 2, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := norm.Transform([]float32{1, 2, 3}, 1, 3); err == nil {
			t.Errorf("%T: wrong feature count accepted", norm)
		}
	}
	if err := (&QuantileNormalizer{NQuantiles: 10}).Fit([]float32{float32(math.NaN())}, 1, 1); err == nil {
		t.Error("NaN accepted in fit")
	}
}

func TestQuantileCount(t *testing.T) {
	for n, want := range map[int]int{0: 10, 100: 10, 13209: 440, 30000: 1000, 100000: 1000} {
		if got := QuantileCount(n); got != want {
			t.Errorf("QuantileCount(%d) = %d, want %d", n, got, want)
		}
	}
}

// The fit noise has per-feature standard deviation noise/max(std, noise), leaves the input
// alone, and is fixed by the seed.
func TestAddFitNoise(t *testing.T) {
	const n, d = 20000, 3
	x := make([]float32, n*d)
	for i := range n {
		x[i*d] = float32(i % 2 * 1000) // std 500: noise std 1e-3/500
		x[i*d+1] = float32(i%2) * 1e-4 // std 5e-5 < noise: noise std 1
		x[i*d+2] = 7                   // constant: noise std 1
	}
	orig := append([]float32(nil), x...)
	const noise = 1e-3
	y, err := AddFitNoise(x, n, d, noise, 42)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != orig[i] {
			t.Fatal("input modified")
		}
	}
	wantStd := []float64{noise / 500, 1, 1}
	for j := range d {
		var s, ss float64
		for i := range n {
			e := float64(y[i*d+j]) - float64(x[i*d+j])
			s += e
			ss += e * e
		}
		mean, std := s/n, math.Sqrt(ss/n-(s/n)*(s/n))
		// The first feature's noise (2e-6) is below float32 resolution at 1000; check the others.
		if j > 0 && (math.Abs(std/wantStd[j]-1) > 0.03 || math.Abs(mean) > 0.03*wantStd[j]) {
			t.Errorf("feature %d: noise mean %.4g std %.4g, want 0 and %.4g", j, mean, std, wantStd[j])
		}
	}
	y2, _ := AddFitNoise(x, n, d, noise, 42)
	y3, _ := AddFitNoise(x, n, d, noise, 43)
	same, diff := true, false
	for i := range y {
		same = same && y[i] == y2[i]
		diff = diff || y[i] != y3[i]
	}
	if !same || !diff {
		t.Errorf("noise must be fixed by the seed (same seed equal: %v, other seed differs: %v)", same, diff)
	}
	z, _ := AddFitNoise(x, n, d, 0, 42)
	for i := range z {
		if z[i] != x[i] {
			t.Fatal("zero noise changed the data")
		}
	}
}
