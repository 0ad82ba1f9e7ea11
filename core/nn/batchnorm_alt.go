package nn

import "gradlab/core/tensor"

// BatchnormBackwardAlt is batchnorm's backward pass in closed form. Working
// the graph of BatchnormBackward out on paper, every batch sum it needs is
// one of two: dbeta = Σ dout and dgamma = Σ dout·xhat (sums over the batch).
// With istd = 1/sqrt(var + eps), per feature:
//
//	dx = (1/N) · gamma · istd · (N·dout − dbeta − xhat·dgamma)
//
// That is two passes over the data instead of a dozen, with no N×D
// temporaries. It returns what BatchnormBackward returns, to rounding.
func BatchnormBackwardAlt(dout *tensor.Tensor, cache *BatchnormCache) (dx, dgamma, dbeta *tensor.Tensor, err error) {
	return batchnormBackwardAlt("nn.BatchnormBackwardAlt", dout, cache)
}

func batchnormBackwardAlt(op string, dout *tensor.Tensor, c *BatchnormCache) (dx, dgamma, dbeta *tensor.Tensor, err error) {
	n, d, err := checkBatchnormBackward(op, dout, c)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.Mode == Test {
		return batchnormBackwardTest(dout, c, n, d)
	}

	// Pass 1: the two batch sums.
	dbeta = tensor.MustNew(d)
	dgamma = tensor.MustNew(d)
	for k, g := range dout.Data {
		j := k % d
		dbeta.Data[j] += g
		dgamma.Data[j] += g * c.Xhat.Data[k]
	}

	// Pass 2: the closed form, element by element.
	nf := float64(n)
	dx = tensor.MustNew(n, d)
	for k, g := range dout.Data {
		j := k % d
		scale := c.Gamma.Data[j] * c.Ivar.Data[j] / nf
		dx.Data[k] = scale * (nf*g - dbeta.Data[j] - c.Xhat.Data[k]*dgamma.Data[j])
	}
	return dx, dgamma, dbeta, nil
}
