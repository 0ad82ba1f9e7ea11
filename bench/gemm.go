package main

import (
	"fmt"
	"math/rand/v2"

	"gradlab/core/gpu"
)

// benchGEMM times C = A B for n x n f32 matrices with every matmul kernel,
// the naive one as the baseline of the same run (up to naiveMax: beyond it
// the naive kernel alone would take minutes on a software adapter).
func benchGEMM(d *gpu.Device, out *reporter, sizes []int, naiveMax, reps int) error {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range sizes {
		data := make([]float32, n*n)
		for i := range data {
			data[i] = float32(r.NormFloat64())
		}
		a, err := d.UploadF32(data, n, n)
		if err != nil {
			return err
		}
		b, err := d.UploadF32(data, n, n)
		if err != nil {
			return err
		}
		for _, algo := range gpu.MatMulAlgos() {
			if algo == gpu.Naive && n > naiveMax {
				continue
			}
			t, err := median(reps, func() error {
				c, err := d.MatMulWith(algo, a, b, false, false)
				if err != nil {
					return err
				}
				c.Release()
				return d.Sync()
			})
			if err != nil {
				return fmt.Errorf("gemm %s n=%d: %w", algo, n, err)
			}
			gf := 2 * float64(n) * float64(n) * float64(n) / ms(t) / 1e6
			out.emit(record{"bench": "gemm", "kernel": algo.String(), "n": n, "ms": ms(t), "gflops": gf},
				fmt.Sprintf("gemm %-8s n=%-5d %10.3f ms %10.1f GFLOP/s", algo, n, ms(t), gf))
		}
		a.Release()
		b.Release()
	}
	return nil
}
