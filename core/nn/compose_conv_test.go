package nn

import (
	"testing"

	"gradlab/core/tensor"
)

// convKinkH is the finite-difference step for piecewise-linear blocks (see
// TestConvReluPoolNumeric).
const convKinkH = 1e-4

// The course's conv-relu-pool check: x (2,3,16,16), w (3,3,3,3), stride 1,
// pad 1, 2x2 pool stride 2, all gradients against centred differences.
//
// The block is piecewise linear, so between kinks a centred difference has no
// truncation error and only rounding noise (~eps*|out|/h) remains. Measured
// on these inputs, dx's rel error is 6e-8 at h=1e-6, 1.4e-8 at the course's
// 1e-5, 5e-10 at 1e-4 and 9e-11 at 1e-3, while dw at 1e-3 already crosses a
// ReLU/max kink (2e-2). convKinkH = 1e-4 is therefore the step that measures
// the gradient rather than the noise; a wrong gradient still fails by orders
// of magnitude.
func TestConvReluPoolNumeric(t *testing.T) {
	x := convRandn(t, 101, 2, 3, 16, 16)
	w := convRandn(t, 102, 3, 3, 3, 3)
	b := convRandn(t, 103, 3)
	dout := convRandn(t, 104, 2, 3, 8, 8)
	cp := ConvParam{Stride: 1, Pad: 1}
	pp := PoolParam{Height: 2, Width: 2, Stride: 2}
	out, cache, err := ConvReluPoolForward(x, w, b, cp, pp)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out.Shape, dout.Shape) {
		t.Fatalf("out shape %v, want %v", out.Shape, dout.Shape)
	}
	dx, dw, db, err := ConvReluPoolBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) {
		o, _, err := ConvReluPoolForward(x, w, b, cp, pp)
		return o, err
	}
	convAssertClose(t, "dx", dx, convNumeric(t, f, x, dout, convKinkH), 1e-8)
	convAssertClose(t, "dw", dw, convNumeric(t, f, w, dout, convKinkH), 1e-8)
	convAssertClose(t, "db", db, convNumeric(t, f, b, dout, convKinkH), 1e-8)
}

// The block is exactly the three layers in a row.
func TestConvReluPoolIsComposition(t *testing.T) {
	x := convRandn(t, 105, 2, 3, 9, 8)
	w := convRandn(t, 106, 4, 3, 3, 3)
	b := convRandn(t, 107, 4)
	cp := ConvParam{Stride: 1, Pad: 1}
	pp := PoolParam{Height: 3, Width: 2, Stride: 2}
	out, _, err := ConvReluPoolForward(x, w, b, cp, pp)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := ConvForwardNaive(x, w, b, cp)
	for i, v := range a.Data {
		a.Data[i] = max(v, 0)
	}
	want, _, err := MaxPoolForward(a, pp)
	if err != nil {
		t.Fatal(err)
	}
	convAssertClose(t, "conv-relu-pool vs layers", out, want, 1e-12)
}

func TestConvReluPoolBadInput(t *testing.T) {
	x := convRandn(t, 108, 2, 3, 4, 4)
	w := convRandn(t, 109, 2, 3, 3, 3)
	_, _, err := ConvReluPoolForward(x, w, nil, ConvParam{Stride: 0}, PoolParam{Height: 2, Width: 2, Stride: 2})
	convWantError(t, "conv stride 0", err, "nn.ConvForwardFast", "stride")
	_, _, err = ConvReluPoolForward(x, w, nil, ConvParam{Stride: 1, Pad: 1}, PoolParam{Height: 5, Width: 2, Stride: 2})
	convWantError(t, "pool window", err, "nn.MaxPoolForward", "larger than")
	_, _, _, err = ConvReluPoolBackward(convRandn(t, 110, 2, 2, 2, 2), nil)
	convWantError(t, "nil cache", err, "nn.ConvReluPoolBackward", "cache is nil")
	_, cache, err := ConvReluPoolForward(x, w, nil, ConvParam{Stride: 1, Pad: 1}, PoolParam{Height: 2, Width: 2, Stride: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = ConvReluPoolBackward(convRandn(t, 111, 2, 2, 4, 4), cache)
	convWantError(t, "dout shape", err, "nn.MaxPoolBackward", "(2, 2, 4, 4)", "(2, 2, 2, 2)")
}
