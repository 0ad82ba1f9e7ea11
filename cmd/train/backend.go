package main

import (
	"fmt"

	"gradlab/core/net"
	"gradlab/core/train"
)

// newBackend picks the device. The GPU backend plugs in here once the GPU
// engine can run a whole network; until then "auto" is the CPU.
func newBackend(o *options, spec net.Spec) (train.Backend, string, error) {
	n, err := net.New(spec, o.seed)
	if err != nil {
		return nil, "", err
	}
	oc := train.OptimConfig{Name: o.optimizer, Momentum: 0.9, WeightDecay: o.weightDecay}
	switch o.device {
	case "cpu", "auto":
		b, err := train.NewCPU(n, oc, o.lr)
		return b, "", err
	case "gpu":
		return nil, "", fmt.Errorf("-device gpu: the GPU network executor is not built yet; use -device cpu")
	}
	return nil, "", fmt.Errorf("unknown device %q: use auto, gpu or cpu", o.device)
}
