package app

import (
	"fmt"
	"math"

	"gradlab/core/gradcheck"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// GradError is one relative error of a gradient check (course rel_error of
// the analytic against the numerical gradient) and the course's threshold.
type GradError struct {
	Name      string // "dx", "dw", ...
	Err       float64
	Threshold float64
}

// Pass reports whether the error is within the threshold; NaN fails.
func (g GradError) Pass() bool { return g.Err <= g.Threshold }

// LayerCheck is one layer of the problem-5 page: the course's gradient check
// on the CPU (float64) and the GPU kernel's parity check against the same
// float64 layer.
type LayerCheck struct {
	ID     string // "relu", used in element IDs
	Name   string
	Shapes string // the course's shapes, as shown on the page
	Expect string // what the notebook says to expect
	CPU    func() ([]GradError, error)
	GPU    gpuCheck // nil where no GPU kernel exists
}

// cpuH is the course's centred-difference step.
const cpuH = gradcheck.H

// LayerChecks lists the checks in the order of the notebooks. Each check
// draws its inputs from its own fixed seed, so a result can be reproduced.
func LayerChecks() []LayerCheck {
	return []LayerCheck{
		{ID: "affine", Name: "Affine", Shapes: "x (10, 2, 3), w (6, 5), b (5,)", Expect: "about 1e-10; fail above 1e-8", CPU: checkAffine, GPU: gpuAffine},
		{ID: "relu", Name: "ReLU", Shapes: "x (10, 10)", Expect: "about 3e-12; fail above 1e-8", CPU: checkRelu, GPU: gpuRelu},
		{ID: "bn", Name: "Batchnorm (graph backward)", Shapes: "x (4, 5) = 5·randn + 12, gamma, beta (5,)", Expect: "between 1e-13 and 1e-8", CPU: func() ([]GradError, error) { return checkBatchnorm(nn.BatchnormBackward) }, GPU: gpuBatchnorm},
		{ID: "bnalt", Name: "Batchnorm (closed-form backward)", Shapes: "x (4, 5) = 5·randn + 12, gamma, beta (5,)", Expect: "between 1e-13 and 1e-8", CPU: func() ([]GradError, error) { return checkBatchnorm(nn.BatchnormBackwardAlt) }},
		{ID: "dropout", Name: "Dropout", Shapes: "x (10, 10) = randn + 10, p = 0.2 dropped (course: keep 0.8)", Expect: "about 1e-10 or less; fail above 1e-8", CPU: checkDropout, GPU: gpuDropout},
		{ID: "conv", Name: "Convolution (naive)", Shapes: "x (10, 3, 5, 5), w (16, 3, 3, 3), b (16,), stride 1, pad 1", Expect: "about 1e-8 or less; fail above 1e-7", CPU: checkConv, GPU: gpuConv},
		{ID: "pool", Name: "Max-pool (naive)", Shapes: "x (10, 3, 8, 7), 2×3 pool, stride 2", Expect: "about 1e-8 or less; fail above 1e-8", CPU: checkPool, GPU: gpuPool},
		{ID: "sbn", Name: "Spatial batchnorm", Shapes: "x (2, 3, 4, 5) = 4·randn + 10, gamma, beta (3,)", Expect: "between 1e-12 and 1e-6", CPU: checkSpatialBN, GPU: gpuSpatialBN},
		{ID: "softmax", Name: "Softmax loss", Shapes: "x (50, 10) = 0.001·randn, y in 0..9", Expect: "loss about 2.3, dx about 1e-8; fail above 1e-7", CPU: checkSoftmax, GPU: gpuSoftmax},
	}
}

// randn draws a (shape) tensor of scale*N(0,1) + shift.
func randn(seed uint64, scale, shift float64, shape ...int) (*tensor.Tensor, error) {
	t, err := tensor.Randn(tensor.NewRand(seed), shape...)
	if err != nil {
		return nil, err
	}
	return t.Scale(scale).AddScalar(shift), nil
}

// randnAll draws several tensors of N(0,1) from consecutive seeds.
func randnAll(seed uint64, shapes ...[]int) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		t, err := randn(seed+uint64(i), 1, 0, s...)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// relErrs compares analytic gradients with numerical ones by the course's
// rel_error, all against one threshold.
func relErrs(threshold float64, names []string, analytic, numeric []*tensor.Tensor) ([]GradError, error) {
	out := make([]GradError, len(names))
	for i, n := range names {
		e, err := gradcheck.RelError(analytic[i], numeric[i])
		if err != nil {
			return nil, err
		}
		out[i] = GradError{Name: n, Err: e, Threshold: threshold}
	}
	return out, nil
}

// numericAll returns the numerical gradient of fwd with respect to each of
// xs, contracted with dout as the course's eval_numerical_gradient_array does.
func numericAll(fwd func() (*tensor.Tensor, error), dout *tensor.Tensor, xs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	out := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		g, err := gradcheck.NumericalArray(fwd, x, dout, cpuH)
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

func checkAffine() ([]GradError, error) {
	in, err := randnAll(501, []int{10, 2, 3}, []int{6, 5}, []int{5}, []int{10, 5})
	if err != nil {
		return nil, err
	}
	x, w, b, dout := in[0], in[1], in[2], in[3]
	fwd := func() (*tensor.Tensor, error) { o, _, err := nn.AffineForward(x, w, b); return o, err }
	num, err := numericAll(fwd, dout, x, w, b)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.AffineForward(x, w, b)
	if err != nil {
		return nil, err
	}
	dx, dw, db, err := nn.AffineBackward(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-8, []string{"dx", "dw", "db"}, []*tensor.Tensor{dx, dw, db}, num)
}

func checkRelu() ([]GradError, error) {
	in, err := randnAll(502, []int{10, 10}, []int{10, 10})
	if err != nil {
		return nil, err
	}
	x, dout := in[0], in[1]
	fwd := func() (*tensor.Tensor, error) { o, _, err := nn.ReluForward(x); return o, err }
	num, err := numericAll(fwd, dout, x)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.ReluForward(x)
	if err != nil {
		return nil, err
	}
	dx, err := nn.ReluBackward(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-8, []string{"dx"}, []*tensor.Tensor{dx}, num)
}

type bnBackward func(dout *tensor.Tensor, c *nn.BatchnormCache) (dx, dgamma, dbeta *tensor.Tensor, err error)

func checkBatchnorm(back bnBackward) ([]GradError, error) {
	const n, d = 4, 5
	x, err := randn(503, 5, 12, n, d)
	if err != nil {
		return nil, err
	}
	in, err := randnAll(504, []int{d}, []int{d}, []int{n, d})
	if err != nil {
		return nil, err
	}
	gamma, beta, dout := in[0], in[1], in[2]
	// Every evaluation gets fresh running statistics: train mode updates
	// them, and the gradient must not depend on how often fwd ran.
	fwd := func() (*tensor.Tensor, error) {
		o, _, err := nn.BatchnormForward(x, gamma, beta, nn.NewBatchnormParam())
		return o, err
	}
	num, err := numericAll(fwd, dout, x, gamma, beta)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.BatchnormForward(x, gamma, beta, nn.NewBatchnormParam())
	if err != nil {
		return nil, err
	}
	dx, dg, db, err := back(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-8, []string{"dx", "dgamma", "dbeta"}, []*tensor.Tensor{dx, dg, db}, num)
}

// Dropout's check keeps the mask fixed by its seed, so the layer is a
// fixed linear map and the numerical gradient is exact up to rounding.
var cpuDropout = nn.DropoutParam{P: 0.2, Mode: nn.Train, Seed: 123}

func checkDropout() ([]GradError, error) {
	x, err := randn(505, 1, 10, 10, 10)
	if err != nil {
		return nil, err
	}
	dout, err := randn(506, 1, 0, 10, 10)
	if err != nil {
		return nil, err
	}
	fwd := func() (*tensor.Tensor, error) { o, _, err := nn.DropoutForward(x, cpuDropout); return o, err }
	num, err := numericAll(fwd, dout, x)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.DropoutForward(x, cpuDropout)
	if err != nil {
		return nil, err
	}
	dx, err := nn.DropoutBackward(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-8, []string{"dx"}, []*tensor.Tensor{dx}, num)
}

var courseConv = nn.ConvParam{Stride: 1, Pad: 1}

func checkConv() ([]GradError, error) {
	in, err := randnAll(507, []int{10, 3, 5, 5}, []int{16, 3, 3, 3}, []int{16}, []int{10, 16, 5, 5})
	if err != nil {
		return nil, err
	}
	x, w, b, dout := in[0], in[1], in[2], in[3]
	fwd := func() (*tensor.Tensor, error) { o, _, err := nn.ConvForwardNaive(x, w, b, courseConv); return o, err }
	num, err := numericAll(fwd, dout, x, w, b)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.ConvForwardNaive(x, w, b, courseConv)
	if err != nil {
		return nil, err
	}
	dx, dw, db, err := nn.ConvBackwardNaive(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-7, []string{"dx", "dw", "db"}, []*tensor.Tensor{dx, dw, db}, num)
}

var coursePool = nn.PoolParam{Height: 2, Width: 3, Stride: 2}

func checkPool() ([]GradError, error) {
	in, err := randnAll(508, []int{10, 3, 8, 7}, []int{10, 3, 4, 3})
	if err != nil {
		return nil, err
	}
	x, dout := in[0], in[1]
	fwd := func() (*tensor.Tensor, error) { o, _, err := nn.MaxPoolForward(x, coursePool); return o, err }
	num, err := numericAll(fwd, dout, x)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.MaxPoolForward(x, coursePool)
	if err != nil {
		return nil, err
	}
	dx, err := nn.MaxPoolBackward(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-8, []string{"dx"}, []*tensor.Tensor{dx}, num)
}

func checkSpatialBN() ([]GradError, error) {
	x, err := randn(509, 4, 10, 2, 3, 4, 5)
	if err != nil {
		return nil, err
	}
	in, err := randnAll(510, []int{3}, []int{3}, []int{2, 3, 4, 5})
	if err != nil {
		return nil, err
	}
	gamma, beta, dout := in[0], in[1], in[2]
	fwd := func() (*tensor.Tensor, error) {
		o, _, err := nn.SpatialBatchnormForward(x, gamma, beta, nn.NewBatchnormParam())
		return o, err
	}
	num, err := numericAll(fwd, dout, x, gamma, beta)
	if err != nil {
		return nil, err
	}
	_, cache, err := nn.SpatialBatchnormForward(x, gamma, beta, nn.NewBatchnormParam())
	if err != nil {
		return nil, err
	}
	dx, dg, db, err := nn.SpatialBatchnormBackward(dout, cache)
	if err != nil {
		return nil, err
	}
	return relErrs(1e-6, []string{"dx", "dgamma", "dbeta"}, []*tensor.Tensor{dx, dg, db}, num)
}

// softmaxLabels are the labels of the softmax check: fixed, all classes.
func softmaxLabels(n, c int) []int {
	y := make([]int, n)
	r := tensor.NewRand(512)
	for i := range y {
		y[i] = r.IntN(c)
	}
	return y
}

func checkSoftmax() ([]GradError, error) {
	x, err := randn(511, 0.001, 0, 50, 10)
	if err != nil {
		return nil, err
	}
	y := softmaxLabels(50, 10)
	loss, dx, err := nn.SoftmaxLoss(x, y)
	if err != nil {
		return nil, err
	}
	num, err := gradcheck.Numerical(func() (float64, error) { l, _, err := nn.SoftmaxLoss(x, y); return l, err }, x, cpuH)
	if err != nil {
		return nil, err
	}
	out, err := relErrs(1e-7, []string{"dx"}, []*tensor.Tensor{dx}, []*tensor.Tensor{num})
	if err != nil {
		return nil, err
	}
	// The initial loss of 10 classes with near-zero scores is log(10); the
	// course prints it as a sanity check. Its "error" is |loss - log 10|
	// relative to log 10, and 1e-3 covers the 0.001-scale scores.
	e := math.Abs(loss-math.Log(10)) / math.Log(10)
	return append([]GradError{{Name: fmt.Sprintf("loss %.4f vs log 10", loss), Err: e, Threshold: 1e-3}}, out...), nil
}
