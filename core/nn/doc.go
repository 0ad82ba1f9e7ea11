// Package nn is gradlab's float64 reference layer library: every layer the
// homework teaches, forward and backward, in plain Go loops a learner can read
// next to the notebook. Each forward returns its output and a cache; each
// backward takes the upstream gradient and that cache, as in the course.
//
// Conventions (the course's; the app states them too):
//   - Images are NCHW. Affine layers flatten every dimension after the first.
//   - Dropout's P is the probability of DROPPING a unit. Kept units are scaled
//     by 1/(1-P) at train time (inverted dropout); test time is the identity.
//     Masks come from core/rng, keyed by (Seed, Step, Layer, element index), so
//     the GPU kernels draw the same mask bit for bit.
//   - Batchnorm: eps 1e-5, running = momentum*running + (1-momentum)*batch with
//     momentum 0.9 (PyTorch's momentum 0.1 is the same thing the other way
//     round). Running statistics start at zeros, as in the course (PyTorch
//     starts the variance at ones). Spatial batchnorm normalises over N, H
//     and W per channel.
//
// Bad input (mismatched shapes, non-positive sizes, NaN, out-of-range
// hyper-parameters) is an error naming the layer and the shapes, never a panic.
package nn

import "gradlab/core/tensor"

// Mode says whether a layer runs as in training or at test time.
type Mode int

const (
	Train Mode = iota
	Test
)

func (m Mode) String() string {
	if m == Test {
		return "test"
	}
	return "train"
}

// BatchnormParam carries batchnorm's mode, hyper-parameters and running
// statistics. Forward in train mode updates the running statistics in place;
// nil running statistics are created as zeros on the first call.
type BatchnormParam struct {
	Mode        Mode
	Eps         float64
	Momentum    float64
	RunningMean *tensor.Tensor
	RunningVar  *tensor.Tensor
}

// NewBatchnormParam returns the course defaults: train mode, eps 1e-5, momentum 0.9.
func NewBatchnormParam() *BatchnormParam {
	return &BatchnormParam{Mode: Train, Eps: 1e-5, Momentum: 0.9}
}

// DropoutParam: P is the drop probability in [0, 1). (Seed, Step, Layer)
// select the mask; advance Step every training iteration.
type DropoutParam struct {
	P     float64
	Mode  Mode
	Seed  uint64
	Step  uint32
	Layer uint32
}

// ConvParam: Stride >= 1, Pad >= 0. Groups 0 or 1 is a dense convolution;
// Groups = C with C_out = C is depthwise.
type ConvParam struct {
	Stride int
	Pad    int
	Groups int
}

// PoolParam is a max-pool window of Height x Width moved by Stride.
type PoolParam struct {
	Height int
	Width  int
	Stride int
}
