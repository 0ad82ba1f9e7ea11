package nn

import (
	"math"
	"testing"

	"gradlab/core/tensor"
)

// Worked by hand: x is (2, 1, 3) so the layer must flatten it to (2, 3).
//
//	row 0: [1 2 3]·w = [1+3, 2-3] = [4, -1];  + b = [4.5, -1.5]
//	row 1: [-1 0 2]·w = [-1+2, -2] = [1, -2];  + b = [1.5, -2.5]
func TestAffineForwardByHand(t *testing.T) {
	x := denseFrom(t, []float64{1, 2, 3, -1, 0, 2}, 2, 1, 3)
	w := denseFrom(t, []float64{1, 0, 0, 1, 1, -1}, 3, 2)
	b := denseFrom(t, []float64{0.5, -0.5}, 2)
	out, _, err := AffineForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{4.5, -1.5, 1.5, -2.5}
	if !tensor.SameShape(out.Shape, []int{2, 2}) {
		t.Fatalf("out shape %v, want (2, 2)", out.Shape)
	}
	for i, v := range want {
		if out.Data[i] != v {
			t.Errorf("out[%d] = %v, want %v", i, out.Data[i], v)
		}
	}
}

// The notebook's check: x (10, 2, 3), w (6, 5), b (5,), errors ~1e-10 or less.
func TestAffineBackwardNumerical(t *testing.T) {
	r := tensor.NewRand(1)
	x := denseRandn(t, r, 10, 2, 3)
	w := denseRandn(t, r, 6, 5)
	b := denseRandn(t, r, 5)
	dout := denseRandn(t, r, 10, 5)
	f := func() (*tensor.Tensor, error) { out, _, err := AffineForward(x, w, b); return out, err }

	_, cache, err := AffineForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	dx, dw, db, err := AffineBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(dx.Shape, x.Shape) {
		t.Fatalf("dx shape %v, want x's %v", dx.Shape, x.Shape)
	}
	// The finite difference itself is off by ~1e-11 in absolute terms, so
	// the element-wise relative error of a small entry (this draw has a dw of
	// 0.004) reaches ~1e-9: 1e-8 is the bound that does not depend on the draw.
	// The exact check below catches anything subtler.
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-8)
	denseAssertRel(t, "dw", dw, denseNumeric(t, f, w, dout), 1e-8)
	denseAssertRel(t, "db", db, denseNumeric(t, f, b, dout), 1e-8)

	// dw = xᵀ·dout and dx = dout·wᵀ, summed here in the textbook order.
	wantDw := tensor.ZerosLike(w)
	wantDx := tensor.ZerosLike(x)
	for k := 0; k < 6; k++ {
		for j := 0; j < 5; j++ {
			for i := 0; i < 10; i++ {
				wantDw.Data[k*5+j] += x.Data[i*6+k] * dout.Data[i*5+j]
				wantDx.Data[i*6+k] += dout.Data[i*5+j] * w.Data[k*5+j]
			}
		}
	}
	denseAssertRel(t, "dw vs xᵀ·dout", dw, wantDw, 1e-13)
	denseAssertRel(t, "dx vs dout·wᵀ", dx, wantDx, 1e-13)
}

func TestAffineBadInput(t *testing.T) {
	const fwd, bwd = "nn.AffineForward", "nn.AffineBackward"
	r := tensor.NewRand(2)
	x := denseRandn(t, r, 4, 3)
	w := denseRandn(t, r, 3, 2)
	b := denseRandn(t, r, 2)
	cases := []struct {
		name    string
		x, w, b *tensor.Tensor
	}{
		{"nil x", nil, w, b},
		{"nil w", x, nil, b},
		{"nil b", x, w, nil},
		{"1-d x", denseRandn(t, r, 3), w, b},
		{"w rows differ from x's features", x, denseRandn(t, r, 4, 2), b},
		{"3-d w", x, denseRandn(t, r, 3, 2, 1), b},
		{"b length differs from w's columns", x, w, denseRandn(t, r, 3)},
		{"2-d b", x, w, denseRandn(t, r, 1, 2)},
		{"NaN in x", denseWithNaN(x, math.NaN()), w, b},
		{"Inf in w", x, denseWithNaN(w, math.Inf(1)), b},
		{"NaN in b", x, w, denseWithNaN(b, math.NaN())},
		{"zero-size x", &tensor.Tensor{Shape: []int{0, 3}}, w, b},
		{"x data shorter than its shape", &tensor.Tensor{Shape: []int{4, 3}, Data: make([]float64, 5)}, w, b},
	}
	for _, c := range cases {
		_, _, err := AffineForward(c.x, c.w, c.b)
		denseWantErr(t, c.name, err, fwd)
	}

	_, cache, err := AffineForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = AffineBackward(denseRandn(t, r, 4, 2), nil)
	denseWantErr(t, "nil cache", err, bwd)
	_, _, _, err = AffineBackward(nil, cache)
	denseWantErr(t, "nil dout", err, bwd)
	_, _, _, err = AffineBackward(denseRandn(t, r, 4, 3), cache)
	denseWantErr(t, "dout shape differs from out", err, bwd)
	_, _, _, err = AffineBackward(denseWithNaN(denseRandn(t, r, 4, 2), math.NaN()), cache)
	denseWantErr(t, "NaN in dout", err, bwd)
}
