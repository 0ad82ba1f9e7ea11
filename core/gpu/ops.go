package gpu

import "gradlab/core/tensor"

// elementWG is WG in the element-wise shaders (elementwise.wgsl,
// dropout.wgsl, affine.wgsl).
const elementWG = 256

var kFill = Kernel{Shader: "elementwise", Entry: "fill", Bindings: []Access{Uniform, Unused, Unused, ReadWrite}}

// elementwise records an element-wise kernel over n elements.
func (d *Device) elementwise(op string, k Kernel, n int, p params, bufs ...*Tensor) error {
	grid, err := d.grid1D(op, uint32((n+elementWG-1)/elementWG))
	if err != nil {
		return err
	}
	return d.dispatch(k, grid, p, bufs...)
}

// own checks that every input is a live tensor of this device. Callers hold
// d.mu.
func (d *Device) own(op string, ts ...*Tensor) error {
	if err := d.alive(); err != nil {
		return err
	}
	for i, t := range ts {
		if t == nil {
			return tensor.Errorf(op, nil, "input %d is nil", i)
		}
		if t.buf == nil {
			return tensor.Errorf(op, [][]int{t.shape}, "input %d was released", i)
		}
		if t.dev != d {
			return tensor.Errorf(op, [][]int{t.shape}, "input %d belongs to another device", i)
		}
	}
	return nil
}
