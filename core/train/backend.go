// Package train is gradlab's training loop for the homework's CNNs: data in
// batches, a learning-rate schedule, loss read back only every k steps,
// train and validation accuracy per epoch, and a clean stop on NaN that keeps
// the last good weights. The loop is the same for the GPU engine and the
// float64 CPU reference; each is a Backend.
package train

import (
	"bytes"
	"fmt"

	"gradlab/core/net"
	"gradlab/core/nn"
	"gradlab/core/optim"
	"gradlab/core/tensor"
)

// Backend runs one network on one device.
type Backend interface {
	// Describe names the device for logs and the UI, e.g. "CPU (float64 reference)".
	Describe() string
	// TrainStep runs forward, backward and the optimizer update on one batch
	// (x holds batch images, normalised, NCHW). step counts from 0 and picks
	// the dropout masks. The loss may stay on the device until ReadLoss.
	TrainStep(x []float32, labels []int, batch int, step uint32, lr float64) error
	// ReadLoss returns the loss of the latest TrainStep, waiting for it.
	ReadLoss() (float64, error)
	// Predict returns the predicted class of each image (test mode).
	Predict(x []float32, batch int) ([]int, error)
	// Snapshot and Restore copy all weights and optimizer-independent state
	// (batchnorm running statistics) in the weights file format.
	Snapshot() ([]byte, error)
	Restore(weights []byte) error
}

// OptimConfig picks the update rule and its hyper-parameters.
type OptimConfig struct {
	Name        string // sgd, sgd_momentum, rmsprop, adam, adamw
	Momentum    float64
	WeightDecay float64 // adamw only
}

// CPU trains a net.Net on the float64 reference layers. It is the fallback
// when no GPU adapter exists, and the oracle the GPU trainer is tested with.
type CPU struct {
	Net   *net.Net
	rules []optim.Rule
	loss  float64
}

// NewCPU builds the CPU backend with one update rule per parameter.
func NewCPU(n *net.Net, oc OptimConfig, lr float64) (*CPU, error) {
	c := &CPU{Net: n}
	for range n.Params {
		r, err := optim.New(oc.Name, optim.Config{LearningRate: lr, Momentum: oc.Momentum, WeightDecay: oc.WeightDecay})
		if err != nil {
			return nil, err
		}
		c.rules = append(c.rules, r)
	}
	return c, nil
}

func (c *CPU) Describe() string { return "CPU (float64 reference layers)" }

func (c *CPU) batch(x []float32, batch int) (*tensor.Tensor, error) {
	s := c.Net.Spec
	return tensor.FromFloat32(x, batch, s.C, s.H, s.W)
}

func (c *CPU) TrainStep(x []float32, labels []int, batch int, step uint32, lr float64) error {
	xt, err := c.batch(x, batch)
	if err != nil {
		return err
	}
	c.Net.Step = step
	if c.loss, err = c.Net.Loss(xt, labels); err != nil {
		return err
	}
	for i, p := range c.Net.Params {
		if err := c.rules[i].SetLearningRate(lr); err != nil {
			return err
		}
		if err := c.rules[i].Update(p.Value, p.Grad); err != nil {
			return fmt.Errorf("update %s: %w", p.Name, err)
		}
	}
	return nil
}

func (c *CPU) ReadLoss() (float64, error) { return c.loss, nil }

func (c *CPU) Predict(x []float32, batch int) ([]int, error) {
	xt, err := c.batch(x, batch)
	if err != nil {
		return nil, err
	}
	scores, err := c.Net.Forward(xt, nn.Test)
	if err != nil {
		return nil, err
	}
	return net.Argmax(scores), nil
}

func (c *CPU) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	err := c.Net.Save(&b)
	return b.Bytes(), err
}

func (c *CPU) Restore(w []byte) error { return c.Net.Load(w) }
