package gpu

import (
	"bytes"
	"fmt"
	"math"

	"gradlab/core/net"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// Optimizer picks the update rule a Network trains with. Only the rules
// with GPU kernels are accepted: sgd, sgd_momentum, adam and adamw.
type Optimizer struct {
	Name        string
	Momentum    float64 // sgd_momentum; 0 means 0.9
	Beta1       float64 // adam(w); 0 means 0.9
	Beta2       float64 // adam(w); 0 means 0.999
	Eps         float64 // adam(w); 0 means 1e-8
	WeightDecay float64 // adamw; 0 means 0.01
}

func (o Optimizer) withDefaults() (Optimizer, error) {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Momentum, 0.9)
	def(&o.Beta1, 0.9)
	def(&o.Beta2, 0.999)
	def(&o.Eps, 1e-8)
	def(&o.WeightDecay, 0.01)
	switch o.Name {
	case "sgd", "sgd_momentum", "adam", "adamw":
	default:
		return o, fmt.Errorf("gpu.Network: no GPU update rule %q (use sgd, sgd_momentum, adam or adamw)", o.Name)
	}
	for _, v := range []float64{o.Momentum, o.Beta1, o.Beta2} {
		if !(v >= 0 && v < 1) {
			return o, fmt.Errorf("gpu.Network: momentum and betas must be in [0, 1), got %v", v)
		}
	}
	if !(o.Eps > 0) || !(o.WeightDecay >= 0) || math.IsInf(o.Eps+o.WeightDecay, 0) {
		return o, fmt.Errorf("gpu.Network: eps must be > 0 and weight decay >= 0")
	}
	return o, nil
}

// param is one learnable tensor on the GPU with its optimizer state.
type param struct {
	name  string
	value *Tensor
	m, v  *Tensor // sgd_momentum: v is the velocity; adam: m and v
}

// Network runs a net.Spec on the GPU: the same layers, in the same order,
// as the float64 net.Net, in f32. A whole training step (forward, loss,
// backward, update) is recorded into the device's command encoder and
// submitted once; nothing is read back unless ReadLoss or Predict asks.
// It implements train.Backend.
type Network struct {
	d     *Device
	host  *net.Net // the CPU twin: spec, parameter order, save format
	opt   Optimizer
	byL   [][]*param
	bn    []*BatchnormState
	zeroB []*Tensor // zero biases for affine layers without one
	adamT int
	loss  *Tensor
}

// NewNetwork uploads n's weights and running statistics. The CPU net stays
// the owner of the architecture and of the weights file format: Snapshot
// and Restore go through it.
func NewNetwork(d *Device, n *net.Net, opt Optimizer) (*Network, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Network{d: d, host: n, opt: opt, byL: make([][]*param, len(n.Steps)), bn: make([]*BatchnormState, len(n.Steps)), zeroB: make([]*Tensor, len(n.Steps))}
	fail := func(err error) (*Network, error) {
		g.Release()
		return nil, err
	}
	for _, p := range n.Params {
		gp := &param{name: p.Name}
		if gp.value, err = d.Upload(p.Value); err != nil {
			return fail(err)
		}
		if opt.Name != "sgd" {
			if gp.v, err = d.Zeros(p.Value.Shape...); err != nil {
				return fail(err)
			}
		}
		if opt.Name == "adam" || opt.Name == "adamw" {
			if gp.m, err = d.Zeros(p.Value.Shape...); err != nil {
				return fail(err)
			}
		}
		layer := layerOf(p.Name)
		g.byL[layer] = append(g.byL[layer], gp)
	}
	for i, st := range n.Steps {
		switch {
		case st.Kind == net.BatchNorm:
			if g.bn[i], err = d.NewBatchnormState(n.BN[i], st.Out[0]); err != nil {
				return fail(err)
			}
		case st.Kind == net.Affine && !st.Bias:
			if g.zeroB[i], err = d.Zeros(st.Out[0]); err != nil {
				return fail(err)
			}
		}
	}
	return g, nil
}

func layerOf(name string) int {
	var i int
	fmt.Sscanf(name, "L%d.", &i)
	return i
}

func (g *Network) get(layer int, role string) *Tensor {
	for _, p := range g.byL[layer] {
		if p.name == fmt.Sprintf("L%d.%s", layer, role) {
			return p.value
		}
	}
	return nil
}

// Describe names the device, for logs and the UI.
func (g *Network) Describe() string { return "GPU: " + g.d.Info().String() }

// Release frees every GPU tensor the network holds.
func (g *Network) Release() {
	for _, ps := range g.byL {
		for _, p := range ps {
			for _, t := range []*Tensor{p.value, p.m, p.v} {
				if t != nil {
					t.Release()
				}
			}
		}
	}
	for _, s := range g.bn {
		if s != nil {
			s.Release()
		}
	}
	for _, t := range g.zeroB {
		if t != nil {
			t.Release()
		}
	}
	if g.loss != nil {
		g.loss.Release()
		g.loss = nil
	}
}

// layerState is what one layer's backward pass needs from its forward.
type layerState struct {
	in   *Tensor // the layer's input (conv, relu, affine)
	out  *Tensor
	pool *MaxPoolCache
	bn   *BatchnormCache
	mask *Tensor // dropout
}

// forward records the network on x; train selects batch statistics and
// dropout. It returns the scores and, for backward, each layer's state.
func (g *Network) forward(x *Tensor, train bool, step uint32) (*Tensor, []layerState, error) {
	steps := g.host.Steps
	states := make([]layerState, len(steps))
	h := x
	for i, st := range steps {
		s := &states[i]
		s.in = h
		var err error
		switch st.Kind {
		case net.Conv:
			s.out, err = g.d.ConvForward(h, g.get(i, "W"), g.get(i, "b"), nn.ConvParam{Stride: st.Stride, Pad: st.Pad})
		case net.MaxPool:
			s.out, s.pool, err = g.d.MaxPoolForward(h, nn.PoolParam{Height: st.K, Width: st.K, Stride: st.Stride})
		case net.ReLU:
			s.out, err = g.d.Relu(h)
		case net.BatchNorm:
			if st.Spatial {
				s.out, s.bn, err = g.d.SpatialBatchnormForward(h, g.get(i, "gamma"), g.get(i, "beta"), g.bn[i], train)
			} else {
				s.out, s.bn, err = g.d.BatchnormForward(h, g.get(i, "gamma"), g.get(i, "beta"), g.bn[i], train)
			}
		case net.Dropout, net.SpatialDropout:
			if !train || st.P == 0 {
				s.out = h // identity: nothing to release or to backpropagate through
				break
			}
			if st.Kind == net.SpatialDropout {
				s.out, s.mask, err = g.d.SpatialDropout(h, st.P, g.host.Seed, step, uint32(i))
			} else {
				s.out, s.mask, err = g.d.Dropout(h, st.P, g.host.Seed, step, uint32(i))
			}
		case net.Affine:
			b := g.get(i, "b")
			if b == nil {
				b = g.zeroB[i]
			}
			s.out, err = g.d.AffineForward(h, g.get(i, "W"), b)
		}
		if err != nil {
			releaseStates(states[:i+1], x)
			return nil, nil, fmt.Errorf("%s layer %d (%s): %w", g.host.Spec.Name, i+1, st.Layer, err)
		}
		h = s.out
	}
	return h, states, nil
}

// releaseStates frees every intermediate tensor except the input x. The
// pool reuses them only after the next submit, so releasing right after
// recording is safe.
func releaseStates(states []layerState, x *Tensor) {
	for _, s := range states {
		if s.out != nil && s.out != s.in && s.out != x {
			s.out.Release()
		}
		s.pool.Release()
		s.bn.Release()
		if s.mask != nil {
			s.mask.Release()
		}
	}
}

// TrainStep records forward, softmax cross-entropy, backward and the update
// for one batch, and submits it. The loss stays on the GPU for ReadLoss.
func (g *Network) TrainStep(x []float32, labels []int, batch int, step uint32, lr float64) error {
	s := g.host.Spec
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("gpu.Network: learning rate %v, want a finite value > 0", lr)
	}
	xt, err := g.d.UploadF32(x, batch, s.C, s.H, s.W)
	if err != nil {
		return err
	}
	defer xt.Release()
	y, err := g.d.UploadLabels(labels, s.Classes)
	if err != nil {
		return err
	}
	defer y.Release()
	scores, states, err := g.forward(xt, true, step)
	if err != nil {
		return err
	}
	defer releaseStates(states, xt)
	loss, dout, err := g.d.SoftmaxCrossEntropy(scores, y)
	if err != nil {
		return err
	}
	if g.loss != nil {
		g.loss.Release()
	}
	g.loss = loss
	if g.opt.Name == "adam" || g.opt.Name == "adamw" {
		g.adamT++
	}
	for i := len(g.host.Steps) - 1; i >= 0; i-- {
		if dout, err = g.backwardLayer(i, &states[i], dout, lr); err != nil {
			return fmt.Errorf("%s layer %d (%s) backward: %w", s.Name, i+1, g.host.Steps[i].Layer, err)
		}
	}
	if dout != nil {
		dout.Release()
	}
	return g.d.Flush()
}

// backwardLayer propagates dout through layer i, applies the update to its
// parameters, and returns the gradient for the layer below (nil below the
// first layer, where no one needs it). It releases dout.
func (g *Network) backwardLayer(i int, s *layerState, dout *Tensor, lr float64) (*Tensor, error) {
	st := g.host.Steps[i]
	first := i == 0
	var dx *Tensor
	var grads []*Tensor
	var err error
	switch st.Kind {
	case net.Conv:
		p := nn.ConvParam{Stride: st.Stride, Pad: st.Pad}
		w := g.get(i, "W")
		var dw, db *Tensor
		if dw, err = g.d.ConvBackwardWeights(dout, s.in, w.Shape(), p); err != nil {
			break
		}
		grads = append(grads, dw)
		if st.Bias {
			if db, err = g.d.ConvBackwardBias(dout); err != nil {
				break
			}
			grads = append(grads, db)
		}
		if !first {
			dx, err = g.d.ConvBackwardData(dout, w, s.in.Shape(), p)
		}
	case net.MaxPool:
		dx, err = g.d.MaxPoolBackward(dout, s.pool)
	case net.ReLU:
		dx, err = g.d.ReluBackward(dout, s.in)
	case net.BatchNorm:
		var dg, db *Tensor
		if st.Spatial {
			dx, dg, db, err = g.d.SpatialBatchnormBackward(dout, s.bn)
		} else {
			dx, dg, db, err = g.d.BatchnormBackward(dout, s.bn)
		}
		grads = []*Tensor{dg, db}
	case net.Dropout, net.SpatialDropout:
		if s.mask == nil {
			return dout, nil // identity in this step
		}
		if st.Kind == net.SpatialDropout {
			dx, err = g.d.SpatialDropoutBackward(dout, s.mask)
		} else {
			dx, err = g.d.DropoutBackward(dout, s.mask)
		}
	case net.Affine:
		var dw, db *Tensor
		dx, dw, db, err = g.d.AffineBackward(dout, s.in, g.get(i, "W"))
		grads = []*Tensor{dw}
		if st.Bias {
			grads = append(grads, db)
		} else {
			db.Release()
		}
	}
	dout.Release()
	defer func() {
		for _, t := range grads {
			if t != nil {
				t.Release()
			}
		}
	}()
	if err != nil {
		if dx != nil {
			dx.Release()
		}
		return nil, err
	}
	for j, p := range g.byL[i] {
		if j >= len(grads) || grads[j] == nil {
			return nil, fmt.Errorf("missing gradient for %s", p.name)
		}
		if err := g.update(p, grads[j], lr); err != nil {
			return nil, err
		}
	}
	return dx, nil
}

func (g *Network) update(p *param, grad *Tensor, lr float64) error {
	o := g.opt
	switch o.Name {
	case "sgd":
		return g.d.SGDUpdate(p.value, grad, float32(lr))
	case "sgd_momentum":
		return g.d.SGDMomentumUpdate(p.value, grad, p.v, float32(lr), float32(o.Momentum))
	case "adam":
		return g.d.AdamUpdate(p.value, grad, p.m, p.v, float32(lr), float32(o.Beta1), float32(o.Beta2), float32(o.Eps), g.adamT, 0)
	default: // adamw
		return g.d.AdamUpdate(p.value, grad, p.m, p.v, float32(lr), float32(o.Beta1), float32(o.Beta2), float32(o.Eps), g.adamT, float32(o.WeightDecay))
	}
}

// ReadLoss waits for the latest step and returns its loss.
func (g *Network) ReadLoss() (float64, error) {
	if g.loss == nil {
		return 0, fmt.Errorf("gpu.Network: no training step has run yet")
	}
	v, err := g.loss.ReadF32()
	if err != nil {
		return 0, err
	}
	return float64(v[0]), nil
}

// testScores uploads a batch and records the test-mode forward pass. The
// caller reads what it needs from scores, then calls done.
func (g *Network) testScores(x []float32, batch int) (scores *Tensor, done func(), err error) {
	s := g.host.Spec
	xt, err := g.d.UploadF32(x, batch, s.C, s.H, s.W)
	if err != nil {
		return nil, nil, err
	}
	scores, states, err := g.forward(xt, false, 0)
	if err != nil {
		xt.Release()
		return nil, nil, err
	}
	return scores, func() { releaseStates(states, xt); xt.Release() }, nil
}

// Scores returns the test-mode class scores (N, Classes) of a batch.
func (g *Network) Scores(x []float32, batch int) (*tensor.Tensor, error) {
	scores, done, err := g.testScores(x, batch)
	if err != nil {
		return nil, err
	}
	defer done()
	return scores.Read()
}

// Predict returns the test-mode predicted class of each image; only the
// predictions are read back, not the scores.
func (g *Network) Predict(x []float32, batch int) ([]int, error) {
	scores, done, err := g.testScores(x, batch)
	if err != nil {
		return nil, err
	}
	defer done()
	am, err := g.d.Argmax(scores)
	if err != nil {
		return nil, err
	}
	defer am.Release()
	v, err := am.ReadF32()
	if err != nil {
		return nil, err
	}
	out := make([]int, batch)
	for i := range out {
		out[i] = int(v[i])
	}
	return out, nil
}

// Download copies the GPU's weights and running statistics into the CPU net.
func (g *Network) Download() (*net.Net, error) {
	n := g.host
	for _, p := range n.Params {
		t, err := g.get(layerOf(p.Name), p.Role).Read()
		if err != nil {
			return nil, err
		}
		copy(p.Value.Data, t.Data)
	}
	for i, s := range g.bn {
		if s == nil {
			continue
		}
		m, err := s.RunningMean.Read()
		if err != nil {
			return nil, err
		}
		v, err := s.RunningVar.Read()
		if err != nil {
			return nil, err
		}
		copy(n.BN[i].RunningMean.Data, m.Data)
		copy(n.BN[i].RunningVar.Data, v.Data)
	}
	return n, nil
}

// Snapshot returns the weights in net's file format.
func (g *Network) Snapshot() ([]byte, error) {
	n, err := g.Download()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = n.Save(&b)
	return b.Bytes(), err
}

// Restore loads weights saved by Snapshot (or net.Net.Save) onto the GPU,
// with their batchnorm running statistics. Optimizer state starts again
// from zero: after a divergence the old momentum is part of the problem.
func (g *Network) Restore(w []byte) error {
	n := g.host
	if err := n.Load(w); err != nil {
		return err
	}
	for _, p := range n.Params {
		for _, gp := range g.byL[layerOf(p.Name)] {
			if gp.name != p.Name {
				continue
			}
			if err := g.replace(&gp.value, func() (*Tensor, error) { return g.d.Upload(p.Value) }); err != nil {
				return err
			}
			for _, st := range []**Tensor{&gp.m, &gp.v} {
				if *st != nil {
					if err := g.replace(st, func() (*Tensor, error) { return g.d.Zeros(p.Value.Shape...) }); err != nil {
						return err
					}
				}
			}
		}
	}
	for i, s := range g.bn {
		if s == nil {
			continue
		}
		fresh, err := g.d.NewBatchnormState(n.BN[i], g.host.Steps[i].Out[0])
		if err != nil {
			return err
		}
		s.Release()
		g.bn[i] = fresh
	}
	g.adamT = 0
	return nil
}

// replace swaps *t for a freshly made tensor, releasing the old one only
// once the new one exists.
func (g *Network) replace(t **Tensor, make func() (*Tensor, error)) error {
	fresh, err := make()
	if err != nil {
		return err
	}
	(*t).Release()
	*t = fresh
	return nil
}
