package gpu

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"gradlab/core/nn"
)

// BenchmarkConv{Forward,ForwardBackward}/N=..,C=..,H=..,K=../{naive,tiled}
// time each 3x3, pad 1 convolution of the reference CNN (as in
// shared/bench/torch_reference.py: no bias; forward+backward computes
// dx and dw), recorded and completed (Sync submits and waits), and report
// GFLOP/s with PyTorch's count: forward 2*N*K*C*9*H*W, forward+backward 3x
// that. Naive and tiled run back to back per layer, so their ratio is
// measured under the same conditions:
//
//	go test ./core/gpu -run '^$' -bench Conv
//
// The batch is 8 (software adapters manage ~1 GFLOP/s);
// GRADLAB_BENCH_CONV_N=n sets it, GRADLAB_BENCH_FULL=1 makes it 128, the
// size the reference figures use.
func BenchmarkConvForward(b *testing.B)         { benchConv(b, false) }
func BenchmarkConvForwardBackward(b *testing.B) { benchConv(b, true) }

// BenchmarkConvPass/N=..,C=..,H=..,K=../{fwd,dx,dw}/<algo> times each pass
// on its own, for every kernel choice named in GRADLAB_BENCH_CONV_ALGOS
// (comma-separated ConvAlgo names, e.g. "tiled,gemm32x256"; default
// "naive,tiled"), back to back per layer and pass so that their ratios are
// measured under the same conditions. GFLOP/s counts 2*N*K*C*9*H*W per pass.
func BenchmarkConvPass(b *testing.B) {
	d := device(b)
	n := convBenchBatch(b)
	algos := convBenchAlgos(b)
	for _, l := range convBenchLayers {
		for _, pass := range []string{"fwd", "dx", "dw"} {
			for _, algo := range algos {
				b.Run(fmt.Sprintf("N=%d,C=%d,H=%d,K=%d/%s/%s", n, l[0], l[1], l[2], pass, algo), func(b *testing.B) {
					benchConvPass(b, d, algo, n, l[0], l[1], l[2], pass)
				})
			}
		}
	}
}

func convBenchAlgos(b *testing.B) []ConvAlgo {
	s := os.Getenv("GRADLAB_BENCH_CONV_ALGOS")
	if s == "" {
		return []ConvAlgo{ConvNaive, ConvTiled}
	}
	var out []ConvAlgo
	for _, name := range strings.Split(s, ",") {
		found := false
		for a := ConvTiled; a.check("") == nil; a++ {
			if a.String() == name {
				out, found = append(out, a), true
				break
			}
		}
		if !found {
			b.Fatalf("GRADLAB_BENCH_CONV_ALGOS: unknown kernel choice %q", name)
		}
	}
	return out
}

func benchConvPass(b *testing.B, d *Device, algo ConvAlgo, n, c, h, k int, pass string) {
	p := nn.ConvParam{Stride: 1, Pad: 1}
	r := rand.New(rand.NewPCG(9, 9))
	x := upload(b, d, randF32(r, n*c*h*h), n, c, h, h)
	w := upload(b, d, randF32(r, k*c*9), k, c, 3, 3)
	dout := upload(b, d, randF32(r, n*k*h*h), n, k, h, h)
	defer release(x, w, dout)
	step := func() {
		var y *Tensor
		var err error
		switch pass {
		case "fwd":
			y, err = d.ConvForwardWith(algo, x, w, nil, p)
		case "dx":
			y, err = d.ConvBackwardDataWith(algo, dout, w, x.Shape(), p)
		default:
			y, err = d.ConvBackwardWeightsWith(algo, dout, x, w.Shape(), p)
		}
		if err != nil {
			b.Fatal(err)
		}
		y.Release()
		if err := d.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(2*float64(n*k*c*9*h*h)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// convBenchLayers are the reference CNN's conv layers as (C, H, K): input
// channels, input height = width, filters.
var convBenchLayers = [][3]int{{3, 32, 32}, {32, 32, 32}, {32, 16, 64}, {64, 16, 64}, {64, 8, 128}}

func convBenchBatch(b *testing.B) int {
	if s := os.Getenv("GRADLAB_BENCH_CONV_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("GRADLAB_BENCH_CONV_N=%q: want a positive integer", s)
		}
		return n
	}
	if os.Getenv("GRADLAB_BENCH_FULL") == "1" {
		return 128
	}
	return 8
}

func benchConv(b *testing.B, backward bool) {
	d := device(b)
	n := convBenchBatch(b)
	for _, l := range convBenchLayers {
		for _, algo := range []ConvAlgo{ConvNaive, ConvTiled} {
			b.Run(fmt.Sprintf("N=%d,C=%d,H=%d,K=%d/%s", n, l[0], l[1], l[2], algo), func(b *testing.B) {
				benchConvLayer(b, d, algo, n, l[0], l[1], l[2], backward)
			})
		}
	}
}

func benchConvLayer(b *testing.B, d *Device, algo ConvAlgo, n, c, h, k int, backward bool) {
	p := nn.ConvParam{Stride: 1, Pad: 1}
	r := rand.New(rand.NewPCG(9, 9))
	x := upload(b, d, randF32(r, n*c*h*h), n, c, h, h)
	w := upload(b, d, randF32(r, k*c*9), k, c, 3, 3)
	dout := upload(b, d, randF32(r, n*k*h*h), n, k, h, h)
	defer release(x, w, dout)
	step := func() {
		out, err := d.ConvForwardWith(algo, x, w, nil, p)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
		if backward {
			dx, dw, _, err := d.ConvBackwardWith(algo, dout, x, w, p, false)
			if err != nil {
				b.Fatal(err)
			}
			release(dx, dw)
		}
		if err := d.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	// Warm-up: pipeline compilation and pool allocation stay out of the
	// timing.
	step()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	flops := 2 * float64(n*k*c*9*h*h)
	if backward {
		flops *= 3
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
