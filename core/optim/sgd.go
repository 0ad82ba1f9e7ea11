package optim

import "gradlab/core/tensor"

// SGD is vanilla stochastic gradient descent: w -= lr * dw.
type SGD struct{ lr float64 }

func (r *SGD) LearningRate() float64 { return r.lr }

func (r *SGD) SetLearningRate(lr float64) error {
	if err := checkLR("optim.SGD.SetLearningRate", lr); err != nil {
		return err
	}
	r.lr = lr
	return nil
}

func (r *SGD) Update(w, dw *tensor.Tensor) error {
	if err := checkPair("optim.SGD.Update", w, dw); err != nil {
		return err
	}
	for i, g := range dw.Data {
		w.Data[i] -= r.lr * g
	}
	return nil
}
