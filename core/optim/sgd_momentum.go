package optim

import "gradlab/core/tensor"

// SGDMomentum is the course's sgd_momentum: v = mu*v - lr*dw; w += v.
// Velocity is exported so a UI can show it and tests can seed it; nil means
// zeros of w's shape, created on the first Update.
type SGDMomentum struct {
	lr, mu   float64
	Velocity *tensor.Tensor
}

func newSGDMomentum(c Config) Rule { return &SGDMomentum{lr: c.LearningRate, mu: c.Momentum} }

func (r *SGDMomentum) LearningRate() float64 { return r.lr }

func (r *SGDMomentum) SetLearningRate(lr float64) error {
	if err := checkLR("optim.SGDMomentum.SetLearningRate", lr); err != nil {
		return err
	}
	r.lr = lr
	return nil
}

func (r *SGDMomentum) Update(w, dw *tensor.Tensor) error {
	const op = "optim.SGDMomentum.Update"
	if err := checkPair(op, w, dw); err != nil {
		return err
	}
	v, err := state(op, r.Velocity, w)
	if err != nil {
		return err
	}
	r.Velocity = v
	for i, g := range dw.Data {
		v.Data[i] = r.mu*v.Data[i] - r.lr*g
		w.Data[i] += v.Data[i]
	}
	return nil
}
