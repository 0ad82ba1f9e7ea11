package optim

import (
	"math"

	"gradlab/core/tensor"
)

// Adam is the course's adam with bias correction. T counts the updates
// already made; it is incremented before use, so the first step uses t = 1
// and the corrections 1/(1-beta^t) undo the zero start of M and V.
// M, V and T are exported for display and for seeding in tests.
type Adam struct {
	lr, beta1, beta2, eps float64
	// decoupled is AdamW's weight decay (0 for plain Adam).
	decoupled float64
	M, V      *tensor.Tensor
	T         int
}

func newAdam(c Config, decoupled bool) Rule {
	r := &Adam{lr: c.LearningRate, beta1: c.Beta1, beta2: c.Beta2, eps: c.Epsilon}
	if decoupled {
		r.decoupled = c.WeightDecay
	}
	return r
}

func (r *Adam) LearningRate() float64 { return r.lr }

func (r *Adam) SetLearningRate(lr float64) error {
	if err := checkLR("optim.Adam.SetLearningRate", lr); err != nil {
		return err
	}
	r.lr = lr
	return nil
}

func (r *Adam) Update(w, dw *tensor.Tensor) error {
	op := "optim.Adam.Update"
	if r.decoupled != 0 {
		op = "optim.AdamW.Update"
	}
	if err := checkPair(op, w, dw); err != nil {
		return err
	}
	m, err := state(op, r.M, w)
	if err != nil {
		return err
	}
	v, err := state(op, r.V, w)
	if err != nil {
		return err
	}
	r.M, r.V = m, v
	r.T++
	c1 := 1 - math.Pow(r.beta1, float64(r.T))
	c2 := 1 - math.Pow(r.beta2, float64(r.T))
	for i, g := range dw.Data {
		m.Data[i] = r.beta1*m.Data[i] + (1-r.beta1)*g
		v.Data[i] = r.beta2*v.Data[i] + (1-r.beta2)*g*g
		step := (m.Data[i] / c1) / (math.Sqrt(v.Data[i]/c2) + r.eps)
		w.Data[i] -= r.lr * (step + r.decoupled*w.Data[i])
	}
	return nil
}
