package nn

import (
	"errors"

	"gradlab/core/tensor"
)

// Homework problem 1 splits a k x k convolution from cin to cout channels
// into two cheaper steps:
//   - a depthwise convolution: one k x k filter per input channel, no mixing
//     between channels (cin*k*k weights), then
//   - a pointwise convolution: a 1x1 convolution that mixes channels at each
//     pixel independently (cin*cout weights).
//
// Together they see the same k x k neighbourhood of every channel, and they
// equal one ordinary convolution whose kernel slice for input channel i is
// the rank-1 product pointwise[:, i] x depthwise[i]: the low-rank
// approximation the homework names. For its 3 -> 4 channels with 3x3
// kernels that is 39 weights instead of 108 (SeparableParams, ConvParams).
// The wrappers below are plain convolutions with Groups = C and with 1x1
// kernels, so they share ConvForwardFast's checks, cache and speed.

// DepthwiseConvForward convolves each channel of x (N, C, H, W) with its own
// filter: w is (C, 1, HH, WW), b is (C) or nil. The output has C channels.
func DepthwiseConvForward(x, w, b *tensor.Tensor, stride, pad int) (*tensor.Tensor, *ConvCache, error) {
	const op = "nn.DepthwiseConvForward"
	if x == nil || w == nil {
		return nil, nil, tensor.Errorf(op, nil, "x and w must not be nil")
	}
	if len(x.Shape) != 4 || len(w.Shape) != 4 || w.Shape[0] != x.Shape[1] || w.Shape[1] != 1 {
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape, w.Shape}, "want x (N, C, H, W) and w (C, 1, HH, WW): one filter per input channel")
	}
	return convWrapped(op, x, w, b, ConvParam{Stride: stride, Pad: pad, Groups: x.Shape[1]})
}

// DepthwiseConvBackward returns dx, dw (C, 1, HH, WW) and db (nil without bias).
func DepthwiseConvBackward(dout *tensor.Tensor, c *ConvCache) (dx, dw, db *tensor.Tensor, err error) {
	dx, dw, db, err = ConvBackwardFast(dout, c)
	return dx, dw, db, renameErr("nn.DepthwiseConvBackward", err)
}

// PointwiseConvForward is a 1x1 convolution, stride 1, no padding: at every
// pixel the C input values are mixed by the matrix w (F, C, 1, 1) into F
// outputs. b is (F) or nil.
func PointwiseConvForward(x, w, b *tensor.Tensor) (*tensor.Tensor, *ConvCache, error) {
	const op = "nn.PointwiseConvForward"
	if x == nil || w == nil {
		return nil, nil, tensor.Errorf(op, nil, "x and w must not be nil")
	}
	if len(w.Shape) != 4 || w.Shape[2] != 1 || w.Shape[3] != 1 {
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape, w.Shape}, "w must be (F, C, 1, 1)")
	}
	return convWrapped(op, x, w, b, ConvParam{Stride: 1, Pad: 0, Groups: 1})
}

// PointwiseConvBackward returns dx, dw (F, C, 1, 1) and db (nil without bias).
func PointwiseConvBackward(dout *tensor.Tensor, c *ConvCache) (dx, dw, db *tensor.Tensor, err error) {
	dx, dw, db, err = ConvBackwardFast(dout, c)
	return dx, dw, db, renameErr("nn.PointwiseConvBackward", err)
}

// convWrapped runs ConvForwardFast with errors named after the wrapper the
// learner actually called.
func convWrapped(op string, x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *ConvCache, error) {
	out, cache, err := ConvForwardFast(x, w, b, p)
	if err != nil {
		return nil, nil, renameErr(op, err)
	}
	return out, cache, nil
}

// renameErr gives a *tensor.Error from an inner call the wrapper's name.
func renameErr(op string, err error) error {
	var te *tensor.Error
	if errors.As(err, &te) {
		return tensor.Errorf(op, te.Shapes, "%s", te.Msg)
	}
	return err
}

// ConvParams is the number of weights of a k x k convolution from cin to
// cout channels, without biases (as the homework counts): cout*cin*k*k.
// For the homework's 3 -> 4 channels with 3x3 kernels that is 108.
// It returns 0 if any argument is not positive.
func ConvParams(cin, cout, k int) int {
	if cin <= 0 || cout <= 0 || k <= 0 {
		return 0
	}
	return cout * cin * k * k
}

// SeparableParams is the number of weights of a depthwise (cin*k*k) plus
// pointwise (cin*cout) convolution, without biases: 27 + 12 = 39 for the
// homework's 3 -> 4 channels with 3x3 kernels. It returns 0 if any argument
// is not positive.
func SeparableParams(cin, cout, k int) int {
	if cin <= 0 || cout <= 0 || k <= 0 {
		return 0
	}
	return cin*k*k + cin*cout
}
