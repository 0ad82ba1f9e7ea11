package nn

import (
	"testing"

	"gradlab/core/tensor"
)

// Homework problem 1: a 3x3 convolution from 3 to 4 channels has 108 weights;
// depthwise (27) plus pointwise (12) has 39.
func TestHomeworkParamCounts(t *testing.T) {
	if got := ConvParams(3, 4, 3); got != 108 {
		t.Errorf("ConvParams(3, 4, 3) = %d, want 108", got)
	}
	if got := SeparableParams(3, 4, 3); got != 39 {
		t.Errorf("SeparableParams(3, 4, 3) = %d, want 39", got)
	}
	// The counts are the sizes of the weight tensors the layers take.
	x := convRandn(t, 81, 1, 3, 224, 224)
	wd := convRandn(t, 82, 3, 1, 3, 3)
	wp := convRandn(t, 83, 4, 3, 1, 1)
	wf := convRandn(t, 84, 4, 3, 3, 3)
	if wf.Size() != ConvParams(3, 4, 3) || wd.Size()+wp.Size() != SeparableParams(3, 4, 3) {
		t.Errorf("weight sizes %d and %d+%d do not match the counts", wf.Size(), wd.Size(), wp.Size())
	}
	mid, _, err := DepthwiseConvForward(x, wd, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := PointwiseConvForward(mid, wp, nil)
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := ConvForwardFast(x, wf, nil, ConvParam{Stride: 1, Pad: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out.Shape, full.Shape) || !tensor.SameShape(out.Shape, []int{1, 4, 224, 224}) {
		t.Errorf("separable output %v and full output %v, want both (1, 4, 224, 224)", out.Shape, full.Shape)
	}
	for _, c := range [][3]int{{0, 4, 3}, {3, -1, 3}, {3, 4, 0}} {
		if ConvParams(c[0], c[1], c[2]) != 0 || SeparableParams(c[0], c[1], c[2]) != 0 {
			t.Errorf("counts for %v should be 0", c)
		}
	}
}

// A depthwise convolution is a dense one whose weights are zero between
// different channels; building that dense kernel checks the grouped path
// against the plain one.
func TestDepthwiseMatchesBlockDiagonalDense(t *testing.T) {
	const C, K = 4, 3
	x := convRandn(t, 85, 2, C, 7, 6)
	w := convRandn(t, 86, C, 1, K, K)
	b := convRandn(t, 87, C)
	dense := tensor.MustNew(C, C, K, K)
	for c := 0; c < C; c++ {
		copy(dense.Data[(c*C+c)*K*K:][:K*K], w.Data[c*K*K:][:K*K])
	}
	out, cache, err := DepthwiseConvForward(x, w, b, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, dcache, err := ConvForwardNaive(x, dense, b, ConvParam{Stride: 2, Pad: 1})
	if err != nil {
		t.Fatal(err)
	}
	convAssertClose(t, "depthwise vs dense", out, want, 1e-12)
	dout := convRandn(t, 88, out.Shape...)
	dx, dw, db, err := DepthwiseConvBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	dxD, dwD, dbD, err := ConvBackwardNaive(dout, dcache)
	if err != nil {
		t.Fatal(err)
	}
	convAssertClose(t, "dx", dx, dxD, 1e-12)
	convAssertClose(t, "db", db, dbD, 1e-12)
	diag := tensor.MustNew(C, 1, K, K)
	for c := 0; c < C; c++ {
		copy(diag.Data[c*K*K:][:K*K], dwD.Data[(c*C+c)*K*K:][:K*K])
	}
	convAssertClose(t, "dw", dw, diag, 1e-12)
}

// A pointwise convolution multiplies the channel vector at every pixel by
// the (F, C) matrix w.
func TestPointwiseIsPerPixelMatrix(t *testing.T) {
	const N, C, H, W, F = 2, 5, 3, 4, 3
	x := convRandn(t, 89, N, C, H, W)
	w := convRandn(t, 90, F, C, 1, 1)
	b := convRandn(t, 91, F)
	out, _, err := PointwiseConvForward(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	want := tensor.MustNew(N, F, H, W)
	for n := 0; n < N; n++ {
		for f := 0; f < F; f++ {
			for p := 0; p < H*W; p++ {
				s := b.Data[f]
				for c := 0; c < C; c++ {
					s += w.Data[f*C+c] * x.Data[(n*C+c)*H*W+p]
				}
				want.Data[(n*F+f)*H*W+p] = s
			}
		}
	}
	convAssertClose(t, "pointwise vs matrix", out, want, 1e-12)
}

func TestDepthwisePointwiseGradients(t *testing.T) {
	x := convRandn(t, 92, 3, 4, 6, 5)
	t.Run("depthwise", func(t *testing.T) {
		w := convRandn(t, 93, 4, 1, 3, 3)
		b := convRandn(t, 94, 4)
		fwd := func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *ConvCache, error) {
			return DepthwiseConvForward(x, w, b, p.Stride, p.Pad)
		}
		out, _, err := fwd(x, w, b, ConvParam{Stride: 1, Pad: 1})
		if err != nil {
			t.Fatal(err)
		}
		dout := convRandn(t, 95, out.Shape...)
		convCheckGrads(t, fwd, DepthwiseConvBackward, x, w, b, dout, ConvParam{Stride: 1, Pad: 1}, convExactH, 1e-8)
	})
	t.Run("pointwise", func(t *testing.T) {
		w := convRandn(t, 96, 7, 4, 1, 1)
		fwd := func(x, w, b *tensor.Tensor, _ ConvParam) (*tensor.Tensor, *ConvCache, error) {
			return PointwiseConvForward(x, w, b)
		}
		dout := convRandn(t, 97, 3, 7, 6, 5)
		convCheckGrads(t, fwd, PointwiseConvBackward, x, w, nil, dout, ConvParam{}, convExactH, 1e-8)
	})
}

func TestDepthwisePointwiseBadInput(t *testing.T) {
	const dop, pop = "nn.DepthwiseConvForward", "nn.PointwiseConvForward"
	x := convRandn(t, 98, 2, 3, 5, 5)
	_, _, err := DepthwiseConvForward(nil, convRandn(t, 99, 3, 1, 3, 3), nil, 1, 1)
	convWantError(t, "depthwise nil x", err, dop, "nil")
	_, _, err = DepthwiseConvForward(x, convRandn(t, 99, 3, 2, 3, 3), nil, 1, 1)
	convWantError(t, "depthwise two channels per filter", err, dop, "(3, 2, 3, 3)", "one filter per input channel")
	_, _, err = DepthwiseConvForward(x, convRandn(t, 99, 4, 1, 3, 3), nil, 1, 1)
	convWantError(t, "depthwise filter count", err, dop, "(4, 1, 3, 3)")
	_, _, err = DepthwiseConvForward(x, convRandn(t, 99, 3, 1, 3, 3), nil, 0, 1)
	convWantError(t, "depthwise stride 0", err, dop, "(2, 3, 5, 5)", "stride")
	_, _, err = DepthwiseConvForward(x, convRandn(t, 99, 3, 1, 3, 3), convRandn(t, 1, 4), 1, 1)
	convWantError(t, "depthwise bias length", err, dop, "b must have shape (3,)")
	_, _, err = PointwiseConvForward(x, convRandn(t, 99, 4, 3, 3, 3), nil)
	convWantError(t, "pointwise 3x3", err, pop, "(4, 3, 3, 3)", "(F, C, 1, 1)")
	_, _, err = PointwiseConvForward(x, convRandn(t, 99, 4, 2, 1, 1), nil)
	convWantError(t, "pointwise channels", err, pop, "(4, 2, 1, 1)", "channels per filter")
	_, _, err = PointwiseConvForward(x, nil, nil)
	convWantError(t, "pointwise nil w", err, pop, "nil")
	_, _, _, err = PointwiseConvBackward(convRandn(t, 99, 2, 4, 5, 5), nil)
	convWantError(t, "pointwise nil cache", err, "nn.PointwiseConvBackward", "cache is nil")
	_, cache, err := DepthwiseConvForward(x, convRandn(t, 99, 3, 1, 3, 3), nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = DepthwiseConvBackward(convRandn(t, 99, 2, 3, 4, 5), cache)
	convWantError(t, "depthwise dout shape", err, "nn.DepthwiseConvBackward", "(2, 3, 4, 5)", "(2, 3, 5, 5)")
}

// Depthwise then pointwise (no biases) is one ordinary convolution whose
// kernel for output o and input channel i is pointwise[o, i] * depthwise[i]:
// the rank-1-per-channel factorisation depthwise.go describes.
func TestSeparableEqualsFactoredDense(t *testing.T) {
	const C, F, K = 3, 4, 3
	x := convRandn(t, 121, 2, C, 8, 7)
	wd := convRandn(t, 122, C, 1, K, K)
	wp := convRandn(t, 123, F, C, 1, 1)
	mid, _, err := DepthwiseConvForward(x, wd, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := PointwiseConvForward(mid, wp, nil)
	if err != nil {
		t.Fatal(err)
	}
	full := tensor.MustNew(F, C, K, K)
	for o := 0; o < F; o++ {
		for i := 0; i < C; i++ {
			for j := 0; j < K*K; j++ {
				full.Data[(o*C+i)*K*K+j] = wp.Data[o*C+i] * wd.Data[i*K*K+j]
			}
		}
	}
	want, _, err := ConvForwardNaive(x, full, nil, ConvParam{Stride: 1, Pad: 1})
	if err != nil {
		t.Fatal(err)
	}
	convAssertClose(t, "separable vs factored dense", out, want, 1e-10)
}
