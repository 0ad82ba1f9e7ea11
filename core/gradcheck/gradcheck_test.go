package gradcheck

import (
	"math"
	"testing"

	"gradlab/core/tensor"
)

func TestRelError(t *testing.T) {
	a, _ := tensor.FromData([]float64{1, 2, 0}, 3)
	b, _ := tensor.FromData([]float64{1, 2.2, 0}, 3)
	got, err := RelError(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.2 / 4.2; math.Abs(got-want) > 1e-15 {
		t.Fatalf("RelError = %v, want %v", got, want)
	}
	c, _ := tensor.FromData([]float64{1, 2}, 2)
	if _, err := RelError(a, c); err == nil {
		t.Fatal("RelError accepted different shapes")
	}
	n, _ := tensor.FromData([]float64{1, math.NaN(), 0}, 3)
	if e, _ := RelError(a, n); !math.IsInf(e, 1) {
		t.Fatalf("NaN must never pass: got %v", e)
	}
}

// f(x) = sum(x^3) has gradient 3x^2; centred differences are exact to O(h^2).
func TestNumericalOnCubic(t *testing.T) {
	x, _ := tensor.FromData([]float64{-1.5, 0.3, 2}, 3)
	f := func() (float64, error) {
		s := 0.0
		for _, v := range x.Data {
			s += v * v * v
		}
		return s, nil
	}
	g, err := Numerical(f, x, H)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.Data {
		if want := 3 * v * v; math.Abs(g.Data[i]-want) > 1e-8 {
			t.Errorf("grad[%d] = %v, want %v", i, g.Data[i], want)
		}
	}
	if x.Data[0] != -1.5 || x.Data[2] != 2 {
		t.Fatalf("x not restored: %v", x.Data)
	}
}

// f(x) = x * x (element-wise): the vector-Jacobian product with dout is 2*x*dout.
func TestNumericalArray(t *testing.T) {
	x, _ := tensor.FromData([]float64{1, -2, 3, 0.5}, 2, 2)
	dout, _ := tensor.FromData([]float64{0.1, 1, -1, 2}, 2, 2)
	f := func() (*tensor.Tensor, error) {
		y := x.Clone()
		for i := range y.Data {
			y.Data[i] *= y.Data[i]
		}
		return y, nil
	}
	g, err := NumericalArray(f, x, dout, H)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		if want := 2 * x.Data[i] * dout.Data[i]; math.Abs(g.Data[i]-want) > 1e-8 {
			t.Errorf("vjp[%d] = %v, want %v", i, g.Data[i], want)
		}
	}
}
