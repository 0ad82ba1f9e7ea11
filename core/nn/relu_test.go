package nn

import (
	"math"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

func TestReluByHand(t *testing.T) {
	x := denseFrom(t, []float64{-2, -0.5, 0, 0.5, 3, -1e-300}, 2, 3)
	out, cache, err := ReluForward(x)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := []float64{0, 0, 0, 0.5, 3, 0}
	dout := denseFrom(t, []float64{1, 2, 3, 4, 5, 6}, 2, 3)
	dx, err := ReluBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	// The gradient at exactly 0 is taken as 0, like the course's (x > 0).
	wantDx := []float64{0, 0, 0, 4, 5, 0}
	for i := range wantOut {
		if out.Data[i] != wantOut[i] || dx.Data[i] != wantDx[i] {
			t.Errorf("element %d: out %v dx %v, want %v %v", i, out.Data[i], dx.Data[i], wantOut[i], wantDx[i])
		}
	}
	if !tensor.SameShape(out.Shape, x.Shape) || !tensor.SameShape(dx.Shape, x.Shape) {
		t.Errorf("shapes out %v dx %v, want %v", out.Shape, dx.Shape, x.Shape)
	}
}

func TestReluBackwardNumerical(t *testing.T) {
	r := tensor.NewRand(3)
	x := denseRandn(t, r, 10, 10)
	for i, v := range x.Data {
		// A value within h of the kink would make the centred difference
		// straddle it; this seed has none, and the check says so.
		if math.Abs(v) < 10*gradcheck.H {
			t.Fatalf("x[%d] = %v is too close to the kink for a finite-difference check", i, v)
		}
	}
	dout := denseRandn(t, r, 10, 10)
	_, cache, err := ReluForward(x)
	if err != nil {
		t.Fatal(err)
	}
	dx, err := ReluBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) { out, _, err := ReluForward(x); return out, err }
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-10)
}

func TestReluBadInput(t *testing.T) {
	const fwd, bwd = "nn.ReluForward", "nn.ReluBackward"
	r := tensor.NewRand(4)
	x := denseRandn(t, r, 3, 4)
	_, _, err := ReluForward(nil)
	denseWantErr(t, "nil x", err, fwd)
	_, _, err = ReluForward(denseWithNaN(x, math.NaN()))
	denseWantErr(t, "NaN in x", err, fwd)
	_, _, err = ReluForward(&tensor.Tensor{Shape: []int{3, 0}})
	denseWantErr(t, "zero-size x", err, fwd)

	_, cache, err := ReluForward(x)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReluBackward(x, nil)
	denseWantErr(t, "nil cache", err, bwd)
	_, err = ReluBackward(denseRandn(t, r, 4, 3), cache)
	denseWantErr(t, "dout shape differs from x", err, bwd)
	_, err = ReluBackward(denseWithNaN(x, math.Inf(-1)), cache)
	denseWantErr(t, "Inf in dout", err, bwd)
}
