package nn

import (
	"testing"
	"time"

	"gradlab/core/tensor"
)

// The benchmark layer: (N, C, H, W, F) = (50, 3, 32, 32, 32), 3x3
// kernels, stride 1, pad 1. Compare Naive and Fast from the same run, e.g.
//
//	go test ./core/nn -run '^$' -bench 'Conv(Forward|Backward|Speedup)' -benchtime 10x
//
// BenchmarkConvSpeedup reports the ratio directly; it alternates the two
// paths inside each iteration, so load from other processes on a shared
// machine slows both alike instead of whichever ran at the time.
func convBenchInputs(b *testing.B) (x, w, bias, dout *tensor.Tensor, p ConvParam) {
	x = convRandn(b, 1, 50, 3, 32, 32)
	w = convRandn(b, 2, 32, 3, 3, 3)
	bias = convRandn(b, 3, 32)
	dout = convRandn(b, 4, 50, 32, 32, 32)
	return x, w, bias, dout, ConvParam{Stride: 1, Pad: 1}
}

func benchConvForward(b *testing.B, fwd convForwardFunc) {
	x, w, bias, _, p := convBenchInputs(b)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := fwd(x, w, bias, p); err != nil {
			b.Fatal(err)
		}
	}
}

func benchConvBackward(b *testing.B, fwd convForwardFunc, bwd convBackwardFunc) {
	x, w, bias, dout, p := convBenchInputs(b)
	_, cache, err := fwd(x, w, bias, p)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, _, err := bwd(dout, cache); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvForwardNaive(b *testing.B) { benchConvForward(b, ConvForwardNaive) }
func BenchmarkConvForwardFast(b *testing.B)  { benchConvForward(b, ConvForwardFast) }
func BenchmarkConvBackwardNaive(b *testing.B) {
	benchConvBackward(b, ConvForwardNaive, ConvBackwardNaive)
}
func BenchmarkConvBackwardFast(b *testing.B) {
	benchConvBackward(b, ConvForwardFast, ConvBackwardFast)
}

func BenchmarkConvSpeedup(b *testing.B) {
	b.Run("forward", func(b *testing.B) {
		x, w, bias, _, p := convBenchInputs(b)
		var naive, fast time.Duration
		for b.Loop() {
			t0 := time.Now()
			_, _, err1 := ConvForwardNaive(x, w, bias, p)
			t1 := time.Now()
			_, _, err2 := ConvForwardFast(x, w, bias, p)
			naive, fast = naive+t1.Sub(t0), fast+time.Since(t1)
			if err1 != nil || err2 != nil {
				b.Fatal(err1, err2)
			}
		}
		b.ReportMetric(float64(naive)/float64(fast), "naive/fast")
	})
	b.Run("backward", func(b *testing.B) {
		x, w, bias, dout, p := convBenchInputs(b)
		_, cache, err := ConvForwardNaive(x, w, bias, p)
		if err != nil {
			b.Fatal(err)
		}
		var naive, fast time.Duration
		for b.Loop() {
			t0 := time.Now()
			_, _, _, err1 := ConvBackwardNaive(dout, cache)
			t1 := time.Now()
			_, _, _, err2 := ConvBackwardFast(dout, cache)
			naive, fast = naive+t1.Sub(t0), fast+time.Since(t1)
			if err1 != nil || err2 != nil {
				b.Fatal(err1, err2)
			}
		}
		b.ReportMetric(float64(naive)/float64(fast), "naive/fast")
	})
}
