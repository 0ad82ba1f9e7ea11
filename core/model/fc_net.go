package model

import (
	"fmt"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// FCConfig describes a FullyConnectedNet. Zero fields take the course's
// defaults: InputDim 3*32*32, NumClasses 10, WeightScale 1e-2.
type FCConfig struct {
	HiddenDims []int // one entry per hidden layer; empty is a softmax classifier
	InputDim   int
	NumClasses int
	// Dropout is the probability of dropping a hidden unit, in [0, 1);
	// 0 turns dropout off.
	Dropout float64
	// Normalization is "" or "none", or "batchnorm" (after every hidden
	// affine layer, before its ReLU).
	Normalization string
	Reg           float64 // L2 strength on the weights: loss += 0.5*Reg*Σ||W||²
	WeightScale   float64 // std of the N(0,1)-scaled initial weights
	// Seed fixes the initial weights and the dropout masks.
	Seed uint64
}

// FullyConnectedNet is {affine - [batchnorm] - relu - [dropout]} x L-1 -
// affine - softmax, the course's FullyConnectedNet. Hidden layer i (1-based)
// has W_i, b_i and, with batchnorm, gamma_i and beta_i; the last layer has
// W_L, b_L.
type FullyConnectedNet struct {
	cfg    FCConfig
	params map[string]*tensor.Tensor
	bn     []*nn.BatchnormParam // one per hidden layer when batchnorm is on
	step   uint32
}

// NewFullyConnectedNet validates cfg and initialises the weights as the
// course does: W ~ WeightScale * N(0,1), b = 0, gamma = 1, beta = 0.
func NewFullyConnectedNet(cfg FCConfig) (*FullyConnectedNet, error) {
	const op = "model.NewFullyConnectedNet"
	if cfg.InputDim == 0 {
		cfg.InputDim = 3 * 32 * 32
	}
	if cfg.NumClasses == 0 {
		cfg.NumClasses = 10
	}
	if cfg.WeightScale == 0 {
		cfg.WeightScale = 1e-2
	}
	cfg.HiddenDims = append([]int(nil), cfg.HiddenDims...)
	if cfg.InputDim < 0 || cfg.NumClasses < 0 {
		return nil, tensor.Errorf(op, nil, "input dim %d and classes %d must be positive", cfg.InputDim, cfg.NumClasses)
	}
	dims := append([]int{cfg.InputDim}, cfg.HiddenDims...)
	dims = append(dims, cfg.NumClasses)
	// Each layer is checked on its own: the product of all the widths (what
	// tensor.CheckShape would bound) is not the size of anything.
	for i, d := range dims {
		if d <= 0 || d > 1<<20 {
			return nil, tensor.Errorf(op, [][]int{cfg.HiddenDims}, "every hidden dim (and the input and class counts) must be in 1..%d; got %d at position %d", 1<<20, d, i)
		}
		if i > 0 && dims[i-1]*d > tensor.MaxElements {
			return nil, tensor.Errorf(op, [][]int{cfg.HiddenDims}, "a %dx%d weight matrix is too large", dims[i-1], d)
		}
	}
	if !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return nil, tensor.Errorf(op, nil, "dropout = %v, want a drop probability in [0, 1)", cfg.Dropout)
	}
	switch cfg.Normalization {
	case "", "none", "batchnorm":
	default:
		return nil, tensor.Errorf(op, nil, "normalization %q, want \"none\" or \"batchnorm\"", cfg.Normalization)
	}
	if err := checkScalars(op, cfg.Reg, cfg.WeightScale); err != nil {
		return nil, err
	}
	net := &FullyConnectedNet{cfg: cfg, params: map[string]*tensor.Tensor{}}
	r := tensor.NewRand(cfg.Seed)
	for i := 1; i < len(dims); i++ {
		in, out := dims[i-1], dims[i]
		net.params[fmt.Sprint("W", i)] = initWeights(r, cfg.WeightScale, in, out)
		net.params[fmt.Sprint("b", i)] = tensor.MustNew(out)
		if net.batchnorm() && i < len(dims)-1 {
			g, _ := tensor.Full(1, out)
			net.params[fmt.Sprint("gamma", i)] = g
			net.params[fmt.Sprint("beta", i)] = tensor.MustNew(out)
			p := nn.NewBatchnormParam()
			// Created here rather than lazily by the layer so Buffers can
			// hand out stable tensors before the first forward pass.
			p.RunningMean, p.RunningVar = tensor.MustNew(out), tensor.MustNew(out)
			net.bn = append(net.bn, p)
		}
	}
	return net, nil
}

func (n *FullyConnectedNet) batchnorm() bool { return n.cfg.Normalization == "batchnorm" }

// Config returns the configuration with defaults filled in.
func (n *FullyConnectedNet) Config() FCConfig {
	c := n.cfg
	c.HiddenDims = append([]int(nil), c.HiddenDims...)
	return c
}

// NumLayers counts the affine layers, hidden and output.
func (n *FullyConnectedNet) NumLayers() int { return len(n.cfg.HiddenDims) + 1 }

// Params returns the live parameter map.
func (n *FullyConnectedNet) Params() map[string]*tensor.Tensor { return n.params }

// Buffers returns the batchnorm running statistics as running_mean<i> and
// running_var<i>; empty without batchnorm.
func (n *FullyConnectedNet) Buffers() map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for i, p := range n.bn {
		out[fmt.Sprint("running_mean", i+1)] = p.RunningMean
		out[fmt.Sprint("running_var", i+1)] = p.RunningVar
	}
	return out
}

// SetStep selects the dropout masks of the following Loss calls.
func (n *FullyConnectedNet) SetStep(step uint32) { n.step = step }

// Step is the current dropout step.
func (n *FullyConnectedNet) Step() uint32 { return n.step }

// hiddenCache is one hidden layer's caches; nil entries were not used.
type hiddenCache struct {
	affine  *nn.AffineCache
	bn      *nn.BatchnormCache
	relu    *nn.ReluCache
	dropout *nn.DropoutCache
}

func (n *FullyConnectedNet) forward(op string, X *tensor.Tensor, y []int, mode nn.Mode) (*tensor.Tensor, []hiddenCache, *nn.AffineCache, error) {
	if err := checkBatch(op, X, y, []int{n.cfg.InputDim}, n.cfg.NumClasses); err != nil {
		return nil, nil, nil, err
	}
	h := X
	caches := make([]hiddenCache, len(n.cfg.HiddenDims))
	for i := range n.cfg.HiddenDims {
		l := i + 1
		c := &caches[i]
		var err error
		if h, c.affine, err = nn.AffineForward(h, n.params[fmt.Sprint("W", l)], n.params[fmt.Sprint("b", l)]); err != nil {
			return nil, nil, nil, err
		}
		if n.batchnorm() {
			n.bn[i].Mode = mode
			if h, c.bn, err = nn.BatchnormForward(h, n.params[fmt.Sprint("gamma", l)], n.params[fmt.Sprint("beta", l)], n.bn[i]); err != nil {
				return nil, nil, nil, err
			}
		}
		if h, c.relu, err = nn.ReluForward(h); err != nil {
			return nil, nil, nil, err
		}
		if n.cfg.Dropout > 0 && mode == nn.Train {
			p := nn.DropoutParam{P: n.cfg.Dropout, Mode: mode, Seed: n.cfg.Seed, Step: n.step, Layer: uint32(i)}
			if h, c.dropout, err = nn.DropoutForward(h, p); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	L := n.NumLayers()
	scores, last, err := nn.AffineForward(h, n.params[fmt.Sprint("W", L)], n.params[fmt.Sprint("b", L)])
	if err != nil {
		return nil, nil, nil, err
	}
	return scores, caches, last, nil
}

// Scores is the test-time forward pass: batchnorm uses its running
// statistics and dropout is the identity. X is (N, ...) with InputDim
// features per row.
func (n *FullyConnectedNet) Scores(X *tensor.Tensor) (*tensor.Tensor, error) {
	s, _, _, err := n.forward("model.FullyConnectedNet.Scores", X, nil, nn.Test)
	return s, err
}

// Loss is the training-mode softmax loss plus L2 regularisation and its
// gradient for every parameter. It updates the batchnorm running statistics
// and uses the dropout masks of the current Step. y must hold one label in
// [0, NumClasses) per row of X; for test-time scores call Scores.
func (n *FullyConnectedNet) Loss(X *tensor.Tensor, y []int) (float64, map[string]*tensor.Tensor, error) {
	const op = "model.FullyConnectedNet.Loss"
	if y == nil {
		return 0, nil, tensor.Errorf(op, nil, "labels are nil; call Scores for test-time scores")
	}
	scores, caches, last, err := n.forward(op, X, y, nn.Train)
	if err != nil {
		return 0, nil, err
	}
	loss, dh, err := nn.SoftmaxLoss(scores, y)
	if err != nil {
		return 0, nil, err
	}
	grads := map[string]*tensor.Tensor{}
	L := n.NumLayers()
	var dw, db *tensor.Tensor
	if dh, dw, db, err = nn.AffineBackward(dh, last); err != nil {
		return 0, nil, err
	}
	grads[fmt.Sprint("W", L)], grads[fmt.Sprint("b", L)] = dw, db
	for i := len(caches) - 1; i >= 0; i-- {
		l, c := i+1, caches[i]
		if c.dropout != nil {
			if dh, err = nn.DropoutBackward(dh, c.dropout); err != nil {
				return 0, nil, err
			}
		}
		if dh, err = nn.ReluBackward(dh, c.relu); err != nil {
			return 0, nil, err
		}
		if c.bn != nil {
			var dg, dbeta *tensor.Tensor
			if dh, dg, dbeta, err = nn.BatchnormBackward(dh, c.bn); err != nil {
				return 0, nil, err
			}
			grads[fmt.Sprint("gamma", l)], grads[fmt.Sprint("beta", l)] = dg, dbeta
		}
		if dh, dw, db, err = nn.AffineBackward(dh, c.affine); err != nil {
			return 0, nil, err
		}
		grads[fmt.Sprint("W", l)], grads[fmt.Sprint("b", l)] = dw, db
	}
	weights := make([]string, L)
	for l := 1; l <= L; l++ {
		weights[l-1] = fmt.Sprint("W", l)
	}
	return addL2(loss, n.cfg.Reg, n.params, grads, weights), grads, nil
}
