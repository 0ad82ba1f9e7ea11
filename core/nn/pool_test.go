package nn

import (
	"math"
	"testing"

	"gradlab/core/tensor"
)

// The course notebook's max-pool forward check: x = linspace(-0.3, 0.4) over
// (2,3,4,4), 2x2 pool, stride 2. want is the notebook's printed correct_out
// (8 decimals; each value is the bottom-right element of its window, since x
// increases along every row).
func TestMaxPoolForwardCourseExample(t *testing.T) {
	x := convLinspace(t, -0.3, 0.4, 2, 3, 4, 4)
	want, err := tensor.FromData([]float64{
		-0.26315789, -0.24842105, -0.20421053, -0.18947368,
		-0.14526316, -0.13052632, -0.08631579, -0.07157895,
		-0.02736842, -0.01263158, 0.03157895, 0.04631579,
		0.09052632, 0.10526316, 0.14947368, 0.16421053,
		0.20842105, 0.22315789, 0.26736842, 0.28210526,
		0.32631579, 0.34105263, 0.38526316, 0.4,
	}, 2, 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := MaxPoolForward(x, PoolParam{Height: 2, Width: 2, Stride: 2})
	if err != nil {
		t.Fatal(err)
	}
	convAssertClose(t, "max-pool vs course correct_out", out, want, 1e-7)
}

// The course's backward check: (10,3,8,7) input, 2x3 pool, stride 2, against
// centred differences with the course's h. A max-pool is linear near any
// input without ties, so the estimate is exact up to rounding.
func TestMaxPoolBackwardNumeric(t *testing.T) {
	for _, c := range []struct {
		name string
		x    []int
		p    PoolParam
	}{
		{"course 2x3 s2", []int{10, 3, 8, 7}, PoolParam{Height: 2, Width: 3, Stride: 2}},
		{"overlapping 3x3 s1", []int{2, 2, 6, 5}, PoolParam{Height: 3, Width: 3, Stride: 1}},
		{"3x2 s3 with leftovers", []int{3, 2, 8, 7}, PoolParam{Height: 3, Width: 2, Stride: 3}},
		{"whole image", []int{2, 3, 4, 5}, PoolParam{Height: 4, Width: 5, Stride: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := convRandn(t, 71, c.x...)
			out, cache, err := MaxPoolForward(x, c.p)
			if err != nil {
				t.Fatal(err)
			}
			dout := convRandn(t, 72, out.Shape...)
			dx, err := MaxPoolBackward(dout, cache)
			if err != nil {
				t.Fatal(err)
			}
			f := func() (*tensor.Tensor, error) {
				o, _, err := MaxPoolForward(x, c.p)
				return o, err
			}
			convAssertClose(t, "dx", dx, convNumeric(t, f, x, dout, 1e-5), 1e-8)
		})
	}
}

// Output size floors like the convolution's, and the max is what it says.
func TestMaxPoolShapesAndValues(t *testing.T) {
	x := convRandn(t, 73, 2, 3, 9, 7)
	p := PoolParam{Height: 2, Width: 3, Stride: 2}
	out, _, err := MaxPoolForward(x, p)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out.Shape, []int{2, 3, 4, 3}) {
		t.Fatalf("shape %v, want (2, 3, 4, 3)", out.Shape)
	}
	for nc := 0; nc < 6; nc++ {
		for i := 0; i < 4; i++ {
			for j := 0; j < 3; j++ {
				m := math.Inf(-1)
				for a := 0; a < 2; a++ {
					for b := 0; b < 3; b++ {
						m = math.Max(m, x.Data[(nc*9+2*i+a)*7+2*j+b])
					}
				}
				if got := out.Data[(nc*4+i)*3+j]; got != m {
					t.Fatalf("out[%d,%d,%d] = %v, want %v", nc, i, j, got, m)
				}
			}
		}
	}
}

// On ties the first maximum in row-major order takes all the gradient.
func TestMaxPoolTiesGoToFirst(t *testing.T) {
	x, _ := tensor.FromData([]float64{
		1, 5, 5, 0,
		5, 2, 3, 3,
		7, 7, 4, 4,
		7, 7, 4, 4,
	}, 1, 1, 4, 4)
	out, cache, err := MaxPoolForward(x, PoolParam{Height: 2, Width: 2, Stride: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{5, 5, 7, 4}; !convEqual(out.Data, want) {
		t.Fatalf("out = %v, want %v", out.Data, want)
	}
	dout, _ := tensor.FromData([]float64{1, 2, 3, 4}, 1, 1, 2, 2)
	dx, err := MaxPoolBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{
		0, 1, 2, 0,
		0, 0, 0, 0,
		3, 0, 4, 0,
		0, 0, 0, 0,
	}
	if !convEqual(dx.Data, want) {
		t.Fatalf("dx = %v, want %v", dx.Data, want)
	}
}

// With overlapping windows one element can win several and gets the sum.
func TestMaxPoolOverlapSums(t *testing.T) {
	x, _ := tensor.FromData([]float64{0, 9, 0}, 1, 1, 1, 3)
	_, cache, err := MaxPoolForward(x, PoolParam{Height: 1, Width: 2, Stride: 1})
	if err != nil {
		t.Fatal(err)
	}
	dout, _ := tensor.FromData([]float64{2, 3}, 1, 1, 1, 2)
	dx, err := MaxPoolBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0, 5, 0}; !convEqual(dx.Data, want) {
		t.Fatalf("dx = %v, want %v", dx.Data, want)
	}
}

func convEqual(a, b []float64) bool {
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

func TestMaxPoolBadInput(t *testing.T) {
	const op = "nn.MaxPoolForward"
	x := convRandn(t, 74, 2, 3, 4, 5)
	p := PoolParam{Height: 2, Width: 2, Stride: 2}
	_, _, err := MaxPoolForward(nil, p)
	convWantError(t, "nil x", err, op, "nil")
	x3, _ := x.Reshape(2, 3, 20)
	_, _, err = MaxPoolForward(x3, p)
	convWantError(t, "3-d x", err, op, "(2, 3, 20)", "4-d")
	_, _, err = MaxPoolForward(x, PoolParam{Height: 5, Width: 2, Stride: 1})
	convWantError(t, "window taller than input", err, op, "(2, 3, 4, 5)", "5x2 is larger than the 4x5 input")
	_, _, err = MaxPoolForward(x, PoolParam{Height: 2, Width: 6, Stride: 1})
	convWantError(t, "window wider than input", err, op, "larger than")
	_, _, err = MaxPoolForward(x, PoolParam{Height: 0, Width: 2, Stride: 1})
	convWantError(t, "empty window", err, op, "at least 1x1")
	_, _, err = MaxPoolForward(x, PoolParam{Height: 2, Width: 2, Stride: 0})
	convWantError(t, "stride 0", err, op, "stride")
	bad := x.Clone()
	bad.Data[7] = math.NaN()
	_, _, err = MaxPoolForward(bad, p)
	convWantError(t, "NaN x", err, op, "NaN")
	short := x.Clone()
	short.Data = short.Data[:5]
	_, _, err = MaxPoolForward(short, p)
	convWantError(t, "short data", err, op, "holds 5 values")

	const bop = "nn.MaxPoolBackward"
	_, cache, err := MaxPoolForward(x, p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = MaxPoolBackward(convRandn(t, 75, 2, 3, 2, 2), nil)
	convWantError(t, "nil cache", err, bop, "cache is nil")
	_, err = MaxPoolBackward(nil, cache)
	convWantError(t, "nil dout", err, bop, "dout is nil")
	_, err = MaxPoolBackward(convRandn(t, 76, 2, 3, 2, 3), cache)
	convWantError(t, "dout shape", err, bop, "(2, 3, 2, 3)", "(2, 3, 2, 2)")
	nan := convRandn(t, 77, 2, 3, 2, 2)
	nan.Data[0] = math.Inf(1)
	_, err = MaxPoolBackward(nan, cache)
	convWantError(t, "Inf dout", err, bop, "NaN or Inf")
}
