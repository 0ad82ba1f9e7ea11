package main

import (
	"fmt"
	"math/rand/v2"

	"gradlab/core/gpu"
	"gradlab/core/nn"
)

// refConvLayers are the reference CNN's convolutions: (C, H, K) at 3x3, pad 1,
// stride 1, as in shared/bench/torch_reference.py.
var refConvLayers = [][3]int{{3, 32, 32}, {32, 32, 32}, {32, 16, 64}, {64, 16, 64}, {64, 8, 128}}

// benchConv times each layer's forward pass and its forward plus backward
// (dx and dw) pass, with the naive kernels as the in-run baseline. FLOPs are
// counted as PyTorch's script counts them: 2NKC9HW forward, three times
// that for forward plus backward.
func benchConv(d *gpu.Device, out *reporter, n, reps int) error {
	r := rand.New(rand.NewPCG(3, 4))
	p := nn.ConvParam{Stride: 1, Pad: 1}
	for _, l := range refConvLayers {
		c, h, k := l[0], l[1], l[2]
		x, err := d.UploadF32(randF32(r, n*c*h*h), n, c, h, h)
		if err != nil {
			return err
		}
		w, err := d.UploadF32(randF32(r, k*c*9), k, c, 3, 3)
		if err != nil {
			return err
		}
		g, err := d.UploadF32(randF32(r, n*k*h*h), n, k, h, h)
		if err != nil {
			return err
		}
		flops := 2 * float64(n) * float64(k) * float64(c) * 9 * float64(h) * float64(h)
		for _, algo := range []gpu.ConvAlgo{gpu.ConvNaive, gpu.ConvTiled} {
			fwd, err := median(reps, func() error {
				y, err := d.ConvForwardWith(algo, x, w, nil, p)
				if err != nil {
					return err
				}
				y.Release()
				return d.Sync()
			})
			if err != nil {
				return fmt.Errorf("conv %v forward (%d,%d,%d,%d): %w", algo, n, c, h, k, err)
			}
			both, err := median(reps, func() error {
				y, err := d.ConvForwardWith(algo, x, w, nil, p)
				if err != nil {
					return err
				}
				y.Release()
				dx, dw, _, err := d.ConvBackwardWith(algo, g, x, w, p, false)
				if err != nil {
					return err
				}
				dx.Release()
				dw.Release()
				return d.Sync()
			})
			if err != nil {
				return fmt.Errorf("conv %v forward+backward (%d,%d,%d,%d): %w", algo, n, c, h, k, err)
			}
			name := algoName(algo)
			out.emit(record{"bench": "conv_fwd", "kernel": name, "N": n, "C": c, "H": h, "W": h, "K": k, "ms": ms(fwd), "gflops": flops / ms(fwd) / 1e6},
				fmt.Sprintf("conv fwd     %-6s N=%d C=%-3d H=%-3d K=%-3d %10.3f ms %9.1f GFLOP/s", name, n, c, h, k, ms(fwd), flops/ms(fwd)/1e6))
			out.emit(record{"bench": "conv_fwd_bwd", "kernel": name, "N": n, "C": c, "H": h, "W": h, "K": k, "ms": ms(both), "gflops": 3 * flops / ms(both) / 1e6},
				fmt.Sprintf("conv fwd+bwd %-6s N=%d C=%-3d H=%-3d K=%-3d %10.3f ms %9.1f GFLOP/s", name, n, c, h, k, ms(both), 3*flops/ms(both)/1e6))
		}
		x.Release()
		w.Release()
		g.Release()
	}
	return nil
}

func algoName(a gpu.ConvAlgo) string {
	if a == gpu.ConvNaive {
		return "naive"
	}
	return "tiled"
}

func randF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func rngFor(n int) *rand.Rand { return rand.New(rand.NewPCG(uint64(n), 7)) }
