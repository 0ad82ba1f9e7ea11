package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"gradlab/core/nn"
)

// Batchnorm and max-pool are memory-bound, so these report GB/s: the bytes
// the kernels read and write per iteration over the time of one recorded
// and completed (Sync) forward+backward, at the reference CNN's shapes
// (shared/bench/torch_reference.py):
//
//	go test ./core/gpu -run '^$' -bench 'SpatialBatchnorm|MaxPool|BNPoolCopy'
//
// Bytes counted (f32, n = elements of x):
//   - spatial batchnorm, train forward + backward: 10n floats (statistics
//     read x twice, normalisation reads x and writes out and xhat; gradient
//     sums read dout and xhat, dx reads both and writes dx);
//   - max-pool 2x2 stride 2 forward + backward: 2n + 4 n_out floats
//     (forward reads x, writes out and argmax; backward reads argmax and
//     dout, writes dx), with the generic kernel (window and stride in the
//     uniform) and the specialised one MaxPoolForward uses;
//   - BNPoolCopy, the baseline: relu forward + backward (5n floats), a pure
//     streaming op, so its GB/s is about what this adapter can stream: the
//     ratio to it says how close to the memory bound the kernels run.
//
// The batch is 8 (software adapters stream a few GB/s);
// GRADLAB_BENCH_BNPOOL_N=n sets it, GRADLAB_BENCH_FULL=1 makes it 128.
func BenchmarkSpatialBatchnormOneWorkgroup(b *testing.B) { benchSpatialBN(b, math.MaxInt32) }
func BenchmarkSpatialBatchnormChunked(b *testing.B)      { benchSpatialBN(b, bnChunk) }
func BenchmarkMaxPoolGeneric(b *testing.B)               { benchMaxPool(b, false) }
func BenchmarkMaxPoolSpecialised(b *testing.B)           { benchMaxPool(b, true) }
func BenchmarkBNPoolCopy(b *testing.B)                   { benchBNPoolCopy(b) }

// bnPoolBenchLayers are the reference CNN's batchnorm inputs as (C, H):
// every conv output; the max-pools take the 32x32x32, 64x16x16 and
// 128x8x8 ones.
var bnPoolBenchLayers = [][2]int{{32, 32}, {64, 16}, {128, 8}}

func bnPoolBenchBatch(b *testing.B) int {
	if s := os.Getenv("GRADLAB_BENCH_BNPOOL_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("GRADLAB_BENCH_BNPOOL_N=%q: want a positive integer", s)
		}
		return n
	}
	if os.Getenv("GRADLAB_BENCH_FULL") == "1" {
		return 128
	}
	return 8
}

// benchBNPoolLoop warms up once (pipelines, pool), then times step+Sync
// and reports GB/s for bytes per step.
func benchBNPoolLoop(b *testing.B, d *Device, bytes float64, step func() []*Tensor) {
	release(step()...)
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ts := step()
		if err := d.Sync(); err != nil {
			b.Fatal(err)
		}
		release(ts...)
	}
	b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func benchSpatialBN(b *testing.B, chunkLen int) {
	d := device(b)
	n := bnPoolBenchBatch(b)
	for _, l := range bnPoolBenchLayers {
		c, h := l[0], l[1]
		b.Run(fmt.Sprintf("N=%d,C=%d,H=%d", n, c, h), func(b *testing.B) {
			r := rand.New(rand.NewPCG(13, 13))
			size := n * c * h * h
			x := upload(b, d, randF32(r, size), n, c, h, h)
			dout := upload(b, d, randF32(r, size), n, c, h, h)
			gamma, beta := upload(b, d, randF32(r, c), c), upload(b, d, randF32(r, c), c)
			st, err := d.NewBatchnormState(nil, c)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Release()
			defer release(x, dout, gamma, beta)
			benchBNPoolLoop(b, d, 10*4*float64(size), func() []*Tensor {
				out, cache, err := d.bnForward("bench", true, x, gamma, beta, st, true, chunkLen)
				if err != nil {
					b.Fatal(err)
				}
				dx, dg, db, err := d.bnBackward("bench", dout, cache, chunkLen)
				if err != nil {
					b.Fatal(err)
				}
				return []*Tensor{out, cache.Xhat, cache.Stats, dx, dg, db}
			})
		})
	}
}

func benchMaxPool(b *testing.B, specialised bool) {
	d := device(b)
	n := bnPoolBenchBatch(b)
	p := nn.PoolParam{Height: 2, Width: 2, Stride: 2}
	for _, l := range bnPoolBenchLayers {
		c, h := l[0], l[1]
		b.Run(fmt.Sprintf("N=%d,C=%d,H=%d", n, c, h), func(b *testing.B) {
			r := rand.New(rand.NewPCG(14, 14))
			size, outSize := n*c*h*h, n*c*(h/2)*(h/2)
			x := upload(b, d, randF32(r, size), n, c, h, h)
			dout := upload(b, d, randF32(r, outSize), n, c, h/2, h/2)
			defer release(x, dout)
			benchBNPoolLoop(b, d, 4*float64(2*size+4*outSize), func() []*Tensor {
				out, cache, err := d.maxPoolForward(x, p, specialised)
				if err != nil {
					b.Fatal(err)
				}
				dx, err := d.MaxPoolBackward(dout, cache)
				if err != nil {
					b.Fatal(err)
				}
				return []*Tensor{out, cache.Argmax, dx}
			})
		})
	}
}

func benchBNPoolCopy(b *testing.B) {
	d := device(b)
	n := bnPoolBenchBatch(b)
	for _, l := range bnPoolBenchLayers {
		c, h := l[0], l[1]
		b.Run(fmt.Sprintf("N=%d,C=%d,H=%d", n, c, h), func(b *testing.B) {
			r := rand.New(rand.NewPCG(15, 15))
			size := n * c * h * h
			x := upload(b, d, randF32(r, size), n, c, h, h)
			dout := upload(b, d, randF32(r, size), n, c, h, h)
			defer release(x, dout)
			benchBNPoolLoop(b, d, 5*4*float64(size), func() []*Tensor {
				y, err := d.Relu(x)
				if err != nil {
					b.Fatal(err)
				}
				dx, err := d.ReluBackward(dout, x)
				if err != nil {
					b.Fatal(err)
				}
				return []*Tensor{y, dx}
			})
		})
	}
}
