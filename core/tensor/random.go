package tensor

import "math/rand/v2"

// Randn fills a new tensor with N(0,1) samples from r. Tests and weight
// initialisation use a seeded *rand.Rand so every run is the same; dropout
// masks do not use this (see core/rng, which the GPU reproduces bit for bit).
func Randn(r *rand.Rand, shape ...int) (*Tensor, error) {
	t, err := New(shape...)
	if err != nil {
		return nil, err
	}
	for i := range t.Data {
		t.Data[i] = r.NormFloat64()
	}
	return t, nil
}

// NewRand returns the seeded generator gradlab uses for initialisation and tests.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
}

// Scale multiplies every element in place and returns t, for x = 5*randn + 12 style setup.
func (t *Tensor) Scale(a float64) *Tensor {
	for i := range t.Data {
		t.Data[i] *= a
	}
	return t
}

// AddScalar adds b to every element in place and returns t.
func (t *Tensor) AddScalar(b float64) *Tensor {
	for i := range t.Data {
		t.Data[i] += b
	}
	return t
}
