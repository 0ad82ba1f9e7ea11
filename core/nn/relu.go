package nn

import "gradlab/core/tensor"

// ReluCache holds the ReLU's input; backward needs only its sign.
type ReluCache struct {
	X *tensor.Tensor
}

// ReluForward computes max(0, x) element-wise, for x of any shape.
func ReluForward(x *tensor.Tensor) (*tensor.Tensor, *ReluCache, error) {
	if err := checkOperand("nn.ReluForward", "x", x); err != nil {
		return nil, nil, err
	}
	out := tensor.ZerosLike(x)
	for i, v := range x.Data {
		if v > 0 {
			out.Data[i] = v
		}
	}
	return out, &ReluCache{X: x}, nil
}

// ReluBackward passes dout through where the input was positive and blocks
// it elsewhere. At exactly 0 the ReLU has no derivative; like the course we
// take 0 there.
func ReluBackward(dout *tensor.Tensor, cache *ReluCache) (*tensor.Tensor, error) {
	const op = "nn.ReluBackward"
	if cache == nil || cache.X == nil {
		return nil, tensor.Errorf(op, nil, "cache is nil; pass the cache ReluForward returned")
	}
	if err := checkUpstream(op, dout, cache.X.Shape); err != nil {
		return nil, err
	}
	dx := tensor.ZerosLike(dout)
	for i, v := range cache.X.Data {
		if v > 0 {
			dx.Data[i] = dout.Data[i]
		}
	}
	return dx, nil
}
