// Package models builds task models as ONNX graphs. Weights are initialised as PyTorch
// initialises the same layers, deterministically from a seed, so runs are reproducible and
// comparable with the original FOB.
package models

import (
	"math"
	"math/rand/v2"

	"github.com/fob-go/fob/runtime/tensor"
)

// RNG is the seeded generator every builder draws from, one stream per model.
type RNG struct{ r *rand.Rand }

// NewRNG returns a generator seeded from seed.
func NewRNG(seed int64) *RNG {
	return &RNG{rand.New(rand.NewPCG(uint64(seed), 0x666f62 /* "fob" */))}
}

// Uniform fills a float32 tensor of the given shape with U(-bound, bound).
func (g *RNG) Uniform(bound float64, shape ...int) tensor.Tensor {
	t := tensor.Tensor{Shape: shape}
	t.F32 = make([]float32, t.Size())
	for i := range t.F32 {
		t.F32[i] = float32((2*g.r.Float64() - 1) * bound)
	}
	return t
}

// Normal fills a float32 tensor with N(0, std²).
func (g *RNG) Normal(std float64, shape ...int) tensor.Tensor {
	t := tensor.Tensor{Shape: shape}
	t.F32 = make([]float32, t.Size())
	for i := range t.F32 {
		t.F32[i] = float32(g.r.NormFloat64() * std)
	}
	return t
}

// Const returns a float32 tensor filled with v.
func Const(v float32, shape ...int) tensor.Tensor {
	t := tensor.Tensor{Shape: shape}
	t.F32 = make([]float32, t.Size())
	for i := range t.F32 {
		t.F32[i] = v
	}
	return t
}

// LinearInit draws the weight [out, in] and bias [out] of a torch.nn.Linear: kaiming_uniform
// with a=√5 gives U(±1/√fan_in) for the weight, and the bias uses the same bound.
func (g *RNG) LinearInit(in, out int) (w, b tensor.Tensor) {
	bound := 1 / math.Sqrt(float64(in))
	return g.Uniform(bound, out, in), g.Uniform(bound, out)
}
