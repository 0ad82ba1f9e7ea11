package nn

import (
	"gradlab/core/rng"
	"gradlab/core/tensor"
)

// DropoutCache holds the mask dropout applied: 1/(1-P) where a unit was
// kept and 0 where it was dropped, in x's shape. In test mode Mask is nil
// and the layer was the identity.
type DropoutCache struct {
	Param DropoutParam
	Shape []int
	Mask  *tensor.Tensor
}

// SpatialDropoutCache is DropoutCache for SpatialDropoutForward: Mask is
// (N, C, 1, 1), one value per channel of each image.
type SpatialDropoutCache struct {
	Param DropoutParam
	Shape []int
	Mask  *tensor.Tensor
}

// DropoutKeepMask reports, for each of size elements, whether train-mode
// dropout keeps it: element i is kept iff
// rng.Keep(Seed, Step, Layer, i, rng.KeepThreshold(P)). It ignores Mode.
// The GPU kernels draw the same mask bit for bit; tests compare the two.
func DropoutKeepMask(param DropoutParam, size int) ([]bool, error) {
	const op = "nn.DropoutKeepMask"
	if err := checkDropoutParam(op, param); err != nil {
		return nil, err
	}
	if size <= 0 || size > tensor.MaxElements {
		return nil, tensor.Errorf(op, nil, "size must be in [1, %d], got %d", tensor.MaxElements, size)
	}
	threshold := rng.KeepThreshold(param.P)
	keep := make([]bool, size)
	for i := range keep {
		keep[i] = rng.Keep(param.Seed, param.Step, param.Layer, uint32(i), threshold)
	}
	return keep, nil
}

// DropoutForward is inverted dropout. In train mode each element is dropped
// with probability P and the survivors are scaled by 1/(1-P), so the
// expected output equals the input and test mode can be the identity.
func DropoutForward(x *tensor.Tensor, param DropoutParam) (*tensor.Tensor, *DropoutCache, error) {
	const op = "nn.DropoutForward"
	if err := checkOperand(op, "x", x); err != nil {
		return nil, nil, err
	}
	if err := checkDropoutParam(op, param); err != nil {
		return nil, nil, err
	}
	cache := &DropoutCache{Param: param, Shape: append([]int(nil), x.Shape...)}
	if param.Mode == Test {
		return x.Clone(), cache, nil
	}
	mask, err := dropoutMask(param, x.Shape)
	if err != nil {
		return nil, nil, err
	}
	out := tensor.ZerosLike(x)
	for i, v := range x.Data {
		out.Data[i] = v * mask.Data[i]
	}
	cache.Mask = mask
	return out, cache, nil
}

// DropoutBackward multiplies dout by the same mask: a dropped unit passed
// nothing forward, so it gets no gradient back.
func DropoutBackward(dout *tensor.Tensor, cache *DropoutCache) (*tensor.Tensor, error) {
	const op = "nn.DropoutBackward"
	if cache == nil {
		return nil, tensor.Errorf(op, nil, "cache is nil; pass the cache DropoutForward returned")
	}
	if err := checkUpstream(op, dout, cache.Shape); err != nil {
		return nil, err
	}
	if cache.Mask == nil {
		return dout.Clone(), nil
	}
	if len(cache.Mask.Data) != len(dout.Data) {
		return nil, tensor.Errorf(op, [][]int{dout.Shape, cache.Mask.Shape}, "cache mask does not match dout")
	}
	dx := tensor.ZerosLike(dout)
	for i, g := range dout.Data {
		dx.Data[i] = g * cache.Mask.Data[i]
	}
	return dx, nil
}

// SpatialDropoutForward drops whole channels: x is (N, C, H, W) and one draw,
// with element index n*C + c, decides the fate of all H*W values of channel
// c in image n. Neighbouring pixels of a feature map are strongly correlated,
// so dropping single pixels would barely regularise a convolutional layer.
func SpatialDropoutForward(x *tensor.Tensor, param DropoutParam) (*tensor.Tensor, *SpatialDropoutCache, error) {
	const op = "nn.SpatialDropoutForward"
	if err := checkOperand(op, "x", x); err != nil {
		return nil, nil, err
	}
	n, c, h, w, err := x.Shape4(op)
	if err != nil {
		return nil, nil, err
	}
	if err := checkDropoutParam(op, param); err != nil {
		return nil, nil, err
	}
	cache := &SpatialDropoutCache{Param: param, Shape: append([]int(nil), x.Shape...)}
	if param.Mode == Test {
		return x.Clone(), cache, nil
	}
	mask, err := dropoutMask(param, []int{n, c, 1, 1})
	if err != nil {
		return nil, nil, err
	}
	cache.Mask = mask
	return scaleChannels(x, mask, h*w), cache, nil
}

// SpatialDropoutBackward applies the per-channel mask to dout.
func SpatialDropoutBackward(dout *tensor.Tensor, cache *SpatialDropoutCache) (*tensor.Tensor, error) {
	const op = "nn.SpatialDropoutBackward"
	if cache == nil || len(cache.Shape) != 4 {
		return nil, tensor.Errorf(op, nil, "cache is nil; pass the cache SpatialDropoutForward returned")
	}
	if err := checkUpstream(op, dout, cache.Shape); err != nil {
		return nil, err
	}
	if cache.Mask == nil {
		return dout.Clone(), nil
	}
	n, c, h, w := cache.Shape[0], cache.Shape[1], cache.Shape[2], cache.Shape[3]
	if len(cache.Mask.Data) != n*c {
		return nil, tensor.Errorf(op, [][]int{dout.Shape, cache.Mask.Shape}, "cache mask is not (N, C, 1, 1)")
	}
	return scaleChannels(dout, cache.Mask, h*w), nil
}

// dropoutMask draws the train-mode mask of the given shape as floats:
// 1/(1-P) for a kept element, 0 for a dropped one.
func dropoutMask(param DropoutParam, shape []int) (*tensor.Tensor, error) {
	mask, err := tensor.New(shape...)
	if err != nil {
		return nil, err
	}
	keep, err := DropoutKeepMask(param, len(mask.Data))
	if err != nil {
		return nil, err
	}
	scale := 1 / (1 - param.P)
	for i, k := range keep {
		if k {
			mask.Data[i] = scale
		}
	}
	return mask, nil
}

// scaleChannels multiplies each H*W plane of t by its channel's mask value.
func scaleChannels(t, mask *tensor.Tensor, plane int) *tensor.Tensor {
	out := tensor.ZerosLike(t)
	for nc, m := range mask.Data {
		src := t.Data[nc*plane : (nc+1)*plane]
		dst := out.Data[nc*plane : (nc+1)*plane]
		for p, v := range src {
			dst[p] = v * m
		}
	}
	return out
}

func checkDropoutParam(op string, param DropoutParam) error {
	if !(param.P >= 0 && param.P < 1) {
		return tensor.Errorf(op, nil, "P is the drop probability and must be in [0, 1), got %v", param.P)
	}
	if param.Mode != Train && param.Mode != Test {
		return tensor.Errorf(op, nil, "mode %d is neither Train nor Test", int(param.Mode))
	}
	return nil
}
