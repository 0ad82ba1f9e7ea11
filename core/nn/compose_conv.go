package nn

import "gradlab/core/tensor"

// ConvReluPoolCache holds the three caches of ConvReluPoolForward.
type ConvReluPoolCache struct {
	conv *ConvCache
	relu *ReluCache
	pool *PoolCache
}

// ConvReluPoolForward is the course's conv - relu - 2x2 max-pool block (any
// pool window here), using the fast convolution as the course does.
func ConvReluPoolForward(x, w, b *tensor.Tensor, cp ConvParam, pp PoolParam) (*tensor.Tensor, *ConvReluPoolCache, error) {
	a, cc, err := ConvForwardFast(x, w, b, cp)
	if err != nil {
		return nil, nil, err
	}
	r, rc, err := ReluForward(a)
	if err != nil {
		return nil, nil, err
	}
	out, pc, err := MaxPoolForward(r, pp)
	if err != nil {
		return nil, nil, err
	}
	return out, &ConvReluPoolCache{conv: cc, relu: rc, pool: pc}, nil
}

// ConvReluPoolBackward runs the three backward passes in reverse order.
func ConvReluPoolBackward(dout *tensor.Tensor, c *ConvReluPoolCache) (dx, dw, db *tensor.Tensor, err error) {
	if c == nil {
		return nil, nil, nil, tensor.Errorf("nn.ConvReluPoolBackward", nil, "cache is nil; pass the cache ConvReluPoolForward returned")
	}
	dr, err := MaxPoolBackward(dout, c.pool)
	if err != nil {
		return nil, nil, nil, err
	}
	da, err := ReluBackward(dr, c.relu)
	if err != nil {
		return nil, nil, nil, err
	}
	return ConvBackwardFast(da, c.conv)
}
