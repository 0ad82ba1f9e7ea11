// Package model holds the course's two classifiers, FullyConnectedNet and
// ThreeLayerConvNet, built from the float64 layers in core/nn, and the
// Solver that trains any Model with an update rule from core/optim.
//
// A net keeps its learnable tensors in a map named the course's way (W1, b1,
// gamma1, beta1, ..., one index per layer). Params hands out that map, not a
// copy: optimizers update the tensors in place and the net sees the change.
// A net is not safe for concurrent use (batchnorm and dropout state is
// mutated by every forward pass).
package model

import "gradlab/core/tensor"

// Model is what the Solver trains.
type Model interface {
	// Params returns the live parameter tensors by name.
	Params() map[string]*tensor.Tensor
	// Loss runs a training-mode forward and backward pass on a minibatch
	// and returns the regularised loss and a gradient for every parameter.
	Loss(X *tensor.Tensor, y []int) (float64, map[string]*tensor.Tensor, error)
	// Scores runs a test-mode forward pass and returns (N, classes) scores.
	Scores(X *tensor.Tensor) (*tensor.Tensor, error)
}

// Stepper is implemented by models with dropout. The solver sets the step to
// the iteration number before every Loss call, so masks differ between
// iterations but stay fixed across the many Loss calls of a gradient check.
type Stepper interface {
	SetStep(step uint32)
}

// Buffered is implemented by models with non-learned state that must travel
// with the parameters (batchnorm running statistics): the solver snapshots
// and restores it together with the best parameters.
type Buffered interface {
	Buffers() map[string]*tensor.Tensor
}
