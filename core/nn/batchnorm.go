package nn

import (
	"math"

	"gradlab/core/tensor"
)

// BatchnormCache holds the nodes of batchnorm's computational graph, named
// after the course's variables so the app can show each one:
//
//	mu      = mean of x over the batch           (D,)
//	xmu     = x - mu                             (N, D)
//	var     = mean of xmu² over the batch        (D,)
//	sqrtvar = sqrt(var + eps)                    (D,)
//	ivar    = 1 / sqrtvar                        (D,)
//	xhat    = xmu * ivar                         (N, D)
//	out     = gamma * xhat + beta                (N, D)
//
// In test mode mu and var are copies of the running statistics instead.
type BatchnormCache struct {
	Mode    Mode
	Eps     float64
	Gamma   *tensor.Tensor // (D,), referenced, not copied
	Mu      *tensor.Tensor
	Xmu     *tensor.Tensor
	Var     *tensor.Tensor
	Sqrtvar *tensor.Tensor
	Ivar    *tensor.Tensor
	Xhat    *tensor.Tensor
}

// BatchnormForward normalises each of the D features of x (N, D) and then
// scales by gamma (D,) and shifts by beta (D,).
//
// Train mode uses the batch's mean and biased variance (dividing by N, as
// np.var does) and updates param's running statistics in place:
// running = momentum*running + (1-momentum)*batch. Test mode normalises with
// the running statistics and leaves them alone.
func BatchnormForward(x, gamma, beta *tensor.Tensor, param *BatchnormParam) (*tensor.Tensor, *BatchnormCache, error) {
	return batchnormForward("nn.BatchnormForward", x, gamma, beta, param)
}

// BatchnormBackward walks the computational graph from out back to x one
// node at a time, the way the notebook's first batchnorm_backward does.
// Every intermediate gradient is a full array, so it is slower than
// BatchnormBackwardAlt; its value is that each line is one chain-rule step.
func BatchnormBackward(dout *tensor.Tensor, cache *BatchnormCache) (dx, dgamma, dbeta *tensor.Tensor, err error) {
	return batchnormBackwardGraph("nn.BatchnormBackward", dout, cache)
}

func batchnormForward(op string, x, gamma, beta *tensor.Tensor, param *BatchnormParam) (*tensor.Tensor, *BatchnormCache, error) {
	for _, in := range []struct {
		name string
		t    *tensor.Tensor
	}{{"x", x}, {"gamma", gamma}, {"beta", beta}} {
		if err := checkOperand(op, in.name, in.t); err != nil {
			return nil, nil, err
		}
	}
	if len(x.Shape) != 2 {
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "x must be (N, D)")
	}
	n, d := x.Shape[0], x.Shape[1]
	for _, p := range []struct {
		name string
		t    *tensor.Tensor
	}{{"gamma", gamma}, {"beta", beta}} {
		if len(p.t.Shape) != 1 || p.t.Shape[0] != d {
			return nil, nil, tensor.Errorf(op, [][]int{x.Shape, p.t.Shape}, "%s must be (%d,), one value per feature", p.name, d)
		}
	}
	if err := checkBatchnormParam(op, param, d); err != nil {
		return nil, nil, err
	}

	c := &BatchnormCache{Mode: param.Mode, Eps: param.Eps, Gamma: gamma}
	if param.Mode == Train {
		c.Mu = columnMean(x.Data, n, d)
		c.Xmu = subtractRow(x.Data, c.Mu.Data, n, d)
		sq := make([]float64, n*d)
		for k, v := range c.Xmu.Data {
			sq[k] = v * v
		}
		c.Var = columnMean(sq, n, d)
		m := param.Momentum
		for j := 0; j < d; j++ {
			param.RunningMean.Data[j] = m*param.RunningMean.Data[j] + (1-m)*c.Mu.Data[j]
			param.RunningVar.Data[j] = m*param.RunningVar.Data[j] + (1-m)*c.Var.Data[j]
		}
	} else {
		c.Mu = param.RunningMean.Clone()
		c.Var = param.RunningVar.Clone()
		c.Xmu = subtractRow(x.Data, c.Mu.Data, n, d)
	}

	c.Sqrtvar = tensor.MustNew(d)
	c.Ivar = tensor.MustNew(d)
	for j, v := range c.Var.Data {
		c.Sqrtvar.Data[j] = math.Sqrt(v + c.Eps)
		c.Ivar.Data[j] = 1 / c.Sqrtvar.Data[j]
	}
	c.Xhat = tensor.MustNew(n, d)
	out := tensor.MustNew(n, d)
	for k, v := range c.Xmu.Data {
		j := k % d
		c.Xhat.Data[k] = v * c.Ivar.Data[j]
		out.Data[k] = gamma.Data[j]*c.Xhat.Data[k] + beta.Data[j]
	}
	return out, c, nil
}

// checkBatchnormParam validates param and, as the course's
// bn_param.get('running_mean', np.zeros(D)) does, creates missing running
// statistics as zeros: the variance too, not ones. Until the first train
// step has moved them, test mode therefore divides by sqrt(eps).
func checkBatchnormParam(op string, param *BatchnormParam, d int) error {
	if param == nil {
		return tensor.Errorf(op, nil, "param is nil; start from NewBatchnormParam()")
	}
	if param.Mode != Train && param.Mode != Test {
		return tensor.Errorf(op, nil, "mode %d is neither Train nor Test", int(param.Mode))
	}
	if !(param.Eps > 0) || math.IsInf(param.Eps, 1) {
		return tensor.Errorf(op, nil, "eps must be positive and finite, got %v", param.Eps)
	}
	if !(param.Momentum >= 0 && param.Momentum <= 1) {
		return tensor.Errorf(op, nil, "momentum must be in [0, 1], got %v", param.Momentum)
	}
	if param.RunningMean == nil {
		param.RunningMean = tensor.MustNew(d)
	}
	if param.RunningVar == nil {
		param.RunningVar = tensor.MustNew(d)
	}
	for _, r := range []struct {
		name string
		t    *tensor.Tensor
	}{{"running mean", param.RunningMean}, {"running var", param.RunningVar}} {
		if err := checkOperand(op, r.name, r.t); err != nil {
			return err
		}
		if len(r.t.Shape) != 1 || r.t.Shape[0] != d {
			return tensor.Errorf(op, [][]int{r.t.Shape}, "%s must be (%d,), one value per feature", r.name, d)
		}
	}
	for _, v := range param.RunningVar.Data {
		if v < 0 {
			return tensor.Errorf(op, [][]int{param.RunningVar.Shape}, "running var has a negative entry %v", v)
		}
	}
	return nil
}

func batchnormBackwardGraph(op string, dout *tensor.Tensor, c *BatchnormCache) (dx, dgamma, dbeta *tensor.Tensor, err error) {
	n, d, err := checkBatchnormBackward(op, dout, c)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.Mode == Test {
		return batchnormBackwardTest(dout, c, n, d)
	}
	g := dout.Data
	nf := float64(n)

	// out = gammax + beta: beta was broadcast over the batch, so its
	// gradient sums over the batch; gammax gets dout unchanged.
	dbeta = columnSum(g, n, d)

	// gammax = gamma * xhat
	dgammax := g
	prod := make([]float64, n*d)
	for k := range prod {
		prod[k] = dgammax[k] * c.Xhat.Data[k]
	}
	dgamma = columnSum(prod, n, d)
	dxhat := make([]float64, n*d)
	for k := range dxhat {
		dxhat[k] = dgammax[k] * c.Gamma.Data[k%d]
	}

	// xhat = xmu * ivar: xmu is one branch of x's gradient; ivar sums
	// over the batch because it was broadcast.
	for k := range prod {
		prod[k] = dxhat[k] * c.Xmu.Data[k]
	}
	divar := columnSum(prod, n, d).Data
	dxmu1 := make([]float64, n*d)
	for k := range dxmu1 {
		dxmu1[k] = dxhat[k] * c.Ivar.Data[k%d]
	}

	// ivar = 1 / sqrtvar
	dsqrtvar := make([]float64, d)
	for j := range dsqrtvar {
		s := c.Sqrtvar.Data[j]
		dsqrtvar[j] = -divar[j] / (s * s)
	}

	// sqrtvar = sqrt(var + eps)
	dvar := make([]float64, d)
	for j := range dvar {
		dvar[j] = 0.5 / c.Sqrtvar.Data[j] * dsqrtvar[j]
	}

	// var = mean over the batch of sq: each of the N rows gets 1/N of it.
	dsq := make([]float64, n*d)
	for k := range dsq {
		dsq[k] = dvar[k%d] / nf
	}

	// sq = xmu²: the second branch of x's gradient.
	dxmu2 := make([]float64, n*d)
	for k := range dxmu2 {
		dxmu2[k] = 2 * c.Xmu.Data[k] * dsq[k]
	}

	// xmu = x - mu: both branches meet; mu was broadcast, so it sums.
	dx1 := make([]float64, n*d)
	for k := range dx1 {
		dx1[k] = dxmu1[k] + dxmu2[k]
	}
	dmu := columnSum(dx1, n, d).Data
	for j := range dmu {
		dmu[j] = -dmu[j]
	}

	// mu = mean over the batch of x: each row gets 1/N of dmu.
	dx = tensor.MustNew(n, d)
	for k := range dx.Data {
		dx2 := dmu[k%d] / nf
		dx.Data[k] = dx1[k] + dx2
	}
	return dx, dgamma, dbeta, nil
}

// batchnormBackwardTest is the gradient in test mode, where mu and var are
// constants (the running statistics): batchnorm is then just a per-feature
// affine map, dx = dout * gamma / sqrt(var + eps).
func batchnormBackwardTest(dout *tensor.Tensor, c *BatchnormCache, n, d int) (dx, dgamma, dbeta *tensor.Tensor, err error) {
	dbeta = columnSum(dout.Data, n, d)
	dgamma = tensor.MustNew(d)
	dx = tensor.MustNew(n, d)
	for k, g := range dout.Data {
		j := k % d
		dgamma.Data[j] += g * c.Xhat.Data[k]
		dx.Data[k] = g * c.Gamma.Data[j] * c.Ivar.Data[j]
	}
	return dx, dgamma, dbeta, nil
}

// checkBatchnormBackward checks that cache is a whole forward cache and dout
// has the forward output's shape; it returns (N, D).
func checkBatchnormBackward(op string, dout *tensor.Tensor, c *BatchnormCache) (n, d int, err error) {
	if c == nil || c.Gamma == nil || c.Xmu == nil || c.Xhat == nil || c.Ivar == nil || c.Sqrtvar == nil || len(c.Xhat.Shape) != 2 {
		return 0, 0, tensor.Errorf(op, nil, "cache is nil or incomplete; pass the cache BatchnormForward returned")
	}
	n, d = c.Xhat.Shape[0], c.Xhat.Shape[1]
	for _, t := range []*tensor.Tensor{c.Gamma, c.Ivar, c.Sqrtvar} {
		if len(t.Data) != d {
			return 0, 0, tensor.Errorf(op, [][]int{c.Xhat.Shape, t.Shape}, "cache is inconsistent: a per-feature value is not (%d,)", d)
		}
	}
	if len(c.Xmu.Data) != n*d || len(c.Xhat.Data) != n*d {
		return 0, 0, tensor.Errorf(op, [][]int{c.Xmu.Shape, c.Xhat.Shape}, "cache is inconsistent: xmu and xhat differ in size")
	}
	if err := checkUpstream(op, dout, c.Xhat.Shape); err != nil {
		return 0, 0, err
	}
	return n, d, nil
}

// columnMean averages the rows of an (n, d) array: a (d,) result.
func columnMean(a []float64, n, d int) *tensor.Tensor {
	m := columnSum(a, n, d)
	for j := range m.Data {
		m.Data[j] /= float64(n)
	}
	return m
}

// columnSum adds up the rows of an (n, d) array: a (d,) result.
func columnSum(a []float64, n, d int) *tensor.Tensor {
	s := tensor.MustNew(d)
	for i := 0; i < n; i++ {
		for j, v := range a[i*d : (i+1)*d] {
			s.Data[j] += v
		}
	}
	return s
}

// subtractRow returns a - row for an (n, d) array a and a (d,) row.
func subtractRow(a, row []float64, n, d int) *tensor.Tensor {
	out := tensor.MustNew(n, d)
	for k, v := range a {
		out.Data[k] = v - row[k%d]
	}
	return out
}
