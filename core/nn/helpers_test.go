package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

// Helpers for the dense-layer tests (affine, relu, batchnorm, dropout,
// losses, compositions). Prefixed "dense" so they never clash with the
// conv tests' helpers in the same package.

// denseRandn is an N(0,1) tensor drawn from r; it fails the test on a bad shape.
func denseRandn(t testing.TB, r *rand.Rand, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.Randn(r, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// denseFrom wraps literal values; it fails the test on a bad shape.
func denseFrom(t testing.TB, data []float64, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromData(data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// denseWithNaN returns a copy of x with one element replaced by v (NaN or Inf).
func denseWithNaN(x *tensor.Tensor, v float64) *tensor.Tensor {
	y := x.Clone()
	y.Data[len(y.Data)/2] = v
	return y
}

// denseAssertRel fails unless the course's rel_error between got and want is
// below tol, and logs the error seen so a regression in accuracy is visible.
func denseAssertRel(t testing.TB, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if got == nil || want == nil {
		t.Fatalf("%s: nil tensor (got %v, want %v)", what, got, want)
	}
	e, err := gradcheck.RelError(got, want)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !(e < tol) {
		t.Errorf("%s: rel error %.3g, want < %.0g", what, e, tol)
	} else {
		t.Logf("%s: rel error %.3g", what, e)
	}
}

// denseNumeric is gradcheck.NumericalArray with the course's step; it fails
// the test if f errors.
func denseNumeric(t testing.TB, f func() (*tensor.Tensor, error), x, dout *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	g, err := gradcheck.NumericalArray(f, x, dout, gradcheck.H)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// denseWantErr fails unless err is a *tensor.Error whose message names op.
func denseWantErr(t testing.TB, what string, err error, op string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one from %s", what, op)
		return
	}
	var te *tensor.Error
	if !errors.As(err, &te) {
		t.Errorf("%s: error %q is not a *tensor.Error", what, err)
	}
	if !strings.Contains(err.Error(), op) {
		t.Errorf("%s: error %q does not name %s", what, err, op)
	}
}

// denseColumnStats returns each column's mean and population standard
// deviation of an (n, d) array, computed here independently of the layers.
func denseColumnStats(a []float64, n, d int) (mean, std []float64) {
	mean = make([]float64, d)
	std = make([]float64, d)
	for j := 0; j < d; j++ {
		s := 0.0
		for i := 0; i < n; i++ {
			s += a[i*d+j]
		}
		mean[j] = s / float64(n)
		v := 0.0
		for i := 0; i < n; i++ {
			e := a[i*d+j] - mean[j]
			v += e * e
		}
		std[j] = math.Sqrt(v / float64(n))
	}
	return mean, std
}
