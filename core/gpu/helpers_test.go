package gpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// u is the f32 unit roundoff, 2^-24.
const u = 1.0 / (1 << 24)

// randF32 returns n values in [-2, 2), exactly representable in f32, so the
// float64 references below see the very inputs the GPU sees.
func randF32(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.Float64()*4 - 2)
	}
	return out
}

func upload(t testing.TB, d *Device, data []float32, shape ...int) *Tensor {
	t.Helper()
	x, err := d.UploadF32(data, shape...)
	if err != nil {
		t.Fatalf("UploadF32 %v: %v", shape, err)
	}
	return x
}

func read(t testing.TB, x *Tensor) []float32 {
	t.Helper()
	v, err := x.ReadF32()
	if err != nil {
		t.Fatalf("ReadF32: %v", err)
	}
	return v
}

func release(ts ...*Tensor) {
	for _, t := range ts {
		t.Release()
	}
}

func shapeEq(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkBound asserts |got[i] - want[i]| <= bound[i] for every element and
// reports the worst ratio, so a failure shows how far off it is.
func checkBound(t *testing.T, what string, got []float32, want, bound []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		diff := math.Abs(float64(got[i]) - want[i])
		if !(diff <= bound[i]) {
			t.Fatalf("%s: element %d = %v, want %v (|diff| %.3g > bound %.3g)", what, i, got[i], want[i], diff, bound[i])
		}
	}
}
