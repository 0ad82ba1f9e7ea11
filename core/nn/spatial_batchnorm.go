package nn

import "gradlab/core/tensor"

// SpatialBatchnormCache is the cache of the ordinary batchnorm that
// SpatialBatchnormForward runs on the transposed input, plus the input's
// NCHW shape to transpose the gradient back.
type SpatialBatchnormCache struct {
	BN         *BatchnormCache
	N, C, H, W int
}

// SpatialBatchnormForward is batchnorm for images: x is (N, C, H, W) and each
// channel is normalised over N, H and W together, so gamma and beta are (C,).
// Every pixel of every image is one sample of its channel's features, which
// is exactly ordinary batchnorm on x laid out as (N*H*W, C).
func SpatialBatchnormForward(x, gamma, beta *tensor.Tensor, param *BatchnormParam) (*tensor.Tensor, *SpatialBatchnormCache, error) {
	const op = "nn.SpatialBatchnormForward"
	if err := checkOperand(op, "x", x); err != nil {
		return nil, nil, err
	}
	n, c, h, w, err := x.Shape4(op)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range []struct {
		name string
		t    *tensor.Tensor
	}{{"gamma", gamma}, {"beta", beta}} {
		if err := checkOperand(op, p.name, p.t); err != nil {
			return nil, nil, err
		}
		if len(p.t.Shape) != 1 || p.t.Shape[0] != c {
			return nil, nil, tensor.Errorf(op, [][]int{x.Shape, p.t.Shape}, "%s must be (%d,), one value per channel", p.name, c)
		}
	}
	rows := nchwToRows(x, n, c, h, w)
	out, bn, err := batchnormForward(op, rows, gamma, beta, param)
	if err != nil {
		return nil, nil, err
	}
	return rowsToNCHW(out, n, c, h, w), &SpatialBatchnormCache{BN: bn, N: n, C: c, H: h, W: w}, nil
}

// SpatialBatchnormBackward returns dx (N, C, H, W), dgamma (C,) and dbeta (C,).
func SpatialBatchnormBackward(dout *tensor.Tensor, cache *SpatialBatchnormCache) (dx, dgamma, dbeta *tensor.Tensor, err error) {
	const op = "nn.SpatialBatchnormBackward"
	if cache == nil || cache.BN == nil {
		return nil, nil, nil, tensor.Errorf(op, nil, "cache is nil; pass the cache SpatialBatchnormForward returned")
	}
	n, c, h, w := cache.N, cache.C, cache.H, cache.W
	if err := checkUpstream(op, dout, []int{n, c, h, w}); err != nil {
		return nil, nil, nil, err
	}
	// The closed form: it equals the graph walk (see the batchnorm tests)
	// and is several times faster.
	drows, dgamma, dbeta, err := batchnormBackwardAlt(op, nchwToRows(dout, n, c, h, w), cache.BN)
	if err != nil {
		return nil, nil, nil, err
	}
	return rowsToNCHW(drows, n, c, h, w), dgamma, dbeta, nil
}

// nchwToRows copies x (N, C, H, W) into (N*H*W, C): row (n, y, x), column c.
func nchwToRows(t *tensor.Tensor, n, c, h, w int) *tensor.Tensor {
	rows := tensor.MustNew(n*h*w, c)
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			plane := t.Data[(in*c+ic)*h*w : (in*c+ic+1)*h*w]
			for p, v := range plane {
				rows.Data[(in*h*w+p)*c+ic] = v
			}
		}
	}
	return rows
}

// rowsToNCHW is the inverse of nchwToRows.
func rowsToNCHW(rows *tensor.Tensor, n, c, h, w int) *tensor.Tensor {
	t := tensor.MustNew(n, c, h, w)
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			plane := t.Data[(in*c+ic)*h*w : (in*c+ic+1)*h*w]
			for p := range plane {
				plane[p] = rows.Data[(in*h*w+p)*c+ic]
			}
		}
	}
	return t
}
