package gpu

import (
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// maxPoolKernel returns the pool kernel specialised to p's window and
// stride (compile-time constants, one cached pipeline per pool shape: ~2x
// faster on lavapipe at the reference CNN's 2x2/2), or with specialised
// false the generic one reading them from the uniform, the plain kernel
// the tests and benchmarks compare it with.
func maxPoolKernel(backward, specialised bool, p nn.PoolParam) Kernel {
	k := Kernel{Shader: "pool", Entry: "maxpool_forward", Bindings: []Access{Uniform, Read, Unused, Unused, ReadWrite, ReadWrite}}
	if backward {
		k = Kernel{Shader: "pool", Entry: "maxpool_backward", Bindings: []Access{Uniform, Unused, Read, Read, Unused, Unused, ReadWrite}}
	}
	if !specialised {
		p = nn.PoolParam{}
	}
	k.Consts = []Const{{"SPECIALISED", specialised}, {"PH", uint32(p.Height)}, {"PW", uint32(p.Width)}, {"STRIDE", uint32(p.Stride)}}
	return k
}

// maxWindow bounds Height*Width: the argmax offset is stored in an f32,
// exact below 2^24.
const maxWindow = 1 << 24

// MaxPoolCache is what MaxPoolBackward needs: Argmax has the output's shape
// and holds, for each output, the offset r*Width + q of the winning element
// inside its window (row r, column q), as an exactly represented f32. It
// owns Argmax: Release it after the backward pass.
type MaxPoolCache struct {
	Argmax      *Tensor
	xShape      []int
	p           nn.PoolParam
	specialised bool // backward uses the same kind of kernel as forward
}

// Release frees Argmax.
func (c *MaxPoolCache) Release() {
	if c != nil {
		c.Argmax.Release()
	}
}

// MaxPoolForward takes the maximum of each p.Height x p.Width window of
// every channel of x (N, C, H, W), moving by p.Stride, like
// nn.MaxPoolForward: the output is (N, C, 1+(H-Height)/Stride,
// 1+(W-Width)/Stride), rounded down, and ties go to the first maximum in
// row-major window order. Unlike core/nn it cannot refuse NaN without a
// read-back: a NaN never wins a comparison, so it is returned only when it
// is the window's first element.
func (d *Device) MaxPoolForward(x *Tensor, p nn.PoolParam) (*Tensor, *MaxPoolCache, error) {
	return d.maxPoolForward(x, p, true)
}

func (d *Device) maxPoolForward(x *Tensor, p nn.PoolParam, specialised bool) (*Tensor, *MaxPoolCache, error) {
	const op = "gpu.MaxPoolForward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, x); err != nil {
		return nil, nil, err
	}
	if len(x.shape) != 4 {
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "x must be 4-d (N, C, H, W)")
	}
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	switch {
	case p.Height < 1 || p.Width < 1:
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "pool window %dx%d must be at least 1x1", p.Height, p.Width)
	case p.Stride < 1:
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "stride must be >= 1, got %d", p.Stride)
	case p.Height > h || p.Width > w:
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "pool window %dx%d is larger than the %dx%d input", p.Height, p.Width, h, w)
	case p.Height*p.Width >= maxWindow:
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "pool window %dx%d has 2^24 elements or more; argmax offsets are stored as f32", p.Height, p.Width)
	}
	hout, wout := 1+(h-p.Height)/p.Stride, 1+(w-p.Width)/p.Stride
	out, err := d.newTensor(op, []int{n, c, hout, wout})
	if err != nil {
		return nil, nil, err
	}
	arg, err := d.newTensor(op, out.shape)
	if err != nil {
		d.release(out.buf, out.cap, storageUsage)
		return nil, nil, err
	}
	if err := d.elementwise(op, maxPoolKernel(false, specialised, p), out.n, poolParams(x.shape, out.shape, p), x, out, arg); err != nil {
		d.release(out.buf, out.cap, storageUsage)
		d.release(arg.buf, arg.cap, storageUsage)
		return nil, nil, err
	}
	return out, &MaxPoolCache{Argmax: arg, xShape: append([]int(nil), x.shape...), p: p, specialised: specialised}, nil
}

func poolParams(xs, os []int, p nn.PoolParam) params {
	return params{}.u32(uint32(xs[2]), uint32(xs[3]), uint32(os[2]), uint32(os[3]),
		uint32(p.Height), uint32(p.Width), uint32(p.Stride), uint32(shapeLen(os)), uint32(shapeLen(xs)))
}

// MaxPoolBackward routes each dout entry to the element that won its window;
// an element that wins several overlapping windows gets their sum, added in
// increasing output order. Each input element gathers from the outputs
// whose windows cover it, so no atomics are involved.
func (d *Device) MaxPoolBackward(dout *Tensor, cache *MaxPoolCache) (*Tensor, error) {
	const op = "gpu.MaxPoolBackward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if cache == nil || cache.Argmax == nil {
		return nil, tensor.Errorf(op, nil, "cache is nil; pass the cache MaxPoolForward returned")
	}
	if cache.Argmax.buf == nil {
		return nil, tensor.Errorf(op, [][]int{cache.Argmax.shape}, "cache was released")
	}
	if err := d.own(op, dout, cache.Argmax); err != nil {
		return nil, err
	}
	if !tensor.SameShape(dout.shape, cache.Argmax.shape) {
		return nil, tensor.Errorf(op, [][]int{dout.shape, cache.Argmax.shape}, "dout must have the forward output's shape")
	}
	dx, err := d.newTensor(op, cache.xShape)
	if err != nil {
		return nil, err
	}
	if err := d.elementwise(op, maxPoolKernel(true, cache.specialised, cache.p), dx.n, poolParams(cache.xShape, dout.shape, cache.p), dout, cache.Argmax, dx); err != nil {
		d.release(dx.buf, dx.cap, storageUsage)
		return nil, err
	}
	return dx, nil
}
