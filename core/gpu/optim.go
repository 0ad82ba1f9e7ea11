package gpu

import (
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"

	"gradlab/core/tensor"
)

var (
	kSGD         = Kernel{Shader: "optim", Entry: "sgd_update", Bindings: []Access{Uniform, Read, Read, ReadWrite}}
	kSGDMomentum = Kernel{Shader: "optim", Entry: "sgd_momentum_update", Bindings: []Access{Uniform, Read, Read, ReadWrite, ReadWrite}}
	kAdam        = Kernel{Shader: "optim", Entry: "adam_update", Bindings: []Access{Uniform, Read, Read, ReadWrite, ReadWrite, ReadWrite}}
)

// optimHyper is the per-call scalar block of shaders/optim.wgsl, in its
// order.
type optimHyper struct {
	lr, mom, beta2, oneMinusB1, oneMinusB2, invC1, invC2, eps, wd float32
}

// SGDUpdate does w -= lr * dw in place (optim's "sgd").
//
// Like every update here, it records and returns at once; nothing is read
// back, so, unlike core/optim, it cannot refuse a gradient holding NaN or
// Inf (that would cost a readback per step).
func (d *Device) SGDUpdate(w, dw *Tensor, lr float32) error {
	const op = "gpu.SGDUpdate"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkUpdate(op, w, dw); err != nil {
		return err
	}
	if err := checkLR32(op, w, lr); err != nil {
		return err
	}
	return d.recordUpdate(op, kSGD, optimHyper{lr: lr}, w, dw)
}

// SGDMomentumUpdate is optim's "sgd_momentum" in place: v = momentum*v -
// lr*dw; w += v. v is the velocity, same shape as w, zeros before the first
// step (d.Zeros).
func (d *Device) SGDMomentumUpdate(w, dw, v *Tensor, lr, momentum float32) error {
	const op = "gpu.SGDMomentumUpdate"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkUpdate(op, w, dw, v); err != nil {
		return err
	}
	if err := checkLR32(op, w, lr); err != nil {
		return err
	}
	if !(momentum >= 0 && momentum < 1) {
		return tensor.Errorf(op, [][]int{w.shape}, "momentum = %v, want a value in [0, 1)", momentum)
	}
	return d.recordUpdate(op, kSGDMomentum, optimHyper{lr: lr, mom: momentum}, w, dw, v)
}

// AdamUpdate is optim's "adam" (weightDecay 0) or "adamw" (weightDecay > 0,
// decoupled: w -= lr*(step + weightDecay*w)) in place. m and v are the
// moment estimates, same shape as w, zeros before the first step; t is the
// 1-based step number, used for the bias corrections 1/(1 - beta^t) exactly
// as core/optim's Adam (whose T is incremented before use). The learning
// rate and t may change every call: they travel in a per-call buffer, and no
// pipeline or uniform buffer is created for a new value.
func (d *Device) AdamUpdate(w, dw, m, v *Tensor, lr, beta1, beta2, eps float32, t int, weightDecay float32) error {
	const op = "gpu.AdamUpdate"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkUpdate(op, w, dw, m, v); err != nil {
		return err
	}
	if err := checkLR32(op, w, lr); err != nil {
		return err
	}
	shapes := [][]int{w.shape}
	switch {
	case !(beta1 >= 0 && beta1 < 1):
		return tensor.Errorf(op, shapes, "beta1 = %v, want a value in [0, 1)", beta1)
	case !(beta2 >= 0 && beta2 < 1):
		return tensor.Errorf(op, shapes, "beta2 = %v, want a value in [0, 1)", beta2)
	case !(eps > 0) || math.IsInf(float64(eps), 1):
		return tensor.Errorf(op, shapes, "eps = %v, want a finite value > 0", eps)
	case !(weightDecay >= 0) || math.IsInf(float64(weightDecay), 1):
		return tensor.Errorf(op, shapes, "weight decay = %v, want a finite value >= 0", weightDecay)
	case t < 1:
		return tensor.Errorf(op, shapes, "step t = %d, want t >= 1 (the first update is t = 1)", t)
	}
	b1, b2 := float64(beta1), float64(beta2)
	c1 := 1 - math.Pow(b1, float64(t))
	c2 := 1 - math.Pow(b2, float64(t))
	h := optimHyper{
		lr: lr, mom: beta1, beta2: beta2,
		oneMinusB1: float32(1 - b1), oneMinusB2: float32(1 - b2),
		invC1: float32(1 / c1), invC2: float32(1 / c2),
		eps: eps, wd: weightDecay,
	}
	return d.recordUpdate(op, kAdam, h, w, dw, m, v)
}

func checkLR32(op string, w *Tensor, lr float32) error {
	if !(lr > 0) || math.IsInf(float64(lr), 1) {
		return tensor.Errorf(op, [][]int{w.shape}, "learning rate %v, want a finite value > 0", lr)
	}
	return nil
}

// checkUpdate: every tensor is live and shaped like w (the first), and no
// two share a buffer (each is written or read as a distinct array).
// Callers hold d.mu.
func (d *Device) checkUpdate(op string, ts ...*Tensor) error {
	if err := d.own(op, ts...); err != nil {
		return err
	}
	shapes := make([][]int, len(ts))
	for i, t := range ts {
		shapes[i] = t.shape
	}
	for i, t := range ts {
		if !tensor.SameShape(t.shape, ts[0].shape) {
			return tensor.Errorf(op, shapes, "every tensor must have w's shape")
		}
		for _, o := range ts[:i] {
			if o.buf == t.buf {
				return tensor.Errorf(op, shapes, "the same tensor is passed twice")
			}
		}
	}
	return nil
}

// recordUpdate writes h into a pooled buffer of its own and records the
// update. The buffer is released at once: the pool hands it out again only
// after the next submit, when this dispatch has been queued, so after the
// first step every update reuses pooled buffers and allocates nothing; the
// uniform block (n alone) is the same every step and stays cached.
func (d *Device) recordUpdate(op string, k Kernel, h optimHyper, w *Tensor, state ...*Tensor) error {
	dw := state[0]
	hyper, err := d.newTensor(op, []int{9})
	if err != nil {
		return err
	}
	defer d.release(hyper.buf, hyper.cap, storageUsage)
	vals := []float32{h.lr, h.mom, h.beta2, h.oneMinusB1, h.oneMinusB2, h.invC1, h.invC2, h.eps, h.wd}
	if err := d.writeBuffer(hyper.buf, wgpu.ToBytes(vals)); err != nil {
		return fmt.Errorf("%s %s: %w", op, tensor.ShapeString(w.shape), err)
	}
	bufs := append([]*Tensor{dw, hyper, w}, state[1:]...)
	return d.elementwise(op, k, w.n, params{}.u32(uint32(w.n)), bufs...)
}
