package nn

import (
	"testing"

	"gradlab/core/tensor"
)

// The benchmark layer: (N, C, H, W, F) = (50, 3, 32, 32, 32), 3x3
// kernels, stride 1, pad 1. Compare Naive and Fast from the same run, e.g.
//
//	go test ./core/nn -run '^$' -bench 'Conv(Forward|Backward)' -benchtime 10x
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
