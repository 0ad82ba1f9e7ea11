package app

import (
	"fmt"

	"gradlab/core/model"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// expNet is {affine - [batchnorm] - relu - [dropout]} x L-1 - affine -
// softmax, built from core/nn's compositions for the page's experiments.
// It exists because model.NewFullyConnectedNet currently rejects nets whose
// layer sizes multiply past tensor.MaxElements (it validates the list of
// dims as a tensor shape), which rules out the notebooks' 5×100 and 7×50
// nets; once that is fixed the experiments can use model.FullyConnectedNet.
type expNet struct {
	hidden []int
	bn     bool
	drop   float64
	seed   uint64
	step   uint32
	params map[string]*tensor.Tensor
	bnp    []*nn.BatchnormParam
}

var (
	_ model.Model    = (*expNet)(nil)
	_ model.Stepper  = (*expNet)(nil)
	_ model.Buffered = (*expNet)(nil)
)

// newExpNet initialises as the course does: W ~ scale·N(0,1), b = 0,
// gamma = 1, beta = 0.
func newExpNet(cfg model.FCConfig) (*expNet, error) {
	const op = "app.newExpNet"
	if cfg.WeightScale == 0 {
		cfg.WeightScale = 1e-2 // the course's default
	}
	if cfg.InputDim <= 0 || cfg.NumClasses <= 0 || !(cfg.WeightScale > 0) || !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return nil, tensor.Errorf(op, [][]int{cfg.HiddenDims}, "input %d, classes %d, weight scale %v, dropout %v: want positive sizes and scale and dropout in [0, 1)",
			cfg.InputDim, cfg.NumClasses, cfg.WeightScale, cfg.Dropout)
	}
	n := &expNet{hidden: cfg.HiddenDims, bn: cfg.Normalization == "batchnorm", drop: cfg.Dropout, seed: cfg.Seed, params: map[string]*tensor.Tensor{}}
	dims := append(append([]int{cfg.InputDim}, cfg.HiddenDims...), cfg.NumClasses)
	r := tensor.NewRand(cfg.Seed)
	for i := 1; i < len(dims); i++ {
		if dims[i] <= 0 {
			return nil, tensor.Errorf(op, [][]int{cfg.HiddenDims}, "every hidden dim must be positive")
		}
		w, err := tensor.Randn(r, dims[i-1], dims[i])
		if err != nil {
			return nil, err
		}
		n.params[fmt.Sprint("W", i)] = w.Scale(cfg.WeightScale)
		n.params[fmt.Sprint("b", i)] = tensor.MustNew(dims[i])
		if n.bn && i < len(dims)-1 {
			g, _ := tensor.Full(1, dims[i])
			n.params[fmt.Sprint("gamma", i)] = g
			n.params[fmt.Sprint("beta", i)] = tensor.MustNew(dims[i])
			p := nn.NewBatchnormParam()
			p.RunningMean, p.RunningVar = tensor.MustNew(dims[i]), tensor.MustNew(dims[i])
			n.bnp = append(n.bnp, p)
		}
	}
	return n, nil
}

func (n *expNet) Params() map[string]*tensor.Tensor { return n.params }
func (n *expNet) SetStep(step uint32)               { n.step = step }

func (n *expNet) Buffers() map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for i, p := range n.bnp {
		out[fmt.Sprint("running_mean", i+1)] = p.RunningMean
		out[fmt.Sprint("running_var", i+1)] = p.RunningVar
	}
	return out
}

type expCache struct {
	bn   *nn.AffineBatchnormReluCache
	ar   *nn.AffineReluCache
	drop *nn.DropoutCache
}

func (n *expNet) forward(X *tensor.Tensor, mode nn.Mode) (*tensor.Tensor, []expCache, *nn.AffineCache, error) {
	h := X
	caches := make([]expCache, len(n.hidden))
	var err error
	for i := range n.hidden {
		l := i + 1
		W, b := n.params[fmt.Sprint("W", l)], n.params[fmt.Sprint("b", l)]
		if n.bn {
			n.bnp[i].Mode = mode
			h, caches[i].bn, err = nn.AffineBatchnormReluForward(h, W, b, n.params[fmt.Sprint("gamma", l)], n.params[fmt.Sprint("beta", l)], n.bnp[i])
		} else {
			h, caches[i].ar, err = nn.AffineReluForward(h, W, b)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if n.drop > 0 && mode == nn.Train {
			h, caches[i].drop, err = nn.DropoutForward(h, nn.DropoutParam{P: n.drop, Mode: nn.Train, Seed: n.seed, Step: n.step, Layer: uint32(l)})
			if err != nil {
				return nil, nil, nil, err
			}
		}
	}
	L := len(n.hidden) + 1
	scores, last, err := nn.AffineForward(h, n.params[fmt.Sprint("W", L)], n.params[fmt.Sprint("b", L)])
	return scores, caches, last, err
}

func (n *expNet) Scores(X *tensor.Tensor) (*tensor.Tensor, error) {
	s, _, _, err := n.forward(X, nn.Test)
	return s, err
}

func (n *expNet) Loss(X *tensor.Tensor, y []int) (float64, map[string]*tensor.Tensor, error) {
	scores, caches, last, err := n.forward(X, nn.Train)
	if err != nil {
		return 0, nil, err
	}
	loss, dscores, err := nn.SoftmaxLoss(scores, y)
	if err != nil {
		return 0, nil, err
	}
	grads := map[string]*tensor.Tensor{}
	L := len(n.hidden) + 1
	dh, dW, db, err := nn.AffineBackward(dscores, last)
	if err != nil {
		return 0, nil, err
	}
	grads[fmt.Sprint("W", L)], grads[fmt.Sprint("b", L)] = dW, db
	for i := len(n.hidden) - 1; i >= 0; i-- {
		l := i + 1
		c := caches[i]
		if c.drop != nil {
			if dh, err = nn.DropoutBackward(dh, c.drop); err != nil {
				return 0, nil, err
			}
		}
		if n.bn {
			var dg, dbt *tensor.Tensor
			dh, dW, db, dg, dbt, err = nn.AffineBatchnormReluBackward(dh, c.bn)
			grads[fmt.Sprint("gamma", l)], grads[fmt.Sprint("beta", l)] = dg, dbt
		} else {
			dh, dW, db, err = nn.AffineReluBackward(dh, c.ar)
		}
		if err != nil {
			return 0, nil, err
		}
		grads[fmt.Sprint("W", l)], grads[fmt.Sprint("b", l)] = dW, db
	}
	return loss, grads, nil
}
