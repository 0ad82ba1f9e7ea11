package gpu

import "gradlab/core/tensor"

var (
	kAddBias = Kernel{Shader: "affine", Entry: "add_bias", Bindings: []Access{Uniform, Read, ReadWrite}}
	kSumRows = Kernel{Shader: "affine", Entry: "sum_rows", Bindings: []Access{Uniform, Unused, Unused, Read, ReadWrite}}
)

// flatRows views x as (N, D) the way affine layers flatten (N, d1, ..., dk).
func flatRows(x *Tensor) (int, int) { return x.shape[0], x.n / x.shape[0] }

// AffineForward returns x w + b with x (N, d1..dk) flattened to (N, D),
// w (D, M) and b (M); the output is (N, M).
func (d *Device) AffineForward(x, w, b *Tensor) (*Tensor, error) {
	const op = "gpu.AffineForward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, x, w, b); err != nil {
		return nil, err
	}
	shapes := [][]int{x.shape, w.shape, b.shape}
	nRows, dIn := flatRows(x)
	if len(w.shape) != 2 || w.shape[0] != dIn || len(b.shape) != 1 || b.shape[0] != w.shape[1] {
		return nil, tensor.Errorf(op, shapes, "want x (N, D...), w (D, M), b (M,) with D = %d", dIn)
	}
	mOut := w.shape[1]
	out, err := d.newTensor(op, []int{nRows, mOut})
	if err != nil {
		return nil, err
	}
	xv := &Tensor{dev: d, buf: x.buf, shape: []int{nRows, dIn}, n: x.n}
	if err := d.recordMatmul(Auto, xv, w, out, nRows, mOut, dIn, false, false); err != nil {
		d.release(out.buf, out.cap, storageUsage)
		return nil, err
	}
	if err := d.elementwise(op, kAddBias, out.n, params{}.u32(uint32(nRows), uint32(mOut)), b, out); err != nil {
		d.release(out.buf, out.cap, storageUsage)
		return nil, err
	}
	return out, nil
}

// AffineBackward returns dx (shaped like x), dw (D, M) and db (M) for
// dout (N, M), from the forward inputs x and w:
// dx = dout w^T, dw = x^T dout, db = column sums of dout.
func (d *Device) AffineBackward(dout, x, w *Tensor) (dx, dw, db *Tensor, err error) {
	const op = "gpu.AffineBackward"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, x, w); err != nil {
		return nil, nil, nil, err
	}
	nRows, dIn := flatRows(x)
	if len(w.shape) != 2 || w.shape[0] != dIn || len(dout.shape) != 2 || dout.shape[0] != nRows || dout.shape[1] != w.shape[1] {
		return nil, nil, nil, tensor.Errorf(op, [][]int{dout.shape, x.shape, w.shape}, "want dout (N, M), x (N, D...), w (D, M) with N = %d, D = %d", nRows, dIn)
	}
	mOut := w.shape[1]
	var made []*Tensor
	fail := func(e error) (*Tensor, *Tensor, *Tensor, error) {
		for _, t := range made {
			d.release(t.buf, t.cap, storageUsage)
		}
		return nil, nil, nil, e
	}
	alloc := func(shape ...int) *Tensor {
		t, e := d.newTensor(op, shape)
		if e != nil {
			err = e
			return nil
		}
		made = append(made, t)
		return t
	}
	if dx, dw, db = alloc(x.shape...), alloc(dIn, mOut), alloc(mOut); err != nil {
		return fail(err)
	}
	xv := &Tensor{dev: d, buf: x.buf, shape: []int{nRows, dIn}, n: x.n}
	dxv := &Tensor{dev: d, buf: dx.buf, shape: []int{nRows, dIn}, n: dx.n}
	if err := d.recordMatmul(Auto, dout, w, dxv, nRows, dIn, mOut, false, true); err != nil {
		return fail(err)
	}
	if err := d.recordMatmul(Auto, xv, dout, dw, dIn, mOut, nRows, true, false); err != nil {
		return fail(err)
	}
	if err := d.elementwise(op, kSumRows, mOut, params{}.u32(uint32(nRows), uint32(mOut)), dout, db); err != nil {
		return fail(err)
	}
	return dx, dw, db, nil
}
