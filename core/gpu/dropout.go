package gpu

import (
	"encoding/binary"

	"gradlab/core/rng"
	"gradlab/core/tensor"
)

var (
	kDropoutForward  = Kernel{Shader: "dropout", Entry: "dropout_forward", Bindings: []Access{Uniform, Read, Read, ReadWrite, ReadWrite}}
	kDropoutBackward = Kernel{Shader: "dropout", Entry: "dropout_backward", Bindings: []Access{Uniform, Read, Unused, ReadWrite, Unused, Read}}
)

// Dropout is inverted dropout at train time: each unit is dropped with
// probability p and kept units are scaled by 1/(1-p). The mask is drawn from
// core/rng's Philox stream (seed, step, layer) exactly as core/nn draws it:
// mask[i] != 0 iff rng.Keep(seed, step, layer, i, rng.KeepThreshold(p)).
// It returns the output and the mask (same shape as x, holding 0 or
// 1/(1-p)), which DropoutBackward takes.
func (d *Device) Dropout(x *Tensor, p float64, seed uint64, step, layer uint32) (out, mask *Tensor, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own("gpu.Dropout", x); err != nil {
		return nil, nil, err
	}
	return d.dropout("gpu.Dropout", x, 1, x.shape, p, seed, step, layer)
}

// SpatialDropout drops whole channels of an NCHW x: one draw per (n, c), at
// Philox index n*C + c. The mask has shape (N, C, 1, 1).
func (d *Device) SpatialDropout(x *Tensor, p float64, seed uint64, step, layer uint32) (out, mask *Tensor, err error) {
	const op = "gpu.SpatialDropout"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, x); err != nil {
		return nil, nil, err
	}
	if len(x.shape) != 4 {
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "want a 4-d NCHW tensor")
	}
	return d.dropout(op, x, x.shape[2]*x.shape[3], []int{x.shape[0], x.shape[1], 1, 1}, p, seed, step, layer)
}

func (d *Device) dropout(op string, x *Tensor, group int, maskShape []int, p float64, seed uint64, step, layer uint32) (*Tensor, *Tensor, error) {
	if !(p >= 0 && p < 1) {
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "drop probability p must be in [0, 1), got %v", p)
	}
	out, err := d.newTensor(op, x.shape)
	if err != nil {
		return nil, nil, err
	}
	mask, err := d.newTensor(op, maskShape)
	if err != nil {
		d.release(out.buf, out.cap, storageUsage)
		return nil, nil, err
	}
	// The step travels in a pooled buffer of its own, released at once as
	// recordUpdate does with its hyper-parameters: the uniform block below
	// is the same every step, so it stays one cached buffer per layer.
	stepBuf, err := d.newTensor(op, []int{1})
	if err != nil {
		d.release(out.buf, out.cap, storageUsage)
		d.release(mask.buf, mask.cap, storageUsage)
		return nil, nil, err
	}
	defer d.release(stepBuf.buf, stepBuf.cap, storageUsage)
	prm := params{}.u32(uint32(x.n), uint32(group), rng.KeepThreshold(p), uint32(seed), uint32(seed>>32), layer).f32(float32(1 / (1 - p)))
	err = d.writeBuffer(stepBuf.buf, binary.LittleEndian.AppendUint32(nil, step))
	if err == nil {
		err = d.elementwise(op, kDropoutForward, x.n, prm, x, stepBuf, out, mask)
	}
	if err != nil {
		d.release(out.buf, out.cap, storageUsage)
		d.release(mask.buf, mask.cap, storageUsage)
		return nil, nil, err
	}
	return out, mask, nil
}

// DropoutBackward returns dout * mask for the mask Dropout returned.
func (d *Device) DropoutBackward(dout, mask *Tensor) (*Tensor, error) {
	const op = "gpu.DropoutBackward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, mask); err != nil {
		return nil, err
	}
	if !tensor.SameShape(dout.shape, mask.shape) {
		return nil, tensor.Errorf(op, [][]int{dout.shape, mask.shape}, "dout and mask must have the same shape")
	}
	return d.dropoutBackward(op, dout, mask, 1)
}

// SpatialDropoutBackward returns dout * mask with the (N, C, 1, 1) mask
// broadcast over H and W.
func (d *Device) SpatialDropoutBackward(dout, mask *Tensor) (*Tensor, error) {
	const op = "gpu.SpatialDropoutBackward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, mask); err != nil {
		return nil, err
	}
	s := dout.shape
	if len(s) != 4 || !tensor.SameShape(mask.shape, []int{s[0], s[1], 1, 1}) {
		return nil, tensor.Errorf(op, [][]int{dout.shape, mask.shape}, "want dout (N, C, H, W) and mask (N, C, 1, 1)")
	}
	return d.dropoutBackward(op, dout, mask, s[2]*s[3])
}

func (d *Device) dropoutBackward(op string, dout, mask *Tensor, group int) (*Tensor, error) {
	dx, err := d.newTensor(op, dout.shape)
	if err != nil {
		return nil, err
	}
	// Same Params struct as the forward pass: the uniform binding must cover
	// all of it even though backward reads only n and group.
	prm := params{}.u32(uint32(dout.n), uint32(group), 0, 0, 0, 0).f32(0)
	// Buffers in binding order: dout (1), dx (3), mask (5).
	if err := d.elementwise(op, kDropoutBackward, dout.n, prm, dout, dx, mask); err != nil {
		d.release(dx.buf, dx.cap, storageUsage)
		return nil, err
	}
	return dx, nil
}
