package nn

import (
	"fmt"
	"math"
	"testing"

	"gradlab/core/tensor"
)

type convForwardFunc func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *ConvCache, error)
type convBackwardFunc func(dout *tensor.Tensor, c *ConvCache) (dx, dw, db *tensor.Tensor, err error)

var convImpls = []struct {
	name     string
	forward  convForwardFunc
	backward convBackwardFunc
}{
	{"Naive", ConvForwardNaive, ConvBackwardNaive},
	{"Fast", ConvForwardFast, ConvBackwardFast},
}

// The course notebook's conv forward check. x, w and b are its linspace
// inputs; want is the notebook's printed correct_out (8 decimals), an
// independent source, so the notebook's own ~1e-8 threshold applies with room
// for that rounding.
func TestConvForwardCourseExample(t *testing.T) {
	x := convLinspace(t, -0.1, 0.5, 2, 3, 4, 4)
	w := convLinspace(t, -0.2, 0.3, 3, 3, 4, 4)
	b := convLinspace(t, -0.1, 0.2, 3)
	want, err := tensor.FromData([]float64{
		-0.08759809, -0.10987781, -0.18387192, -0.21092160,
		0.21027089, 0.21661097, 0.22847626, 0.23004637,
		0.50813986, 0.54309974, 0.64082444, 0.67101435,
		-0.98053589, -1.03143541, -1.19128892, -1.24695841,
		0.69108355, 0.66880383, 0.59480972, 0.56776003,
		2.36270298, 2.36904306, 2.38090835, 2.38247847,
	}, 2, 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := ConvParam{Stride: 2, Pad: 1}
	for _, impl := range convImpls {
		out, _, err := impl.forward(x, w, b, p)
		if err != nil {
			t.Fatal(err)
		}
		convAssertClose(t, impl.name+" vs course correct_out", out, want, 1e-7)
	}
	convAssertClose(t, "test reference vs course correct_out", convReference(x, w, b, p), want, 1e-7)
}

// The course's conv backward check: x (10,3,5,5), w (16,3,3,3), stride 1,
// pad 1, every gradient against centred differences.
//
// The step is convExactH, not the course's 1e-5: a convolution is linear in x
// and in w (affine in b), so a centred difference has no truncation error at
// any step, and a large step removes the rounding noise eps*|out|/h that at
// 1e-5 is about 2e-10 absolute. With randn inputs some dx entries are ~1e-3,
// which that noise alone pushes to a rel error of ~4e-8 (seed 1 here), above
// the notebook's 1e-8, with no error in the analytic gradient.
func TestConvBackwardNumeric(t *testing.T) {
	x := convRandn(t, 1, 10, 3, 5, 5)
	w := convRandn(t, 2, 16, 3, 3, 3)
	b := convRandn(t, 3, 16)
	dout := convRandn(t, 4, 10, 16, 5, 5)
	p := ConvParam{Stride: 1, Pad: 1}
	for _, impl := range convImpls {
		t.Run(impl.name, func(t *testing.T) {
			convCheckGrads(t, impl.forward, impl.backward, x, w, b, dout, p, convExactH, 1e-8)
		})
	}
}

// Grouped convolutions are checked numerically too: the naive/fast
// comparison alone could not catch a mistake both share.
func TestConvBackwardNumericGroups(t *testing.T) {
	x := convRandn(t, 5, 2, 4, 5, 6)
	w := convRandn(t, 6, 6, 2, 3, 2)
	b := convRandn(t, 7, 6)
	p := ConvParam{Stride: 2, Pad: 1, Groups: 2}
	for _, impl := range convImpls {
		t.Run(impl.name, func(t *testing.T) {
			out, _, err := impl.forward(x, w, b, p)
			if err != nil {
				t.Fatal(err)
			}
			convAssertClose(t, "forward vs reference", out, convReference(x, w, b, p), 1e-12)
			dout := convRandn(t, 8, out.Shape...)
			convCheckGrads(t, impl.forward, impl.backward, x, w, b, dout, p, convExactH, 1e-8)
		})
	}
}

// convExactH is the finite-difference step for maps that are linear in the
// nudged tensor, where any step is exact up to rounding (see above).
const convExactH = 1.0

// convCheckGrads compares dx, dw and db (when b is not nil) from backward
// with centred differences of forward with step h.
func convCheckGrads(t *testing.T, fwd convForwardFunc, bwd convBackwardFunc, x, w, b, dout *tensor.Tensor, p ConvParam, h, tol float64) {
	t.Helper()
	f := func() (*tensor.Tensor, error) {
		out, _, err := fwd(x, w, b, p)
		return out, err
	}
	_, cache, err := fwd(x, w, b, p)
	if err != nil {
		t.Fatal(err)
	}
	dx, dw, db, err := bwd(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	convAssertClose(t, "dx", dx, convNumeric(t, f, x, dout, h), tol)
	convAssertClose(t, "dw", dw, convNumeric(t, f, w, dout, h), tol)
	if b == nil {
		if db != nil {
			t.Errorf("db = %v without a bias, want nil", db.Shape)
		}
		return
	}
	convAssertClose(t, "db", db, convNumeric(t, f, b, dout, h), tol)
}

// convShapes covers the cases where index arithmetic usually goes wrong.
var convShapes = []struct {
	x, w    []int
	p       ConvParam
	hasBias bool
}{
	{[]int{1, 1, 1, 1}, []int{1, 1, 1, 1}, ConvParam{Stride: 1}, true},
	{[]int{1, 3, 7, 5}, []int{4, 3, 3, 3}, ConvParam{Stride: 1, Pad: 1}, true},
	{[]int{2, 5, 9, 9}, []int{3, 5, 3, 3}, ConvParam{Stride: 2, Pad: 0}, true},
	{[]int{3, 2, 10, 11}, []int{5, 2, 3, 3}, ConvParam{Stride: 3, Pad: 1}, false},
	{[]int{2, 3, 6, 6}, []int{2, 3, 5, 5}, ConvParam{Stride: 1, Pad: 2}, true},
	{[]int{2, 7, 5, 8}, []int{6, 7, 1, 1}, ConvParam{Stride: 1}, true},
	{[]int{2, 7, 5, 8}, []int{6, 7, 1, 1}, ConvParam{Stride: 2, Pad: 1}, true},
	{[]int{1, 3, 8, 6}, []int{4, 3, 2, 3}, ConvParam{Stride: 1, Pad: 1}, true},
	{[]int{2, 3, 9, 7}, []int{4, 3, 3, 1}, ConvParam{Stride: 2, Pad: 0}, false},
	{[]int{2, 1, 4, 4}, []int{3, 1, 4, 4}, ConvParam{Stride: 1, Pad: 0}, true},
	{[]int{2, 3, 3, 3}, []int{2, 3, 5, 5}, ConvParam{Stride: 1, Pad: 1}, true},
	{[]int{1, 2, 5, 5}, []int{2, 2, 3, 3}, ConvParam{Stride: 2, Pad: 2}, true},
	{[]int{2, 3, 7, 7}, []int{2, 3, 3, 3}, ConvParam{Stride: 4, Pad: 0}, true},
	{[]int{2, 3, 8, 8}, []int{2, 3, 2, 2}, ConvParam{Stride: 3, Pad: 2}, true},
	{[]int{2, 4, 6, 7}, []int{4, 2, 3, 3}, ConvParam{Stride: 1, Pad: 1, Groups: 2}, true},
	{[]int{2, 6, 7, 5}, []int{9, 2, 3, 2}, ConvParam{Stride: 2, Pad: 1, Groups: 3}, false},
	{[]int{3, 5, 6, 6}, []int{5, 1, 3, 3}, ConvParam{Stride: 1, Pad: 1, Groups: 5}, true},
	{[]int{2, 4, 9, 9}, []int{8, 1, 5, 5}, ConvParam{Stride: 2, Pad: 2, Groups: 4}, true},
	{[]int{1, 3, 11, 4}, []int{3, 1, 3, 3}, ConvParam{Stride: 3, Pad: 0, Groups: 3}, true},
	{[]int{5, 6, 4, 4}, []int{6, 1, 1, 1}, ConvParam{Stride: 1, Pad: 0, Groups: 6}, true},
	{[]int{4, 3, 12, 10}, []int{16, 3, 3, 3}, ConvParam{Stride: 1, Pad: 1, Groups: 1}, true},
}

// The fast path must agree with the naive oracle, and both with the padded
// reference, on forward and backward over varied shapes.
func TestConvFastMatchesNaive(t *testing.T) {
	for i, s := range convShapes {
		t.Run(fmt.Sprintf("%v*%v/s%dp%dg%d", s.x, s.w, s.p.Stride, s.p.Pad, s.p.Groups), func(t *testing.T) {
			x := convRandn(t, uint64(100+i), s.x...)
			w := convRandn(t, uint64(200+i), s.w...)
			var b *tensor.Tensor
			if s.hasBias {
				b = convRandn(t, uint64(300+i), s.w[0])
			}
			outN, cacheN, err := ConvForwardNaive(x, w, b, s.p)
			if err != nil {
				t.Fatal(err)
			}
			outF, cacheF, err := ConvForwardFast(x, w, b, s.p)
			if err != nil {
				t.Fatal(err)
			}
			convAssertClose(t, "naive vs reference", outN, convReference(x, w, b, s.p), 1e-10)
			convAssertClose(t, "fast vs naive", outF, outN, 1e-10)
			dout := convRandn(t, uint64(400+i), outN.Shape...)
			dxN, dwN, dbN, err := ConvBackwardNaive(dout, cacheN)
			if err != nil {
				t.Fatal(err)
			}
			dxF, dwF, dbF, err := ConvBackwardFast(dout, cacheF)
			if err != nil {
				t.Fatal(err)
			}
			convAssertClose(t, "dx fast vs naive", dxF, dxN, 1e-10)
			convAssertClose(t, "dw fast vs naive", dwF, dwN, 1e-10)
			if s.hasBias {
				convAssertClose(t, "db fast vs naive", dbF, dbN, 1e-10)
			} else if dbN != nil || dbF != nil {
				t.Error("db must be nil without a bias")
			}
		})
	}
}

// One of the shapes, checked numerically as well, so the comparison above
// rests on an oracle that is itself verified at an odd size and stride.
func TestConvBackwardNumericStride3(t *testing.T) {
	x := convRandn(t, 11, 2, 3, 10, 11)
	w := convRandn(t, 12, 4, 3, 3, 2)
	b := convRandn(t, 13, 4)
	p := ConvParam{Stride: 3, Pad: 1}
	out, _, err := ConvForwardNaive(x, w, b, p)
	if err != nil {
		t.Fatal(err)
	}
	dout := convRandn(t, 14, out.Shape...)
	convCheckGrads(t, ConvForwardNaive, ConvBackwardNaive, x, w, b, dout, p, convExactH, 1e-8)
}

// Unlike the course, a stride that does not divide evenly floors (as
// PyTorch does): H=6, HH=3, pad 0, stride 2 gives 1 + 3/2 = 2 rows, and the
// last input row is never read, so its gradient is zero.
func TestConvOutputSizeFloors(t *testing.T) {
	if got, err := ConvOutSize(6, 3, 2, 0); err != nil || got != 2 {
		t.Fatalf("ConvOutSize(6, 3, 2, 0) = %d, %v; want 2", got, err)
	}
	if got, err := ConvOutSize(32, 3, 1, 1); err != nil || got != 32 {
		t.Fatalf("ConvOutSize(32, 3, 1, 1) = %d, %v; want 32", got, err)
	}
	for _, c := range [][4]int{{2, 5, 1, 1}, {0, 1, 1, 0}, {3, 3, 0, 0}, {3, 3, 1, -1}} {
		_, err := ConvOutSize(c[0], c[1], c[2], c[3])
		convWantError(t, fmt.Sprint("ConvOutSize", c), err, "nn.ConvOutSize")
	}
	x := convRandn(t, 21, 1, 1, 6, 6)
	w := convRandn(t, 22, 1, 1, 3, 3)
	for _, impl := range convImpls {
		out, cache, err := impl.forward(x, w, nil, ConvParam{Stride: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(out.Shape, []int{1, 1, 2, 2}) {
			t.Fatalf("%s: shape %v, want (1, 1, 2, 2)", impl.name, out.Shape)
		}
		dx, _, _, err := impl.backward(convRandn(t, 23, 1, 1, 2, 2), cache)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 6; j++ {
			if dx.Data[5*6+j] != 0 || dx.Data[j*6+5] != 0 {
				t.Fatalf("%s: the unread last row/column got gradient", impl.name)
			}
		}
	}
}

// The cache holds copies: changing x and w after forward must not change the
// gradients (gradient checks and optimisers both write into them).
func TestConvCacheOwnsInputs(t *testing.T) {
	x := convRandn(t, 31, 2, 3, 5, 5)
	w := convRandn(t, 32, 4, 3, 3, 3)
	dout := convRandn(t, 33, 2, 4, 5, 5)
	p := ConvParam{Stride: 1, Pad: 1}
	for _, impl := range convImpls {
		_, c1, _ := impl.forward(x, w, nil, p)
		dx1, dw1, _, _ := impl.backward(dout, c1)
		xs, ws := x.Clone(), w.Clone()
		_, c2, _ := impl.forward(x, w, nil, p)
		x.Scale(3)
		w.AddScalar(1)
		dx2, dw2, _, err := impl.backward(dout, c2)
		if err != nil {
			t.Fatal(err)
		}
		convAssertClose(t, impl.name+" dx", dx2, dx1, 1e-15)
		convAssertClose(t, impl.name+" dw", dw2, dw1, 1e-15)
		x, w = xs, ws
	}
}

// Either backward accepts either forward's cache (they share the type).
func TestConvCachesInterchange(t *testing.T) {
	x := convRandn(t, 41, 2, 4, 6, 5)
	w := convRandn(t, 42, 6, 2, 3, 3)
	b := convRandn(t, 43, 6)
	p := ConvParam{Stride: 1, Pad: 1, Groups: 2}
	_, cN, _ := ConvForwardNaive(x, w, b, p)
	_, cF, _ := ConvForwardFast(x, w, b, p)
	dout := convRandn(t, 44, 2, 6, 6, 5)
	dx1, dw1, db1, err1 := ConvBackwardFast(dout, cN)
	dx2, dw2, db2, err2 := ConvBackwardNaive(dout, cF)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	convAssertClose(t, "dx", dx1, dx2, 1e-10)
	convAssertClose(t, "dw", dw1, dw2, 1e-10)
	convAssertClose(t, "db", db1, db2, 1e-10)
}

func TestConvBadInput(t *testing.T) {
	good := func() (x, w, b *tensor.Tensor) {
		return convRandn(t, 51, 2, 4, 5, 5), convRandn(t, 52, 6, 4, 3, 3), convRandn(t, 53, 6)
	}
	p := ConvParam{Stride: 1, Pad: 1}
	cases := []struct {
		name  string
		mod   func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam)
		wants []string
	}{
		{"nil x", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			return nil, w, b, p
		}, []string{"nil"}},
		{"nil w", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			return x, nil, b, p
		}, []string{"nil"}},
		{"3-d x", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			x, _ = x.Reshape(2, 4, 25)
			return x, w, b, p
		}, []string{"(2, 4, 25)", "x must be 4-d"}},
		{"2-d w", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			w, _ = w.Reshape(6, 36)
			return x, w, b, p
		}, []string{"(6, 36)", "w must be 4-d"}},
		{"channel mismatch", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			return x, convRandn(t, 54, 6, 3, 3, 3), b, p
		}, []string{"(2, 4, 5, 5)", "(6, 3, 3, 3)", "3 channels per filter"}},
		{"stride 0", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			p.Stride = 0
			return x, w, b, p
		}, []string{"stride"}},
		{"negative pad", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			p.Pad = -1
			return x, w, b, p
		}, []string{"pad"}},
		{"kernel bigger than padded input", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			return x, convRandn(t, 55, 6, 4, 8, 3), b, p
		}, []string{"bigger than the padded input 7x7"}},
		{"groups not dividing C", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			p.Groups = 3
			return x, convRandn(t, 56, 6, 1, 3, 3), b, p
		}, []string{"groups 3 must divide"}},
		{"groups not dividing F", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			p.Groups = 4
			return x, convRandn(t, 57, 6, 1, 3, 3), b, p
		}, []string{"groups 4 must divide"}},
		{"negative groups", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			p.Groups = -2
			return x, w, b, p
		}, []string{"groups"}},
		{"b wrong length", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			return x, w, convRandn(t, 58, 5), p
		}, []string{"(5,)", "b must have shape (6,)"}},
		{"b 2-d", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			b, _ = b.Reshape(2, 3)
			return x, w, b, p
		}, []string{"b must have shape (6,)"}},
		{"NaN in x", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			x.Data[17] = math.NaN()
			return x, w, b, p
		}, []string{"x contains NaN"}},
		{"Inf in w", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			w.Data[3] = math.Inf(-1)
			return x, w, b, p
		}, []string{"w contains NaN"}},
		{"NaN in b", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			b.Data[0] = math.NaN()
			return x, w, b, p
		}, []string{"b contains NaN"}},
		{"data shorter than shape", func(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, ConvParam) {
			x.Data = x.Data[:10]
			return x, w, b, p
		}, []string{"holds 10 values"}},
	}
	for _, impl := range convImpls {
		for _, c := range cases {
			x0, w0, b0 := good()
			x, w, b, pp := c.mod(x0, w0, b0, p)
			_, _, err := impl.forward(x, w, b, pp)
			convWantError(t, impl.name+": "+c.name, err, "nn.ConvForward"+impl.name, c.wants...)
		}
		// Backward: the cache and dout must belong together.
		x, w, b := good()
		_, cache, err := impl.forward(x, w, b, p)
		if err != nil {
			t.Fatal(err)
		}
		op := "nn.ConvBackward" + impl.name
		_, _, _, err = impl.backward(convRandn(t, 59, 2, 6, 5, 5), nil)
		convWantError(t, impl.name+": nil cache", err, op, "cache is nil")
		_, _, _, err = impl.backward(nil, cache)
		convWantError(t, impl.name+": nil dout", err, op, "dout is nil")
		_, _, _, err = impl.backward(convRandn(t, 60, 2, 6, 4, 5), cache)
		convWantError(t, impl.name+": dout shape", err, op, "(2, 6, 4, 5)", "(2, 6, 5, 5)")
		nan := convRandn(t, 61, 2, 6, 5, 5)
		nan.Data[4] = math.NaN()
		_, _, _, err = impl.backward(nan, cache)
		convWantError(t, impl.name+": NaN dout", err, op, "NaN")
	}
}

// The fast path's matrix product against a plain triple loop, at sizes that
// hit every edge: ragged rows and columns, k longer than one gemmKC block,
// transposed operands, pre-packed B, add and overwrite, and (on amd64) both
// the assembly and the Go kernel.
func TestConvGemm(t *testing.T) {
	kernels := []bool{false}
	if useFMA {
		kernels = append(kernels, true)
	}
	defer func(v bool) { useFMA = v }(useFMA)
	for _, fma := range kernels {
		useFMA = fma
		for i, sz := range [][3]int{{1, 1, 1}, {4, 8, 3}, {5, 9, 27}, {32, 1024, 27}, {27, 27, 600}, {13, 6, 257}, {3, 70, 32}} {
			m, n, k := sz[0], sz[1], sz[2]
			a := convRandn(t, uint64(500+i), m*k).Data
			b := convRandn(t, uint64(600+i), k*n).Data
			c0 := convRandn(t, uint64(700+i), m*n).Data
			// A is used transposed when ta: stored (k x m).
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, overwrite := range []bool{false, true} {
						ars, acs := k, 1
						if ta {
							ars, acs = 1, m
						}
						brs, bcs := n, 1
						if tb {
							brs, bcs = 1, k
						}
						want := make([]float64, m*n)
						mag := make([]float64, m*n) // sum of |terms|, for the error bound
						for r := 0; r < m; r++ {
							for q := 0; q < n; q++ {
								s, sa := 0.0, 0.0
								if !overwrite {
									s, sa = c0[r*n+q], math.Abs(c0[r*n+q])
								}
								for l := 0; l < k; l++ {
									s += a[r*ars+l*acs] * b[l*brs+q*bcs]
									sa += math.Abs(a[r*ars+l*acs] * b[l*brs+q*bcs])
								}
								want[r*n+q], mag[r*n+q] = s, sa
							}
						}
						var mm gemmScratch
						got := append([]float64(nil), c0...)
						mm.mulAdd(m, n, k, a, ars, acs, b, brs, bcs, got, n, overwrite)
						if e := convSumError(got, want, mag, k); e != "" {
							t.Errorf("fma=%v %v ta=%v tb=%v overwrite=%v: %s", fma, sz, ta, tb, overwrite, e)
						}
						if overwrite {
							continue
						}
						// The same B, packed by the caller in gemmNR-column strips.
						np := (n + gemmNR - 1) / gemmNR
						bp := make([]float64, np*k*gemmNR)
						for q := 0; q < n; q++ {
							for l := 0; l < k; l++ {
								bp[(q/gemmNR*k+l)*gemmNR+q%gemmNR] = b[l*brs+q*bcs]
							}
						}
						got = append(got[:0], c0...)
						mm.mulAddPackedB(m, n, k, a, ars, acs, bp, got, n)
						if e := convSumError(got, want, mag, k); e != "" {
							t.Errorf("packed fma=%v %v ta=%v tb=%v: %s", fma, sz, ta, tb, e)
						}
					}
				}
			}
		}
	}
}

// convSumError checks got against want within the textbook bound for two
// differently ordered sums of k+1 terms: each is within (k+1)*eps of the
// exact value times the sum of the terms' magnitudes. An element-wise rel
// error is the wrong yardstick here, since sums that cancel to nearly zero
// make it arbitrarily large; any indexing mistake still misses by O(1).
func convSumError(got, want, mag []float64, k int) string {
	for i := range want {
		bound := 2 * float64(k+1) * 0x1p-52 * mag[i]
		if d := math.Abs(got[i] - want[i]); !(d <= bound) {
			return fmt.Sprintf("element %d: got %v, want %v (bound %.3g)", i, got[i], want[i], bound)
		}
	}
	return ""
}

// allFinite must catch NaN and both infinities in every lane of its
// unrolled loop and in the tail.
func TestConvAllFinite(t *testing.T) {
	for n := 1; n <= 9; n++ {
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(i) - 3.5
		}
		if !allFinite(d) {
			t.Fatalf("finite slice of %d reported non-finite", n)
		}
		for i := 0; i < n; i++ {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				old := d[i]
				d[i] = bad
				if allFinite(d) {
					t.Errorf("len %d: %v at %d not caught", n, bad, i)
				}
				d[i] = old
			}
		}
	}
	if !allFinite([]float64{math.MaxFloat64, math.MaxFloat64}) {
		t.Error("large finite values reported non-finite")
	}
}
