package nn

import (
	"fmt"

	"gradlab/core/tensor"
)

// The compositions below are the course's "sandwich" layers. Each forward
// chains the layers and keeps their caches; each backward runs the layers'
// backward passes in reverse order. Errors from a layer inside are wrapped
// with the composition's name, so both show up in the message.

// AffineReluCache holds the caches of affine → relu.
type AffineReluCache struct {
	Affine *AffineCache
	Relu   *ReluCache
}

// AffineReluForward computes relu(x·w + b).
func AffineReluForward(x, w, b *tensor.Tensor) (*tensor.Tensor, *AffineReluCache, error) {
	const op = "nn.AffineReluForward"
	a, fc, err := AffineForward(x, w, b)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	out, rc, err := ReluForward(a)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	return out, &AffineReluCache{Affine: fc, Relu: rc}, nil
}

// AffineReluBackward returns dx, dw, db.
func AffineReluBackward(dout *tensor.Tensor, cache *AffineReluCache) (dx, dw, db *tensor.Tensor, err error) {
	const op = "nn.AffineReluBackward"
	if cache == nil {
		return nil, nil, nil, tensor.Errorf(op, nil, "cache is nil; pass the cache AffineReluForward returned")
	}
	da, err := ReluBackward(dout, cache.Relu)
	if err != nil {
		return nil, nil, nil, wrapLayer(op, err)
	}
	dx, dw, db, err = AffineBackward(da, cache.Affine)
	if err != nil {
		return nil, nil, nil, wrapLayer(op, err)
	}
	return dx, dw, db, nil
}

// AffineBatchnormReluCache holds the caches of affine → batchnorm → relu.
type AffineBatchnormReluCache struct {
	Affine    *AffineCache
	Batchnorm *BatchnormCache
	Relu      *ReluCache
}

// AffineBatchnormReluForward computes relu(batchnorm(x·w + b)); param is
// batchnorm's and its running statistics are updated in train mode.
func AffineBatchnormReluForward(x, w, b, gamma, beta *tensor.Tensor, param *BatchnormParam) (*tensor.Tensor, *AffineBatchnormReluCache, error) {
	const op = "nn.AffineBatchnormReluForward"
	a, fc, err := AffineForward(x, w, b)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	z, bc, err := BatchnormForward(a, gamma, beta, param)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	out, rc, err := ReluForward(z)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	return out, &AffineBatchnormReluCache{Affine: fc, Batchnorm: bc, Relu: rc}, nil
}

// AffineBatchnormReluBackward returns dx, dw, db, dgamma, dbeta. It uses the
// closed-form batchnorm backward, which equals the graph form to rounding.
func AffineBatchnormReluBackward(dout *tensor.Tensor, cache *AffineBatchnormReluCache) (dx, dw, db, dgamma, dbeta *tensor.Tensor, err error) {
	const op = "nn.AffineBatchnormReluBackward"
	if cache == nil {
		return nil, nil, nil, nil, nil, tensor.Errorf(op, nil, "cache is nil; pass the cache AffineBatchnormReluForward returned")
	}
	dz, err := ReluBackward(dout, cache.Relu)
	if err != nil {
		return nil, nil, nil, nil, nil, wrapLayer(op, err)
	}
	da, dgamma, dbeta, err := BatchnormBackwardAlt(dz, cache.Batchnorm)
	if err != nil {
		return nil, nil, nil, nil, nil, wrapLayer(op, err)
	}
	dx, dw, db, err = AffineBackward(da, cache.Affine)
	if err != nil {
		return nil, nil, nil, nil, nil, wrapLayer(op, err)
	}
	return dx, dw, db, dgamma, dbeta, nil
}

// AffineReluDropoutCache holds the caches of affine → relu → dropout.
type AffineReluDropoutCache struct {
	Affine  *AffineCache
	Relu    *ReluCache
	Dropout *DropoutCache
}

// AffineReluDropoutForward computes dropout(relu(x·w + b)).
func AffineReluDropoutForward(x, w, b *tensor.Tensor, param DropoutParam) (*tensor.Tensor, *AffineReluDropoutCache, error) {
	const op = "nn.AffineReluDropoutForward"
	a, fc, err := AffineForward(x, w, b)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	r, rc, err := ReluForward(a)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	out, dc, err := DropoutForward(r, param)
	if err != nil {
		return nil, nil, wrapLayer(op, err)
	}
	return out, &AffineReluDropoutCache{Affine: fc, Relu: rc, Dropout: dc}, nil
}

// AffineReluDropoutBackward returns dx, dw, db.
func AffineReluDropoutBackward(dout *tensor.Tensor, cache *AffineReluDropoutCache) (dx, dw, db *tensor.Tensor, err error) {
	const op = "nn.AffineReluDropoutBackward"
	if cache == nil {
		return nil, nil, nil, tensor.Errorf(op, nil, "cache is nil; pass the cache AffineReluDropoutForward returned")
	}
	dr, err := DropoutBackward(dout, cache.Dropout)
	if err != nil {
		return nil, nil, nil, wrapLayer(op, err)
	}
	da, err := ReluBackward(dr, cache.Relu)
	if err != nil {
		return nil, nil, nil, wrapLayer(op, err)
	}
	dx, dw, db, err = AffineBackward(da, cache.Affine)
	if err != nil {
		return nil, nil, nil, wrapLayer(op, err)
	}
	return dx, dw, db, nil
}

// wrapLayer prefixes a layer's error with the composition that called it;
// errors.As still finds the layer's *tensor.Error underneath.
func wrapLayer(op string, err error) error {
	return fmt.Errorf("%s: %w", op, err)
}
