package nn

import (
	"math"
	"testing"

	"gradlab/core/tensor"
)

// Each composition must equal its layers run one after another, and its
// backward must pass a gradient check for every input.

func TestAffineReluComposition(t *testing.T) {
	r := tensor.NewRand(50)
	x := denseRandn(t, r, 2, 3, 4)
	w := denseRandn(t, r, 12, 10)
	b := denseRandn(t, r, 10)
	dout := denseRandn(t, r, 2, 10)
	out, cache, err := AffineReluForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := AffineForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := ReluForward(a)
	if err != nil {
		t.Fatal(err)
	}
	denseAssertRel(t, "out vs relu(affine)", out, want, 1e-15)

	dx, dw, db, err := AffineReluBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) { out, _, err := AffineReluForward(x, w, b); return out, err }
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-8)
	denseAssertRel(t, "dw", dw, denseNumeric(t, f, w, dout), 1e-8)
	denseAssertRel(t, "db", db, denseNumeric(t, f, b, dout), 1e-8)
}

func TestAffineBatchnormReluComposition(t *testing.T) {
	r := tensor.NewRand(51)
	x := denseRandn(t, r, 6, 2, 3)
	w := denseRandn(t, r, 6, 5)
	b := denseRandn(t, r, 5)
	gamma := denseRandn(t, r, 5)
	beta := denseRandn(t, r, 5)
	dout := denseRandn(t, r, 6, 5)
	out, cache, err := AffineBatchnormReluForward(x, w, b, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := AffineForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	z, _, err := BatchnormForward(a, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range z.Data {
		// A batchnorm output within h of 0 would put the relu's kink inside
		// the finite difference; this draw has none, and the check says so.
		if math.Abs(v) < 1e-3 {
			t.Fatalf("batchnorm output %d = %v is too close to the relu kink", k, v)
		}
	}
	want, _, err := ReluForward(z)
	if err != nil {
		t.Fatal(err)
	}
	denseAssertRel(t, "out vs relu(bn(affine))", out, want, 1e-15)

	dx, dw, db, dgamma, dbeta, err := AffineBatchnormReluBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) {
		out, _, err := AffineBatchnormReluForward(x, w, b, gamma, beta, NewBatchnormParam())
		return out, err
	}
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-8)
	denseAssertRel(t, "dw", dw, denseNumeric(t, f, w, dout), 1e-8)
	denseAssertRel(t, "dgamma", dgamma, denseNumeric(t, f, gamma, dout), 1e-8)
	denseAssertRel(t, "dbeta", dbeta, denseNumeric(t, f, beta, dout), 1e-8)
	// b is followed by batchnorm, which subtracts the batch mean: b cannot
	// change the output, so its gradient is zero up to rounding.
	for j, v := range db.Data {
		if math.Abs(v) > 1e-12 {
			t.Errorf("db[%d] = %v, want 0: batchnorm removes any bias", j, v)
		}
	}
}

func TestAffineReluDropoutComposition(t *testing.T) {
	r := tensor.NewRand(52)
	x := denseRandn(t, r, 2, 3, 4)
	w := denseRandn(t, r, 12, 10)
	b := denseRandn(t, r, 10)
	dout := denseRandn(t, r, 2, 10)
	param := DropoutParam{P: 0.3, Mode: Train, Seed: 3, Step: 8, Layer: 1}
	out, cache, err := AffineReluDropoutForward(x, w, b, param)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := AffineReluForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := DropoutForward(a, param)
	if err != nil {
		t.Fatal(err)
	}
	denseAssertRel(t, "out vs dropout(relu(affine))", out, want, 1e-15)

	dx, dw, db, err := AffineReluDropoutBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) {
		out, _, err := AffineReluDropoutForward(x, w, b, param)
		return out, err
	}
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-8)
	denseAssertRel(t, "dw", dw, denseNumeric(t, f, w, dout), 1e-8)
	denseAssertRel(t, "db", db, denseNumeric(t, f, b, dout), 1e-8)
}

// A composition's error names both the composition and the layer that
// refused the input.
func TestCompositionBadInput(t *testing.T) {
	r := tensor.NewRand(53)
	x := denseRandn(t, r, 4, 3)
	w := denseRandn(t, r, 3, 2)
	badW := denseRandn(t, r, 5, 2)
	b := denseRandn(t, r, 2)
	gamma, beta := denseRandn(t, r, 2), denseRandn(t, r, 2)
	drop := DropoutParam{P: 0.5, Seed: 1}

	_, _, err := AffineReluForward(x, badW, b)
	denseWantErr(t, "affine-relu, w mismatch", err, "nn.AffineReluForward")
	denseWantErr(t, "affine-relu, w mismatch", err, "nn.AffineForward")
	_, _, err = AffineBatchnormReluForward(x, w, b, denseRandn(t, r, 3), beta, NewBatchnormParam())
	denseWantErr(t, "affine-bn-relu, gamma mismatch", err, "nn.AffineBatchnormReluForward")
	denseWantErr(t, "affine-bn-relu, gamma mismatch", err, "nn.BatchnormForward")
	_, _, err = AffineBatchnormReluForward(x, w, b, gamma, beta, &BatchnormParam{Eps: -1})
	denseWantErr(t, "affine-bn-relu, eps", err, "nn.BatchnormForward")
	_, _, err = AffineReluDropoutForward(x, w, b, DropoutParam{P: 1})
	denseWantErr(t, "affine-relu-dropout, P 1", err, "nn.DropoutForward")
	_, _, err = AffineReluDropoutForward(denseWithNaN(x, math.NaN()), w, b, drop)
	denseWantErr(t, "affine-relu-dropout, NaN x", err, "nn.AffineReluDropoutForward")

	_, c1, err := AffineReluForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	_, c2, err := AffineBatchnormReluForward(x, w, b, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	_, c3, err := AffineReluDropoutForward(x, w, b, drop)
	if err != nil {
		t.Fatal(err)
	}
	wrong := denseRandn(t, r, 4, 3)
	_, _, _, err = AffineReluBackward(wrong, c1)
	denseWantErr(t, "affine-relu backward, dout shape", err, "nn.AffineReluBackward")
	_, _, _, _, _, err = AffineBatchnormReluBackward(wrong, c2)
	denseWantErr(t, "affine-bn-relu backward, dout shape", err, "nn.AffineBatchnormReluBackward")
	_, _, _, err = AffineReluDropoutBackward(wrong, c3)
	denseWantErr(t, "affine-relu-dropout backward, dout shape", err, "nn.AffineReluDropoutBackward")
	_, _, _, err = AffineReluBackward(wrong, nil)
	denseWantErr(t, "affine-relu backward, nil cache", err, "nn.AffineReluBackward")
	_, _, _, _, _, err = AffineBatchnormReluBackward(wrong, nil)
	denseWantErr(t, "affine-bn-relu backward, nil cache", err, "nn.AffineBatchnormReluBackward")
	_, _, _, err = AffineReluDropoutBackward(wrong, nil)
	denseWantErr(t, "affine-relu-dropout backward, nil cache", err, "nn.AffineReluDropoutBackward")
}
