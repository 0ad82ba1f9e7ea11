// Package gradcheck compares analytic gradients with centred finite
// differences, the way the course notebooks do, in float64.
package gradcheck

import (
	"math"

	"gradlab/core/tensor"
)

// H is the course's step for centred differences.
const H = 1e-5

// RelError is the course's rel_error: the largest element-wise
// |x-y| / max(1e-8, |x|+|y|). Shapes must match.
func RelError(x, y *tensor.Tensor) (float64, error) {
	if x == nil || y == nil {
		return 0, tensor.Errorf("gradcheck.RelError", nil, "nil tensor")
	}
	if !tensor.SameShape(x.Shape, y.Shape) {
		return 0, tensor.Errorf("gradcheck.RelError", [][]int{x.Shape, y.Shape}, "shapes differ")
	}
	return RelErrorSlice(x.Data, y.Data), nil
}

// RelErrorSlice is RelError on equal-length slices; NaN anywhere gives +Inf
// so a poisoned result can never pass a threshold.
func RelErrorSlice(x, y []float64) float64 {
	worst := 0.0
	for i := range x {
		d := math.Abs(x[i]-y[i]) / math.Max(1e-8, math.Abs(x[i])+math.Abs(y[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	return worst
}

// Numerical estimates d f / d x for a scalar f by centred differences with
// step h, nudging x.Data in place and restoring it. f must read x afresh on
// every call.
func Numerical(f func() (float64, error), x *tensor.Tensor, h float64) (*tensor.Tensor, error) {
	grad := tensor.ZerosLike(x)
	for i := range x.Data {
		old := x.Data[i]
		x.Data[i] = old + h
		fp, err := f()
		if err != nil {
			x.Data[i] = old
			return nil, err
		}
		x.Data[i] = old - h
		fm, err := f()
		x.Data[i] = old
		if err != nil {
			return nil, err
		}
		grad.Data[i] = (fp - fm) / (2 * h)
	}
	return grad, nil
}

// NumericalArray estimates the gradient of sum(f(x) * dout) with respect to
// x: the vector-Jacobian product a layer's backward pass must return.
func NumericalArray(f func() (*tensor.Tensor, error), x, dout *tensor.Tensor, h float64) (*tensor.Tensor, error) {
	grad := tensor.ZerosLike(x)
	for i := range x.Data {
		old := x.Data[i]
		x.Data[i] = old + h
		pos, err := f()
		if err != nil {
			x.Data[i] = old
			return nil, err
		}
		pos = pos.Clone()
		x.Data[i] = old - h
		neg, err := f()
		x.Data[i] = old
		if err != nil {
			return nil, err
		}
		if !tensor.SameShape(pos.Shape, dout.Shape) || !tensor.SameShape(neg.Shape, dout.Shape) {
			return nil, tensor.Errorf("gradcheck.NumericalArray", [][]int{pos.Shape, dout.Shape}, "f(x) and dout shapes differ")
		}
		s := 0.0
		for j := range pos.Data {
			s += (pos.Data[j] - neg.Data[j]) * dout.Data[j]
		}
		grad.Data[i] = s / (2 * h)
	}
	return grad, nil
}
