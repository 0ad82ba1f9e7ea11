package optim

import (
	"math"

	"gradlab/core/tensor"
)

// RMSProp keeps a decaying average of squared gradients and divides the step
// by its root: cache = d*cache + (1-d)*dw²; w -= lr*dw/(sqrt(cache)+eps).
// Cache is exported for display and for seeding in tests.
type RMSProp struct {
	lr, decay, eps float64
	Cache          *tensor.Tensor
}

func newRMSProp(c Config) Rule {
	return &RMSProp{lr: c.LearningRate, decay: c.DecayRate, eps: c.Epsilon}
}

func (r *RMSProp) LearningRate() float64 { return r.lr }

func (r *RMSProp) SetLearningRate(lr float64) error {
	if err := checkLR("optim.RMSProp.SetLearningRate", lr); err != nil {
		return err
	}
	r.lr = lr
	return nil
}

func (r *RMSProp) Update(w, dw *tensor.Tensor) error {
	const op = "optim.RMSProp.Update"
	if err := checkPair(op, w, dw); err != nil {
		return err
	}
	c, err := state(op, r.Cache, w)
	if err != nil {
		return err
	}
	r.Cache = c
	for i, g := range dw.Data {
		c.Data[i] = r.decay*c.Data[i] + (1-r.decay)*g*g
		w.Data[i] -= r.lr * g / (math.Sqrt(c.Data[i]) + r.eps)
	}
	return nil
}
