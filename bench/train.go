package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"gradlab/core/gpu"
	"gradlab/core/net"
)

// benchTrain times the reference CNN's whole training step (forward, loss,
// backward, SGD-momentum update: one submit) on a fixed random batch, as
// torch_reference.py does, and its test-mode forward pass (inference).
func benchTrain(d *gpu.Device, out *reporter, batches []int, reps int) error {
	spec := net.ReferenceCNN(3, 32, 32, 10, true, 0.5)
	host, err := net.New(spec, 1)
	if err != nil {
		return err
	}
	g, err := gpu.NewNetwork(d, host, gpu.Optimizer{Name: "sgd_momentum", Momentum: 0.9})
	if err != nil {
		return err
	}
	defer g.Release()
	r := rand.New(rand.NewPCG(5, 6))
	for _, b := range batches {
		x := randF32(r, b*3*32*32)
		y := make([]int, b)
		for i := range y {
			y[i] = r.IntN(10)
		}
		// Each timed step also records how long the CPU took to record and
		// submit it (validation, bind groups, pipeline look-ups), against
		// the whole step including the GPU's work.
		step := uint32(0)
		var recording []time.Duration
		t, err := median(reps, func() error {
			step++
			t0 := time.Now()
			if err := g.TrainStep(x, y, b, step, 0.05); err != nil {
				return err
			}
			recording = append(recording, time.Since(t0))
			return d.Sync()
		})
		if err != nil {
			return fmt.Errorf("train step at batch %d: %w", b, err)
		}
		rec := medianOf(recording[1:]) // the first is the untimed warm-up
		out.emit(record{"bench": "train_step", "batch": b, "ms": ms(t), "img_per_s": float64(b) / ms(t) * 1e3, "record_ms": ms(rec)},
			fmt.Sprintf("train step   batch=%-4d %10.3f ms %9.0f images/s (%.1f ms of it recording on the CPU)", b, ms(t), float64(b)/ms(t)*1e3, ms(rec)))
		if _, err := g.ReadLoss(); err != nil {
			return err
		}
		t, err = median(reps, func() error {
			_, err := g.Predict(x, b)
			return err
		})
		if err != nil {
			return fmt.Errorf("inference at batch %d: %w", b, err)
		}
		out.emit(record{"bench": "inference", "batch": b, "ms": ms(t), "img_per_s": float64(b) / ms(t) * 1e3},
			fmt.Sprintf("inference    batch=%-4d %10.3f ms %9.0f images/s (includes reading predictions back)", b, ms(t), float64(b)/ms(t)*1e3))
	}
	return nil
}
