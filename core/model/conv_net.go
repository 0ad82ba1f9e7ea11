package model

import (
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// ConvNetConfig describes a ThreeLayerConvNet. Zero fields take the course's
// defaults: InputDims (3, 32, 32), NumFilters 32, FilterSize 7, HiddenDim
// 100, NumClasses 10, WeightScale 1e-3.
type ConvNetConfig struct {
	InputDims   [3]int // C, H, W
	NumFilters  int
	FilterSize  int // stride 1, pad (FilterSize-1)/2: odd sizes keep H and W
	HiddenDim   int
	NumClasses  int
	WeightScale float64
	Reg         float64 // loss += 0.5*Reg*(||W1||² + ||W2||² + ||W3||²)
	Seed        uint64  // initial weights
}

// ThreeLayerConvNet is the course's conv - relu - 2x2 max pool - affine -
// relu - affine - softmax, with parameters W1 (F, C, k, k), b1 (F),
// W2 (F*H'*W', hidden), b2, W3 (hidden, classes), b3.
type ThreeLayerConvNet struct {
	cfg    ConvNetConfig
	params map[string]*tensor.Tensor
	conv   nn.ConvParam
	pool   nn.PoolParam
}

// NewThreeLayerConvNet validates cfg and initialises W ~ WeightScale*N(0,1)
// and zero biases.
func NewThreeLayerConvNet(cfg ConvNetConfig) (*ThreeLayerConvNet, error) {
	const op = "model.NewThreeLayerConvNet"
	if cfg.InputDims == [3]int{} {
		cfg.InputDims = [3]int{3, 32, 32}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.NumFilters, 32)
	def(&cfg.FilterSize, 7)
	def(&cfg.HiddenDim, 100)
	def(&cfg.NumClasses, 10)
	if cfg.WeightScale == 0 {
		cfg.WeightScale = 1e-3
	}
	in := cfg.InputDims[:]
	if _, err := tensor.CheckShape(op, in); err != nil {
		return nil, tensor.Errorf(op, [][]int{in}, "input dims (C, H, W) must be positive")
	}
	sizes := []int{cfg.NumFilters, cfg.FilterSize, cfg.HiddenDim, cfg.NumClasses}
	if _, err := tensor.CheckShape(op, sizes); err != nil {
		return nil, tensor.Errorf(op, nil, "filters %d, filter size %d, hidden dim %d and classes %d must be positive", sizes[0], sizes[1], sizes[2], sizes[3])
	}
	if err := checkScalars(op, cfg.Reg, cfg.WeightScale); err != nil {
		return nil, err
	}
	net := &ThreeLayerConvNet{
		cfg:    cfg,
		params: map[string]*tensor.Tensor{},
		conv:   nn.ConvParam{Stride: 1, Pad: (cfg.FilterSize - 1) / 2},
		pool:   nn.PoolParam{Height: 2, Width: 2, Stride: 2},
	}
	var hp, wp int
	for axis, p := range []*int{&hp, &wp} {
		c, err := nn.ConvOutSize(in[1+axis], cfg.FilterSize, 1, net.conv.Pad)
		if err != nil {
			return nil, tensor.Errorf(op, [][]int{in}, "filter size %d does not fit the input: %v", cfg.FilterSize, err)
		}
		if c < 2 {
			return nil, tensor.Errorf(op, [][]int{in}, "the conv output (%d) is too small for a 2x2 pool", c)
		}
		*p = (c-2)/2 + 1
	}
	C, F, k := in[0], cfg.NumFilters, cfg.FilterSize
	r := tensor.NewRand(cfg.Seed)
	pooled := F * hp * wp
	if _, err := tensor.CheckShape(op, []int{pooled, cfg.HiddenDim}); err != nil {
		return nil, err
	}
	net.params["W1"] = initWeights(r, cfg.WeightScale, F, C, k, k)
	net.params["b1"] = tensor.MustNew(F)
	net.params["W2"] = initWeights(r, cfg.WeightScale, pooled, cfg.HiddenDim)
	net.params["b2"] = tensor.MustNew(cfg.HiddenDim)
	net.params["W3"] = initWeights(r, cfg.WeightScale, cfg.HiddenDim, cfg.NumClasses)
	net.params["b3"] = tensor.MustNew(cfg.NumClasses)
	return net, nil
}

// Config returns the configuration with defaults filled in.
func (n *ThreeLayerConvNet) Config() ConvNetConfig { return n.cfg }

// Params returns the live parameter map.
func (n *ThreeLayerConvNet) Params() map[string]*tensor.Tensor { return n.params }

type convNetCache struct {
	crp *nn.ConvReluPoolCache
	ar  *nn.AffineReluCache
	a   *nn.AffineCache
}

func (n *ThreeLayerConvNet) forward(op string, X *tensor.Tensor, y []int) (*tensor.Tensor, *convNetCache, error) {
	if err := checkBatch(op, X, y, n.cfg.InputDims[:], n.cfg.NumClasses); err != nil {
		return nil, nil, err
	}
	p, c := n.params, &convNetCache{}
	h, crp, err := nn.ConvReluPoolForward(X, p["W1"], p["b1"], n.conv, n.pool)
	if err != nil {
		return nil, nil, err
	}
	h2, ar, err := nn.AffineReluForward(h, p["W2"], p["b2"])
	if err != nil {
		return nil, nil, err
	}
	scores, a, err := nn.AffineForward(h2, p["W3"], p["b3"])
	if err != nil {
		return nil, nil, err
	}
	c.crp, c.ar, c.a = crp, ar, a
	return scores, c, nil
}

// Scores returns the (N, classes) class scores for X of shape (N, C, H, W).
func (n *ThreeLayerConvNet) Scores(X *tensor.Tensor) (*tensor.Tensor, error) {
	s, _, err := n.forward("model.ThreeLayerConvNet.Scores", X, nil)
	return s, err
}

// Loss is the softmax loss plus L2 regularisation on W1, W2, W3 and the
// gradient for every parameter. y holds one label per image; for test-time
// scores call Scores.
func (n *ThreeLayerConvNet) Loss(X *tensor.Tensor, y []int) (float64, map[string]*tensor.Tensor, error) {
	const op = "model.ThreeLayerConvNet.Loss"
	if y == nil {
		return 0, nil, tensor.Errorf(op, nil, "labels are nil; call Scores for test-time scores")
	}
	scores, c, err := n.forward(op, X, y)
	if err != nil {
		return 0, nil, err
	}
	loss, ds, err := nn.SoftmaxLoss(scores, y)
	if err != nil {
		return 0, nil, err
	}
	g := map[string]*tensor.Tensor{}
	dh2, dw3, db3, err := nn.AffineBackward(ds, c.a)
	if err != nil {
		return 0, nil, err
	}
	dh, dw2, db2, err := nn.AffineReluBackward(dh2, c.ar)
	if err != nil {
		return 0, nil, err
	}
	// AffineBackward returns dx in the shape of its input, so dh is already
	// (N, F, H', W') for the pool's backward pass.
	_, dw1, db1, err := nn.ConvReluPoolBackward(dh, c.crp)
	if err != nil {
		return 0, nil, err
	}
	g["W1"], g["b1"], g["W2"], g["b2"], g["W3"], g["b3"] = dw1, db1, dw2, db2, dw3, db3
	return addL2(loss, n.cfg.Reg, n.params, g, []string{"W1", "W2", "W3"}), g, nil
}
