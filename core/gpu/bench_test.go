package gpu

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// BenchmarkMatMul{Naive,Tiled,Tiled128}/n=N time one N x N x N f32 matmul,
// recorded and completed (Sync submits and waits), and report GFLOP/s =
// 2 N^3 / time. Compare them in one run:
// go test ./core/gpu -run '^$' -bench MatMul
// Sizes are 256 and 512; GRADLAB_BENCH_FULL=1 adds 1024, 2048 and 4096,
// which take minutes on a software adapter and are meant for real GPUs.
func BenchmarkMatMulNaive(b *testing.B)    { benchMatMul(b, Naive) }
func BenchmarkMatMulTiled(b *testing.B)    { benchMatMul(b, Tiled) }
func BenchmarkMatMulTiled128(b *testing.B) { benchMatMul(b, Tiled128) }

func matmulBenchSizes() []int {
	if os.Getenv("GRADLAB_BENCH_FULL") == "1" {
		return []int{256, 512, 1024, 2048, 4096}
	}
	return []int{256, 512}
}

func benchMatMul(b *testing.B, algo MatMulAlgo) {
	d := device(b)
	for _, n := range matmulBenchSizes() {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 7))
			x := upload(b, d, randF32(r, n*n), n, n)
			y := upload(b, d, randF32(r, n*n), n, n)
			defer release(x, y)
			// Warm-up: pipeline compilation and pool allocation stay out
			// of the timing.
			c, err := d.MatMulWith(algo, x, y, false, false)
			if err != nil {
				b.Fatal(err)
			}
			read(b, c)
			c.Release()
			b.ResetTimer()
			for b.Loop() {
				c, err := d.MatMulWith(algo, x, y, false, false)
				if err != nil {
					b.Fatal(err)
				}
				if err := d.Sync(); err != nil {
					b.Fatal(err)
				}
				c.Release()
			}
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
