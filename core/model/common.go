package model

import (
	"math"

	"gradlab/core/tensor"
)

// checkBatch validates a minibatch for a net that expects inputDim features
// per sample (the product of every dimension after the first) and classes
// output classes. y may be nil (test time); otherwise one label per row.
func checkBatch(op string, X *tensor.Tensor, y []int, inputShape []int, classes int) error {
	if X == nil {
		return tensor.Errorf(op, nil, "X is nil")
	}
	if _, err := tensor.CheckShape(op, X.Shape); err != nil {
		return err
	}
	want := 1
	for _, d := range inputShape {
		want *= d
	}
	n, d := X.Rows()
	if len(inputShape) > 1 {
		// Conv nets need the image layout, not just the right count.
		if len(X.Shape) != 1+len(inputShape) || !tensor.SameShape(X.Shape[1:], inputShape) {
			return tensor.Errorf(op, [][]int{X.Shape}, "want X of shape (N, %s)", trimParens(tensor.ShapeString(inputShape)))
		}
	} else if len(X.Shape) < 2 || d != want {
		return tensor.Errorf(op, [][]int{X.Shape}, "want X of shape (N, ...) with %d features per sample, got %d", want, d)
	}
	if y == nil {
		return nil
	}
	if len(y) != n {
		return tensor.Errorf(op, [][]int{X.Shape}, "%d labels for %d samples", len(y), n)
	}
	for i, c := range y {
		if c < 0 || c >= classes {
			return tensor.Errorf(op, [][]int{X.Shape}, "label y[%d] = %d is outside [0, %d)", i, c, classes)
		}
	}
	return nil
}

func trimParens(s string) string { return s[1 : len(s)-1] }

// initWeights returns scale * N(0,1) samples of the given shape.
func initWeights(r interface{ NormFloat64() float64 }, scale float64, shape ...int) *tensor.Tensor {
	t := tensor.MustNew(shape...)
	for i := range t.Data {
		t.Data[i] = scale * r.NormFloat64()
	}
	return t
}

// addL2 adds the course's 0.5*reg*||W||² to the loss and reg*W to dW for
// every named weight (biases and batchnorm parameters are not regularised).
func addL2(loss float64, reg float64, params, grads map[string]*tensor.Tensor, names []string) float64 {
	if reg == 0 {
		return loss
	}
	for _, name := range names {
		w, dw := params[name], grads[name]
		s := 0.0
		for i, v := range w.Data {
			s += v * v
			dw.Data[i] += reg * v
		}
		loss += 0.5 * reg * s
	}
	return loss
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkScalars validates the hyper-parameters both nets share.
func checkScalars(op string, reg, weightScale float64) error {
	if !(reg >= 0) || !finite(reg) {
		return tensor.Errorf(op, nil, "reg = %v, want a finite value >= 0", reg)
	}
	if !(weightScale > 0) || !finite(weightScale) {
		return tensor.Errorf(op, nil, "weight scale = %v, want a finite value > 0", weightScale)
	}
	return nil
}
