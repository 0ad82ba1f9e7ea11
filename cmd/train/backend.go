package main

import (
	"errors"
	"fmt"

	"gradlab/core/gpu"
	"gradlab/core/net"
	"gradlab/core/train"
)

// newBackend picks the device: the GPU engine when an adapter exists, else
// the float64 CPU reference, and says which (and why) in the returned note.
func newBackend(o *options, spec net.Spec) (train.Backend, string, error) {
	n, err := net.New(spec, o.seed)
	if err != nil {
		return nil, "", err
	}
	cpu := func(note string) (train.Backend, string, error) {
		b, err := train.NewCPU(n, train.OptimConfig{Name: o.optimizer, Momentum: 0.9, WeightDecay: o.weightDecay}, o.lr)
		return b, note, err
	}
	switch o.device {
	case "cpu":
		return cpu("")
	case "gpu", "auto":
		d, err := gpu.Open(gpu.Options{})
		if err != nil {
			if o.device == "auto" && errors.Is(err, gpu.ErrNoAdapter) {
				return cpu(fmt.Sprintf("\n         no WebGPU adapter (%v): training on the CPU instead, much slower", err))
			}
			return nil, "", err
		}
		g, err := gpu.NewNetwork(d, n, gpu.Optimizer{Name: o.optimizer, Momentum: 0.9, WeightDecay: o.weightDecay})
		if err != nil {
			d.Close()
			return nil, "", err
		}
		note := ""
		if d.Info().Fallback {
			note = "\n         (a software adapter: correct, but far slower than a real GPU)"
		}
		return g, note, nil
	}
	return nil, "", fmt.Errorf("unknown device %q: use auto, gpu or cpu", o.device)
}
