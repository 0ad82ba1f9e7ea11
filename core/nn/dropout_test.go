package nn

import (
	"fmt"
	"math"
	"testing"

	"gradlab/core/tensor"
)

// The notebook's forward check: x = randn(500, 500) + 10. In train mode the
// output's mean matches the input's (that is what the 1/(1-P) is for) and a
// fraction P of the units is zeroed; every survivor is exactly x/(1-P).
// Tolerances are six standard deviations of the quantity measured.
func TestDropoutForwardStatistics(t *testing.T) {
	r := tensor.NewRand(30)
	x := denseRandn(t, r, 500, 500).AddScalar(10)
	size := float64(len(x.Data))
	inMean, sumSq := 0.0, 0.0
	for _, v := range x.Data {
		inMean += v
		sumSq += v * v
	}
	inMean /= size
	for _, p := range []float64{0.3, 0.6, 0.75} {
		param := DropoutParam{P: p, Mode: Train, Seed: 123, Step: 4, Layer: 1}
		out, _, err := DropoutForward(x, param)
		if err != nil {
			t.Fatal(err)
		}
		outMean, zeroed := 0.0, 0
		for i, v := range out.Data {
			outMean += v
			switch {
			case v == 0:
				zeroed++
			case v != x.Data[i]*(1/(1-p)):
				t.Fatalf("p %v: out[%d] = %v is neither 0 nor x/(1-p) = %v", p, i, v, x.Data[i]/(1-p))
			}
		}
		outMean /= size
		// Var of one output given x is x²·p/(1-p); averaged over all units.
		meanTol := 6 * math.Sqrt(sumSq/size*p/(1-p)/size)
		if math.Abs(outMean-inMean) > meanTol {
			t.Errorf("p %v: output mean %v, input mean %v (tolerance %.3g)", p, outMean, inMean, meanTol)
		}
		frac := float64(zeroed) / size
		if fracTol := 6 * math.Sqrt(p*(1-p)/size); math.Abs(frac-p) > fracTol {
			t.Errorf("p %v: fraction zeroed %v (tolerance %.3g)", p, frac, fracTol)
		}
		t.Logf("p %v: output mean %.4f (input %.4f), zeroed %.4f", p, outMean, inMean, frac)

		param.Mode = Test
		out, _, err = DropoutForward(x, param)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range out.Data {
			if v != x.Data[i] {
				t.Fatalf("p %v: test mode changed element %d: %v -> %v", p, i, x.Data[i], v)
			}
		}
	}
}

// The notebook's backward check: 10x10, x = randn + 10, P = 0.8. The mask
// is a function of (Seed, Step, Layer, index) alone, so every forward call
// gradcheck makes draws the same mask and the numerical gradient is that of
// one fixed masked function, as the course gets by re-seeding NumPy.
func TestDropoutBackwardNumerical(t *testing.T) {
	r := tensor.NewRand(31)
	x := denseRandn(t, r, 10, 10).AddScalar(10)
	dout := denseRandn(t, r, 10, 10)
	param := DropoutParam{P: 0.8, Mode: Train, Seed: 9, Step: 2, Layer: 3}
	_, cache, err := DropoutForward(x, param)
	if err != nil {
		t.Fatal(err)
	}
	dx, err := DropoutBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) { out, _, err := DropoutForward(x, param); return out, err }
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-10)

	param.Mode = Test
	_, cache, err = DropoutForward(x, param)
	if err != nil {
		t.Fatal(err)
	}
	dx, err = DropoutBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dx.Data {
		if dx.Data[i] != dout.Data[i] {
			t.Fatalf("test mode backward changed element %d", i)
		}
	}
}

// A mask is fixed by (Seed, Step, Layer): the same triple gives the same
// mask, and changing any one of them gives a different one. The forward's
// zero pattern is exactly DropoutKeepMask, which the GPU tests compare with.
func TestDropoutMaskKeying(t *testing.T) {
	const size = 1000
	base := DropoutParam{P: 0.5, Mode: Train, Seed: 77, Step: 5, Layer: 2}
	mask := func(p DropoutParam) []bool {
		t.Helper()
		m, err := DropoutKeepMask(p, size)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	same := func(a, b []bool) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	m0 := mask(base)
	if !same(m0, mask(base)) {
		t.Fatal("the same (seed, step, layer) drew two different masks")
	}
	nextStep, otherLayer, otherSeed := base, base, base
	nextStep.Step++
	otherLayer.Layer++
	otherSeed.Seed++
	for name, p := range map[string]DropoutParam{"step": nextStep, "layer": otherLayer, "seed": otherSeed} {
		if same(m0, mask(p)) {
			t.Errorf("changing the %s left the mask unchanged", name)
		}
	}

	x := mustFull(t, 1, 10, 100)
	out, _, err := DropoutForward(x, base)
	if err != nil {
		t.Fatal(err)
	}
	for i, keep := range m0 {
		if keep != (out.Data[i] != 0) {
			t.Fatalf("element %d: DropoutKeepMask says keep=%v, forward gave %v", i, keep, out.Data[i])
		}
	}
}

// P = 0 drops nothing and scales by 1: train mode is then the identity too.
func TestDropoutPZero(t *testing.T) {
	x := denseRandn(t, tensor.NewRand(32), 20, 20)
	out, _, err := DropoutForward(x, DropoutParam{P: 0, Mode: Train, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		if out.Data[i] != x.Data[i] {
			t.Fatalf("P = 0 changed element %d", i)
		}
	}
}

// Spatial dropout keeps or drops each (n, c) feature map whole, by the draw
// at index n*C + c, and drops about a fraction P of the maps.
func TestSpatialDropoutForward(t *testing.T) {
	const n, c, h, w, p = 40, 30, 4, 5, 0.4
	x := denseRandn(t, tensor.NewRand(33), n, c, h, w).AddScalar(10)
	param := DropoutParam{P: p, Mode: Train, Seed: 5, Step: 1, Layer: 4}
	out, _, err := SpatialDropoutForward(x, param)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := DropoutKeepMask(param, n*c)
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for nc := 0; nc < n*c; nc++ {
		if !keep[nc] {
			dropped++
		}
		for k := nc * h * w; k < (nc+1)*h*w; k++ {
			want := 0.0
			if keep[nc] {
				want = x.Data[k] * (1 / (1 - p))
			}
			if out.Data[k] != want {
				t.Fatalf("map %d (keep %v): element %d is %v, want %v", nc, keep[nc], k, out.Data[k], want)
			}
		}
	}
	frac := float64(dropped) / (n * c)
	if tol := 6 * math.Sqrt(p*(1-p)/(n*c)); math.Abs(frac-p) > tol {
		t.Errorf("fraction of maps dropped %v, want %v within %.3g", frac, p, tol)
	}

	param.Mode = Test
	out, _, err = SpatialDropoutForward(x, param)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		if out.Data[i] != x.Data[i] {
			t.Fatalf("test mode changed element %d", i)
		}
	}
}

func TestSpatialDropoutBackwardNumerical(t *testing.T) {
	r := tensor.NewRand(34)
	x := denseRandn(t, r, 2, 3, 4, 5).AddScalar(10)
	dout := denseRandn(t, r, 2, 3, 4, 5)
	param := DropoutParam{P: 0.5, Mode: Train, Seed: 11, Step: 7}
	_, cache, err := SpatialDropoutForward(x, param)
	if err != nil {
		t.Fatal(err)
	}
	dx, err := SpatialDropoutBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	f := func() (*tensor.Tensor, error) { out, _, err := SpatialDropoutForward(x, param); return out, err }
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-10)
}

func TestDropoutBadInput(t *testing.T) {
	r := tensor.NewRand(35)
	x := denseRandn(t, r, 2, 3, 2, 2)
	good := DropoutParam{P: 0.5, Mode: Train, Seed: 1}
	type fwd func(*tensor.Tensor, DropoutParam) error
	layers := []struct {
		op string
		f  fwd
	}{
		{"nn.DropoutForward", func(x *tensor.Tensor, p DropoutParam) error { _, _, err := DropoutForward(x, p); return err }},
		{"nn.SpatialDropoutForward", func(x *tensor.Tensor, p DropoutParam) error { _, _, err := SpatialDropoutForward(x, p); return err }},
	}
	for _, l := range layers {
		for _, bad := range []float64{-0.1, 1, 1.5, math.NaN()} {
			p := good
			p.P = bad
			denseWantErr(t, fmt.Sprintf("%s with P %v", l.op, bad), l.f(x, p), l.op)
		}
		p := good
		p.Mode = 5
		denseWantErr(t, l.op+" with an unknown mode", l.f(x, p), l.op)
		denseWantErr(t, l.op+" with nil x", l.f(nil, good), l.op)
		denseWantErr(t, l.op+" with NaN in x", l.f(denseWithNaN(x, math.NaN()), good), l.op)
		denseWantErr(t, l.op+" with zero-size x", l.f(&tensor.Tensor{Shape: []int{2, 0, 2, 2}}, good), l.op)
	}
	denseWantErr(t, "2-d x", layers[1].f(denseRandn(t, r, 4, 3), good), layers[1].op)

	_, err := DropoutKeepMask(good, 0)
	denseWantErr(t, "mask of size 0", err, "nn.DropoutKeepMask")
	bad := good
	bad.P = 1
	_, err = DropoutKeepMask(bad, 10)
	denseWantErr(t, "mask with P 1", err, "nn.DropoutKeepMask")

	_, dc, err := DropoutForward(x, good)
	if err != nil {
		t.Fatal(err)
	}
	_, err = DropoutBackward(x, nil)
	denseWantErr(t, "nil cache", err, "nn.DropoutBackward")
	_, err = DropoutBackward(denseRandn(t, r, 2, 3, 2, 3), dc)
	denseWantErr(t, "dout shape differs from x", err, "nn.DropoutBackward")
	_, err = DropoutBackward(denseWithNaN(x, math.NaN()), dc)
	denseWantErr(t, "NaN in dout", err, "nn.DropoutBackward")

	_, sc, err := SpatialDropoutForward(x, good)
	if err != nil {
		t.Fatal(err)
	}
	_, err = SpatialDropoutBackward(x, nil)
	denseWantErr(t, "nil spatial cache", err, "nn.SpatialDropoutBackward")
	_, err = SpatialDropoutBackward(denseRandn(t, r, 2, 3, 2, 3), sc)
	denseWantErr(t, "spatial dout shape differs from x", err, "nn.SpatialDropoutBackward")
	_, err = SpatialDropoutBackward(nil, sc)
	denseWantErr(t, "nil spatial dout", err, "nn.SpatialDropoutBackward")
}
