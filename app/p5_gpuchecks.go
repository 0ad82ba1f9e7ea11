package app

import (
	"math"

	"gradlab/core/gpu"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// GPUError compares one output of a GPU kernel (f32) with the float64
// layer run on the same f32-rounded inputs. Each element i has an error
// bound b_i derived from f32 rounding (see the Tolerance texts); Ratio is
// max_i |gpu_i - ref_i| / b_i, so the check passes when Ratio <= 1.
type GPUError struct {
	Name    string
	Ratio   float64
	MaxDiff float64 // max |gpu - ref|
	Scale   float64 // max |ref|, to read MaxDiff against
}

// Pass reports whether every element is within its bound; NaN fails.
func (g GPUError) Pass() bool { return g.Ratio <= 1 }

// GPUResult is a layer's GPU check: its errors and the tolerance rule.
type GPUResult struct {
	Errors    []GPUError
	Tolerance string
}

type gpuCheck func(d *gpu.Device) (GPUResult, error)

// f32u is the unit roundoff of float32.
const f32u = 1.0 / (1 << 24)

// gammaN is Higham's gamma_n = n u / (1 - n u): a sum of n products in f32,
// in any order, is within gamma_n * sum |products| of the exact sum.
func gammaN(n int) float64 { return float64(n) * f32u / (1 - float64(n)*f32u) }

// round32 rounds every element to float32, so the reference sees exactly
// the numbers the GPU sees.
func round32(t *tensor.Tensor) *tensor.Tensor {
	c := t.Clone()
	for i, v := range c.Data {
		c.Data[i] = float64(float32(v))
	}
	return c
}

func absT(t *tensor.Tensor) *tensor.Tensor {
	c := t.Clone()
	for i, v := range c.Data {
		c.Data[i] = math.Abs(v)
	}
	return c
}

// compare reads got back and measures it against want with per-element
// bounds. A zero bound demands exact equality.
func compare(name string, got *gpu.Tensor, want *tensor.Tensor, bound []float64) (GPUError, error) {
	g, err := got.Read()
	if err != nil {
		return GPUError{}, err
	}
	if len(g.Data) != len(want.Data) || len(bound) != len(want.Data) {
		return GPUError{}, tensor.Errorf("app.compare "+name, [][]int{g.Shape, want.Shape}, "GPU and reference sizes differ")
	}
	e := GPUError{Name: name}
	for i, w := range want.Data {
		d := math.Abs(g.Data[i] - w)
		if math.IsNaN(d) {
			e.Ratio, e.MaxDiff = math.NaN(), math.NaN()
			return e, nil
		}
		e.MaxDiff = math.Max(e.MaxDiff, d)
		e.Scale = math.Max(e.Scale, math.Abs(w))
		switch {
		case d == 0:
		case bound[i] == 0:
			e.Ratio = math.Inf(1)
		default:
			e.Ratio = math.Max(e.Ratio, d/bound[i])
		}
	}
	return e, nil
}

// scaled returns k * |t| + c elementwise, a bound proportional to t.
func scaled(t *tensor.Tensor, k float64) []float64 {
	b := make([]float64, len(t.Data))
	for i, v := range t.Data {
		b[i] = k * math.Abs(v)
	}
	return b
}

// gpuSession uploads tensors and releases everything at the end.
type gpuSession struct {
	d    *gpu.Device
	held []*gpu.Tensor
	err  error
}

func (s *gpuSession) up(t *tensor.Tensor) *gpu.Tensor {
	if s.err != nil {
		return nil
	}
	g, err := s.d.Upload(t)
	if err != nil {
		s.err = err
		return nil
	}
	s.held = append(s.held, g)
	return g
}

func (s *gpuSession) keep(ts ...*gpu.Tensor) {
	for _, t := range ts {
		if t != nil {
			s.held = append(s.held, t)
		}
	}
}

func (s *gpuSession) release() {
	for _, t := range s.held {
		t.Release()
	}
}

// compareAll compares outputs in order and stops at the first error.
func compareAll(names []string, got []*gpu.Tensor, want []*tensor.Tensor, bounds [][]float64) ([]GPUError, error) {
	out := make([]GPUError, len(names))
	for i := range names {
		e, err := compare(names[i], got[i], want[i], bounds[i])
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// dotBound is the bound of an f32 result computed as a sum of k products:
// gamma_k times the same sum over absolute values (absRef), plus one
// rounding of the result for the final store.
func dotBound(k int, absRef, ref *tensor.Tensor) []float64 {
	b := make([]float64, len(ref.Data))
	for i := range b {
		b[i] = gammaN(k)*absRef.Data[i] + f32u*math.Abs(ref.Data[i])
	}
	return b
}

func gpuAffine(d *gpu.Device) (GPUResult, error) {
	in, err := randnAll(501, []int{10, 2, 3}, []int{6, 5}, []int{5}, []int{10, 5})
	if err != nil {
		return GPUResult{}, err
	}
	for i := range in {
		in[i] = round32(in[i])
	}
	x, w, b, dout := in[0], in[1], in[2], in[3]
	out, cache, err := nn.AffineForward(x, w, b)
	if err != nil {
		return GPUResult{}, err
	}
	dx, dw, db, err := nn.AffineBackward(dout, cache)
	if err != nil {
		return GPUResult{}, err
	}
	// The same layer on |inputs| gives the sums of |products| the bounds need.
	aout, acache, err := nn.AffineForward(absT(x), absT(w), absT(b))
	if err != nil {
		return GPUResult{}, err
	}
	adx, adw, adb, err := nn.AffineBackward(absT(dout), acache)
	if err != nil {
		return GPUResult{}, err
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx, gw, gb, gd := s.up(x), s.up(w), s.up(b), s.up(dout)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	gout, err := d.AffineForward(gx, gw, gb)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gout)
	gdx, gdw, gdb, err := d.AffineBackward(gd, gx, gw)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gdx, gdw, gdb)
	errs, err := compareAll([]string{"out", "dx", "dw", "db"}, []*gpu.Tensor{gout, gdx, gdw, gdb},
		[]*tensor.Tensor{out, dx, dw, db},
		[][]float64{dotBound(6+1, aout, out), dotBound(5, adx, dx), dotBound(10, adw, dw), dotBound(10, adb, db)})
	return GPUResult{Errors: errs, Tolerance: "Each element within γ_K·Σ|products| + u·|result| (Higham's bound for a sum of K products in f32, any order; u = 2⁻²⁴), K = D+1 for out, M for dx, N for dw and db."}, err
}

func gpuRelu(d *gpu.Device) (GPUResult, error) {
	in, err := randnAll(502, []int{10, 10}, []int{10, 10})
	if err != nil {
		return GPUResult{}, err
	}
	x, dout := round32(in[0]), round32(in[1])
	out, cache, err := nn.ReluForward(x)
	if err != nil {
		return GPUResult{}, err
	}
	dx, err := nn.ReluBackward(dout, cache)
	if err != nil {
		return GPUResult{}, err
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx, gd := s.up(x), s.up(dout)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	gout, err := d.Relu(gx)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gout)
	gdx, err := d.ReluBackward(gd, gx)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gdx)
	zero := make([]float64, len(x.Data))
	errs, err := compareAll([]string{"out", "dx"}, []*gpu.Tensor{gout, gdx}, []*tensor.Tensor{out, dx}, [][]float64{zero, zero})
	return GPUResult{Errors: errs, Tolerance: "Exact: ReLU only compares and copies f32 values, so the GPU must agree bit for bit."}, err
}

// gpuDropoutP is the drop probability of the GPU check, as in the CPU one.
var gpuDropoutP = cpuDropout

func gpuDropout(d *gpu.Device) (GPUResult, error) {
	x, err := randn(505, 1, 10, 10, 10)
	if err != nil {
		return GPUResult{}, err
	}
	dout, err := randn(506, 1, 0, 10, 10)
	if err != nil {
		return GPUResult{}, err
	}
	x, dout = round32(x), round32(dout)
	out, cache, err := nn.DropoutForward(x, gpuDropoutP)
	if err != nil {
		return GPUResult{}, err
	}
	dx, err := nn.DropoutBackward(dout, cache)
	if err != nil {
		return GPUResult{}, err
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx, gd := s.up(x), s.up(dout)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	p := gpuDropoutP
	gout, mask, err := d.Dropout(gx, p.P, p.Seed, p.Step, p.Layer)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gout, mask)
	gdx, err := d.DropoutBackward(gd, mask)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gdx)
	// 1/(1-p) rounded to f32 and one f32 product: two roundings. A unit
	// the GPU keeps and the CPU drops (a different mask) misses by |x|.
	errs, err := compareAll([]string{"out", "dx"}, []*gpu.Tensor{gout, gdx}, []*tensor.Tensor{out, dx},
		[][]float64{scaled(out, 2.01*f32u), scaled(dx, 2.01*f32u)})
	return GPUResult{Errors: errs, Tolerance: "Each element within 2u·|ref| (u = 2⁻²⁴): the scale 1/(1−p) rounded to f32 and one f32 product. The mask comes from the same Philox stream on both sides, so a single differing unit fails."}, err
}

func gpuConv(d *gpu.Device) (GPUResult, error) {
	in, err := randnAll(507, []int{10, 3, 5, 5}, []int{16, 3, 3, 3}, []int{16}, []int{10, 16, 5, 5})
	if err != nil {
		return GPUResult{}, err
	}
	for i := range in {
		in[i] = round32(in[i])
	}
	x, w, b, dout := in[0], in[1], in[2], in[3]
	out, cache, err := nn.ConvForwardFast(x, w, b, courseConv)
	if err != nil {
		return GPUResult{}, err
	}
	dx, dw, db, err := nn.ConvBackwardFast(dout, cache)
	if err != nil {
		return GPUResult{}, err
	}
	aout, acache, err := nn.ConvForwardFast(absT(x), absT(w), absT(b), courseConv)
	if err != nil {
		return GPUResult{}, err
	}
	adx, adw, adb, err := nn.ConvBackwardFast(absT(dout), acache)
	if err != nil {
		return GPUResult{}, err
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx, gw, gb, gd := s.up(x), s.up(w), s.up(b), s.up(dout)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	gout, err := d.ConvForward(gx, gw, gb, courseConv)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gout)
	gdx, gdw, gdb, err := d.ConvBackward(gd, gx, gw, courseConv, true)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gdx, gdw, gdb)
	const c, f, hh, ww, n, ho, wo = 3, 16, 3, 3, 10, 5, 5
	errs, err := compareAll([]string{"out", "dx", "dw", "db"}, []*gpu.Tensor{gout, gdx, gdw, gdb},
		[]*tensor.Tensor{out, dx, dw, db},
		[][]float64{dotBound(c*hh*ww+1, aout, out), dotBound(f*hh*ww, adx, dx), dotBound(n*ho*wo, adw, dw), dotBound(n*ho*wo, adb, db)})
	return GPUResult{Errors: errs, Tolerance: "Each element within γ_K·Σ|products| + u·|result| (Higham), K = C·HH·WW+1 = 28 for out, F·HH·WW = 144 for dx, N·H'·W' = 250 for dw and db."}, err
}

func gpuPool(d *gpu.Device) (GPUResult, error) {
	in, err := randnAll(508, []int{10, 3, 8, 7}, []int{10, 3, 4, 3})
	if err != nil {
		return GPUResult{}, err
	}
	x, dout := round32(in[0]), round32(in[1])
	out, cache, err := nn.MaxPoolForward(x, coursePool)
	if err != nil {
		return GPUResult{}, err
	}
	dx, err := nn.MaxPoolBackward(dout, cache)
	if err != nil {
		return GPUResult{}, err
	}
	adx, err := nn.MaxPoolBackward(absT(dout), cache)
	if err != nil {
		return GPUResult{}, err
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx, gd := s.up(x), s.up(dout)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	gout, gcache, err := d.MaxPoolForward(gx, coursePool)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gout)
	defer gcache.Release()
	gdx, err := d.MaxPoolBackward(gd, gcache)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gdx)
	// Windows 3 wide with stride 2 overlap: an input can collect up to 2
	// gradients (4 with the 2-high windows counted generously).
	errs, err := compareAll([]string{"out", "dx"}, []*gpu.Tensor{gout, gdx}, []*tensor.Tensor{out, dx},
		[][]float64{make([]float64, len(out.Data)), dotBound(4, adx, dx)})
	return GPUResult{Errors: errs, Tolerance: "out exact (a maximum of f32 values is one of them); dx within γ₄·Σ|dout| over the windows that picked the element (3-wide windows with stride 2 overlap)."}, err
}

// bnBound is a first-order bound for batchnorm in f32 over reductions of
// length k: the centring x - mean loses accuracy by kappa = max|x|/std
// (cancellation), every other step adds a few roundings, and the reductions
// add gamma_k. Each output is bounded by (k + 16)·u·kappa times the size of
// the terms that produce it.
type bnBound struct {
	k     int
	kappa float64
}

func (b bnBound) rel() float64 { return float64(b.k+16) * f32u * b.kappa }

// bnCheck runs a (spatial) batchnorm forward and backward on the GPU and
// compares them with the float64 layer. x is (N, D) with channels last, or
// NCHW for spatial.
func bnCheck(d *gpu.Device, spatial bool, x, gamma, beta, dout *tensor.Tensor) (GPUResult, error) {
	var out, dx, dg, db *tensor.Tensor
	var xhat *tensor.Tensor
	var std []float64
	var err error
	if spatial {
		var c *nn.SpatialBatchnormCache
		out, c, err = nn.SpatialBatchnormForward(x, gamma, beta, nn.NewBatchnormParam())
		if err != nil {
			return GPUResult{}, err
		}
		dx, dg, db, err = nn.SpatialBatchnormBackward(dout, c)
		if err != nil {
			return GPUResult{}, err
		}
	} else {
		var c *nn.BatchnormCache
		out, c, err = nn.BatchnormForward(x, gamma, beta, nn.NewBatchnormParam())
		if err != nil {
			return GPUResult{}, err
		}
		dx, dg, db, err = nn.BatchnormBackwardAlt(dout, c)
		if err != nil {
			return GPUResult{}, err
		}
		xhat = c.Xhat
		std = c.Sqrtvar.Data
	}
	ch := len(gamma.Data)
	// Per-channel views: element i of x belongs to channel chOf(i).
	chOf := func(i int) int { return i % ch }
	k := x.Shape[0]
	if spatial {
		hw := x.Shape[2] * x.Shape[3]
		chOf = func(i int) int { return (i / hw) % ch }
		k = x.Shape[0] * hw
	}
	if xhat == nil {
		// Spatial: recompute xhat and std per channel from the inputs.
		mean, vr := make([]float64, ch), make([]float64, ch)
		for i, v := range x.Data {
			mean[chOf(i)] += v / float64(k)
		}
		for i, v := range x.Data {
			vr[chOf(i)] += (v - mean[chOf(i)]) * (v - mean[chOf(i)]) / float64(k)
		}
		std = make([]float64, ch)
		for c := range std {
			std[c] = math.Sqrt(vr[c] + 1e-5)
		}
		xhat = x.Clone()
		for i, v := range x.Data {
			xhat.Data[i] = (v - mean[chOf(i)]) / std[chOf(i)]
		}
	}
	maxX := make([]float64, ch)
	sumD, sumDX := make([]float64, ch), make([]float64, ch)
	for i, v := range x.Data {
		c := chOf(i)
		maxX[c] = math.Max(maxX[c], math.Abs(v))
		sumD[c] += math.Abs(dout.Data[i])
		sumDX[c] += math.Abs(dout.Data[i]) * (math.Abs(xhat.Data[i]) + 1)
	}
	kappa := 1.0
	for c := range maxX {
		kappa = math.Max(kappa, maxX[c]/std[c])
	}
	bb := bnBound{k: k, kappa: kappa}
	bOut, bDx := make([]float64, len(x.Data)), make([]float64, len(x.Data))
	bDg, bDb := make([]float64, ch), make([]float64, ch)
	for i := range x.Data {
		c := chOf(i)
		g := math.Abs(gamma.Data[c])
		bOut[i] = bb.rel() * (g*(math.Abs(xhat.Data[i])+1) + math.Abs(beta.Data[c]))
		// dx = gamma/std/k * (k dout - dbeta - xhat dgamma): the size of
		// each term, not of their (cancelling) sum.
		bDx[i] = bb.rel() * g / std[c] * (math.Abs(dout.Data[i]) + (sumD[c]+(math.Abs(xhat.Data[i])+1)*sumDX[c])/float64(k))
	}
	for c := range bDg {
		bDg[c] = bb.rel() * sumDX[c]
		bDb[c] = gammaN(k) * sumD[c]
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx, gg, gb, gd := s.up(x), s.up(gamma), s.up(beta), s.up(dout)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	st, err := d.NewBatchnormState(nil, ch)
	if err != nil {
		return GPUResult{}, err
	}
	defer st.Release()
	var gout *gpu.Tensor
	var cache *gpu.BatchnormCache
	if spatial {
		gout, cache, err = d.SpatialBatchnormForward(gx, gg, gb, st, true)
	} else {
		gout, cache, err = d.BatchnormForward(gx, gg, gb, st, true)
	}
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gout)
	defer cache.Release()
	var gdx, gdg, gdb *gpu.Tensor
	if spatial {
		gdx, gdg, gdb, err = d.SpatialBatchnormBackward(gd, cache)
	} else {
		gdx, gdg, gdb, err = d.BatchnormBackward(gd, cache)
	}
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gdx, gdg, gdb)
	errs, err := compareAll([]string{"out", "dx", "dgamma", "dbeta"}, []*gpu.Tensor{gout, gdx, gdg, gdb},
		[]*tensor.Tensor{out, dx, dg, db}, [][]float64{bOut, bDx, bDg, bDb})
	tol := "First-order f32 bound: each output within (K+16)·u·κ times the size of the terms that produce it (u = 2⁻²⁴, K = " +
		FormatNum(float64(k), 6) + " values per channel, κ = max|x|/std = " + FormatNum(kappa, 3) +
		" for the cancellation in x − mean); dbeta, a plain sum, within γ_K·Σ|dout|."
	return GPUResult{Errors: errs, Tolerance: tol}, err
}

func gpuBatchnorm(d *gpu.Device) (GPUResult, error) {
	x, err := randn(503, 5, 12, 4, 5)
	if err != nil {
		return GPUResult{}, err
	}
	in, err := randnAll(504, []int{5}, []int{5}, []int{4, 5})
	if err != nil {
		return GPUResult{}, err
	}
	return bnCheck(d, false, round32(x), round32(in[0]), round32(in[1]), round32(in[2]))
}

func gpuSpatialBN(d *gpu.Device) (GPUResult, error) {
	x, err := randn(509, 4, 10, 2, 3, 4, 5)
	if err != nil {
		return GPUResult{}, err
	}
	in, err := randnAll(510, []int{3}, []int{3}, []int{2, 3, 4, 5})
	if err != nil {
		return GPUResult{}, err
	}
	return bnCheck(d, true, round32(x), round32(in[0]), round32(in[1]), round32(in[2]))
}

func gpuSoftmax(d *gpu.Device) (GPUResult, error) {
	const n, c = 50, 10
	x, err := randn(511, 0.001, 0, n, c)
	if err != nil {
		return GPUResult{}, err
	}
	x = round32(x)
	y := softmaxLabels(n, c)
	loss, dx, err := nn.SoftmaxLoss(x, y)
	if err != nil {
		return GPUResult{}, err
	}
	s := &gpuSession{d: d}
	defer s.release()
	gx := s.up(x)
	if s.err != nil {
		return GPUResult{}, s.err
	}
	labels, err := d.UploadLabels(y, c)
	if err != nil {
		return GPUResult{}, err
	}
	defer labels.Release()
	gl, gdx, err := d.SoftmaxCrossEntropy(gx, labels)
	if err != nil {
		return GPUResult{}, err
	}
	s.keep(gl, gdx)
	// WGSL's exp is accurate to 3 + 2|x| ulp (|x| < 0.01 here after the
	// max shift, so 4 ulp); a row sum of C terms adds gamma_C, then a
	// division, a log (3 ulp) and the mean over N rows (gamma_N).
	rel := (2*float64(c) + 16) * f32u
	maxX := 0.0
	for _, v := range x.Data {
		maxX = math.Max(maxX, math.Abs(v))
	}
	lossT, _ := tensor.FromData([]float64{loss}, 1)
	bLoss := []float64{(rel+gammaN(n))*(math.Abs(loss)+2*maxX) + 4*f32u}
	bDx := make([]float64, len(dx.Data))
	for i, v := range dx.Data {
		onehot := 0.0
		if y[i/c] == i%c {
			onehot = 1
		}
		// |dx| = |p - onehot|/N with p = softmax: bound the terms p and onehot.
		p := v*float64(n) + onehot
		bDx[i] = rel * (math.Abs(p) + onehot) / float64(n)
	}
	errs, err := compareAll([]string{"loss", "dx"}, []*gpu.Tensor{gl, gdx}, []*tensor.Tensor{lossT, dx}, [][]float64{bLoss, bDx})
	return GPUResult{Errors: errs, Tolerance: "Each element within (2C+16)·u times its terms (u = 2⁻²⁴, C = 10): WGSL's exp is good to 3+2|x| ulp, plus a row sum of C terms, a division and a log; the loss adds γ_N for the mean over N = 50 rows."}, err
}
