package gpu

import "gradlab/core/tensor"

var (
	kReluForward  = Kernel{Shader: "elementwise", Entry: "relu_forward", Bindings: []Access{Uniform, Read, Unused, ReadWrite}}
	kReluBackward = Kernel{Shader: "elementwise", Entry: "relu_backward", Bindings: []Access{Uniform, Read, Read, ReadWrite}}
)

// Relu returns max(x, 0).
func (d *Device) Relu(x *Tensor) (*Tensor, error) {
	const op = "gpu.Relu"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, x); err != nil {
		return nil, err
	}
	out, err := d.newTensor(op, x.shape)
	if err != nil {
		return nil, err
	}
	if err := d.elementwise(op, kReluForward, x.n, params{}.u32(uint32(x.n)), x, out); err != nil {
		d.release(out.buf, out.cap, storageUsage)
		return nil, err
	}
	return out, nil
}

// ReluBackward returns dout where x > 0 and 0 elsewhere; x is the forward
// input (the course's ReLU cache).
func (d *Device) ReluBackward(dout, x *Tensor) (*Tensor, error) {
	const op = "gpu.ReluBackward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, x); err != nil {
		return nil, err
	}
	if !tensor.SameShape(dout.shape, x.shape) {
		return nil, tensor.Errorf(op, [][]int{dout.shape, x.shape}, "dout and x must have the same shape")
	}
	dx, err := d.newTensor(op, x.shape)
	if err != nil {
		return nil, err
	}
	if err := d.elementwise(op, kReluBackward, x.n, params{}.u32(uint32(x.n)), x, dout, dx); err != nil {
		d.release(dx.buf, dx.cap, storageUsage)
		return nil, err
	}
	return dx, nil
}
