package net

import (
	"fmt"
	"math"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// Param is one learnable tensor with its gradient from the last Loss call.
type Param struct {
	ParamShape
	Value *tensor.Tensor
	Grad  *tensor.Tensor
}

// Net is a Spec instantiated on the float64 CPU reference.
type Net struct {
	Spec   Spec
	Steps  []Step
	Params []*Param
	// BN holds each batchnorm layer's mode and running statistics (nil for
	// other layers); they are saved with the weights.
	BN []*nn.BatchnormParam
	// Seed and Step select dropout masks: layer i uses stream i, and Step
	// should advance once per training iteration (the trainer does it).
	Seed uint64
	Step uint32

	byLayer [][]*Param
}

// New validates spec and initialises its parameters from seed: He-normal
// weights, zero biases, gamma 1, beta 0.
func New(spec Spec, seed uint64) (*Net, error) {
	steps, err := spec.Plan()
	if err != nil {
		return nil, err
	}
	n := &Net{Spec: spec, Steps: steps, BN: make([]*nn.BatchnormParam, len(steps)), byLayer: make([][]*Param, len(steps)), Seed: seed}
	r := tensor.NewRand(seed)
	for i, st := range steps {
		for _, ps := range st.Params {
			v, err := tensor.New(ps.Shape...)
			if err != nil {
				return nil, err
			}
			switch ps.Role {
			case "W":
				fanIn := prod(ps.Shape[1:])
				if st.Kind == Affine {
					fanIn = ps.Shape[0]
				}
				std := heStd(fanIn)
				for j := range v.Data {
					v.Data[j] = std * r.NormFloat64()
				}
			case "gamma":
				for j := range v.Data {
					v.Data[j] = 1
				}
			}
			p := &Param{ParamShape: ps, Value: v, Grad: tensor.ZerosLike(v)}
			n.Params = append(n.Params, p)
			n.byLayer[i] = append(n.byLayer[i], p)
		}
		if st.Kind == BatchNorm {
			bp := nn.NewBatchnormParam()
			c := st.Out[0]
			bp.RunningMean = tensor.MustNew(c)
			bp.RunningVar = tensor.MustNew(c)
			n.BN[i] = bp
		}
	}
	return n, nil
}

// NumParams counts learnable values.
func (n *Net) NumParams() int {
	t := 0
	for _, p := range n.Params {
		t += p.Value.Size()
	}
	return t
}

func (n *Net) param(layer int, role string) *tensor.Tensor {
	for _, p := range n.byLayer[layer] {
		if p.Role == role {
			return p.Value
		}
	}
	return nil
}

// Forward computes class scores (N, Classes) for a batch x of shape
// (N, C, H, W). In Train mode batchnorm uses batch statistics (and updates
// the running ones) and dropout draws masks from (Seed, Step, layer).
func (n *Net) Forward(x *tensor.Tensor, mode nn.Mode) (*tensor.Tensor, error) {
	out, _, err := n.forward(x, mode)
	return out, err
}

func (n *Net) forward(x *tensor.Tensor, mode nn.Mode) (*tensor.Tensor, []any, error) {
	if x == nil || len(x.Shape) != 4 || x.Shape[1] != n.Spec.C || x.Shape[2] != n.Spec.H || x.Shape[3] != n.Spec.W {
		var got []int
		if x != nil {
			got = x.Shape
		}
		return nil, nil, tensor.Errorf("net.Forward", [][]int{got}, "%s expects a batch of shape (N, %d, %d, %d)", n.Spec.Name, n.Spec.C, n.Spec.H, n.Spec.W)
	}
	caches := make([]any, len(n.Steps))
	h := x
	for i, st := range n.Steps {
		var err error
		var c any
		switch st.Kind {
		case Conv:
			h, c, err = nn.ConvForwardFast(h, n.param(i, "W"), n.param(i, "b"), nn.ConvParam{Stride: st.Stride, Pad: st.Pad})
		case MaxPool:
			h, c, err = nn.MaxPoolForward(h, nn.PoolParam{Height: st.K, Width: st.K, Stride: st.Stride})
		case ReLU:
			h, c, err = nn.ReluForward(h)
		case BatchNorm:
			bp := n.BN[i]
			bp.Mode = mode
			if st.Spatial {
				h, c, err = nn.SpatialBatchnormForward(h, n.param(i, "gamma"), n.param(i, "beta"), bp)
			} else {
				h, c, err = nn.BatchnormForward(h, n.param(i, "gamma"), n.param(i, "beta"), bp)
			}
		case Dropout:
			h, c, err = nn.DropoutForward(h, n.dropoutParam(i, mode))
		case SpatialDropout:
			h, c, err = nn.SpatialDropoutForward(h, n.dropoutParam(i, mode))
		case Affine:
			b := n.param(i, "b")
			if b == nil { // nn.AffineForward always adds a bias; "nobias" adds zeros
				b = tensor.MustNew(st.Out[0])
			}
			h, c, err = nn.AffineForward(h, n.param(i, "W"), b)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s layer %d (%s): %w", n.Spec.Name, i+1, st.Layer, err)
		}
		caches[i] = c
	}
	return h, caches, nil
}

func (n *Net) dropoutParam(i int, mode nn.Mode) nn.DropoutParam {
	return nn.DropoutParam{P: n.Steps[i].P, Mode: mode, Seed: n.Seed, Step: n.Step, Layer: uint32(i)}
}

// Loss runs a training-mode forward and backward pass on (x, y), returns the
// mean softmax cross-entropy and leaves every parameter's gradient in Grad.
func (n *Net) Loss(x *tensor.Tensor, y []int) (float64, error) {
	scores, caches, err := n.forward(x, nn.Train)
	if err != nil {
		return 0, err
	}
	loss, dout, err := nn.SoftmaxLoss(scores, y)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", n.Spec.Name, err)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("%s: loss is %v: the weights have diverged (lower the learning rate)", n.Spec.Name, loss)
	}
	for i := len(n.Steps) - 1; i >= 0; i-- {
		st := n.Steps[i]
		var grads []*tensor.Tensor
		switch c := caches[i].(type) {
		case *nn.ConvCache:
			var dw, db *tensor.Tensor
			dout, dw, db, err = nn.ConvBackwardFast(dout, c)
			grads = []*tensor.Tensor{dw, db}
		case *nn.PoolCache:
			dout, err = nn.MaxPoolBackward(dout, c)
		case *nn.ReluCache:
			dout, err = nn.ReluBackward(dout, c)
		case *nn.SpatialBatchnormCache:
			var dg, dbt *tensor.Tensor
			dout, dg, dbt, err = nn.SpatialBatchnormBackward(dout, c)
			grads = []*tensor.Tensor{dg, dbt}
		case *nn.BatchnormCache:
			var dg, dbt *tensor.Tensor
			dout, dg, dbt, err = nn.BatchnormBackwardAlt(dout, c)
			grads = []*tensor.Tensor{dg, dbt}
		case *nn.DropoutCache:
			dout, err = nn.DropoutBackward(dout, c)
		case *nn.SpatialDropoutCache:
			dout, err = nn.SpatialDropoutBackward(dout, c)
		case *nn.AffineCache:
			var dw, db *tensor.Tensor
			dout, dw, db, err = nn.AffineBackward(dout, c)
			grads = []*tensor.Tensor{dw, db}
		default:
			err = fmt.Errorf("no backward for %T", c)
		}
		if err != nil {
			return 0, fmt.Errorf("%s layer %d (%s) backward: %w", n.Spec.Name, i+1, st.Layer, err)
		}
		for j, p := range n.byLayer[i] {
			if j < len(grads) && grads[j] != nil {
				copy(p.Grad.Data, grads[j].Data)
			}
		}
	}
	return loss, nil
}

// Predict returns the arg-max class of each image, in test mode.
func (n *Net) Predict(x *tensor.Tensor) ([]int, *tensor.Tensor, error) {
	scores, err := n.Forward(x, nn.Test)
	if err != nil {
		return nil, nil, err
	}
	return Argmax(scores), scores, nil
}

// Argmax is the index of the largest score in each row.
func Argmax(scores *tensor.Tensor) []int {
	rows, cols := scores.Rows()
	out := make([]int, rows)
	for i := 0; i < rows; i++ {
		best := 0
		for j := 1; j < cols; j++ {
			if scores.Data[i*cols+j] > scores.Data[i*cols+best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}
