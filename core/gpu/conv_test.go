package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// convCase is one convolution: x (n, c, h, w), w (f, c/groups, kh, kw).
type convCase struct {
	n, c, h, w, f, kh, kw int
	stride, pad, groups   int
	bias                  bool
}

func (c convCase) String() string {
	return fmt.Sprintf("x(%d,%d,%d,%d) w(%d,%d,%d,%d) s%d p%d g%d bias=%t",
		c.n, c.c, c.h, c.w, c.f, c.c/max(c.groups, 1), c.kh, c.kw, c.stride, c.pad, c.groups, c.bias)
}

func (c convCase) param() nn.ConvParam {
	return nn.ConvParam{Stride: c.stride, Pad: c.pad, Groups: c.groups}
}

// convCases cover: batch 1, odd and unequal H and W, channels 1, 3, 5, 7,
// strides 1-3, pads 0-2, kernels 1x1, 2x2, 3x3, 5x5 and non-square ones, a
// kernel exactly as big as the padded input, 1x1 outputs, depthwise
// (groups = C, also with two filters per channel), groups = 2, stride
// phases that no tap reaches (1x1 stride 2), more than 64 channels per
// group (two row tiles), grids of many 64x64 tiles and reductions long
// enough to be split (split-K in the weight gradient).
var convCases = []convCase{
	{1, 1, 1, 1, 1, 1, 1, 1, 0, 1, true},
	{1, 3, 5, 5, 4, 3, 3, 1, 1, 1, true},
	{2, 3, 7, 9, 5, 3, 3, 2, 1, 1, true},
	{2, 5, 8, 8, 7, 1, 1, 1, 0, 1, false},
	{1, 7, 9, 7, 3, 5, 5, 1, 2, 1, true},
	{3, 4, 10, 11, 6, 3, 3, 3, 0, 1, true},
	{2, 3, 6, 8, 4, 2, 5, 1, 1, 1, false},
	{2, 4, 7, 7, 4, 3, 3, 1, 1, 4, true},
	{1, 6, 9, 9, 4, 3, 3, 2, 1, 2, true},
	{2, 6, 8, 8, 6, 3, 3, 1, 0, 6, false},
	{1, 8, 5, 5, 16, 3, 3, 1, 1, 8, true},
	{3, 8, 16, 16, 70, 3, 3, 1, 1, 1, true},
	{2, 3, 4, 4, 3, 4, 4, 2, 1, 1, true},
	{1, 2, 3, 3, 2, 5, 5, 1, 1, 1, false},
	{2, 3, 1, 7, 2, 1, 3, 1, 0, 1, true},
	{1, 5, 11, 6, 9, 3, 1, 2, 2, 1, true},
	{3, 2, 5, 5, 3, 1, 1, 2, 0, 1, false},
	{1, 3, 7, 7, 2, 3, 3, 3, 1, 1, true},
	{2, 10, 6, 6, 4, 3, 3, 1, 1, 2, true},
	{1, 1, 8, 8, 5, 3, 3, 1, 1, 1, true},
	{8, 3, 24, 24, 8, 3, 3, 1, 1, 1, true},
	{1, 4, 6, 5, 4, 2, 2, 2, 0, 1, true},
	{2, 3, 5, 5, 4, 5, 5, 3, 2, 1, false},
	{5, 2, 3, 3, 3, 3, 3, 1, 0, 1, true},
	{1, 66, 3, 3, 2, 1, 1, 1, 0, 1, false},
	{2, 7, 13, 13, 3, 3, 3, 2, 0, 1, true},
}

var convAlgos = []ConvAlgo{ConvNaive, ConvTiled, convDirect, convGEMM64x64, convGEMM32x128, convGEMM32x64, convGEMM64x128, convGEMM32x256, convGEMM64x256, convGEMM128x128, convGEMM32x128w}

// convData is one case's inputs, drawn as exact f32 values so that the
// float64 reference sees exactly what the GPU sees.
type convData struct {
	x, w, b, dout    []float32
	xs, ws, outShape []int
}

func newConvData(t *testing.T, r *rand.Rand, c convCase) convData {
	t.Helper()
	g := max(c.groups, 1)
	xs := []int{c.n, c.c, c.h, c.w}
	ws := []int{c.f, c.c / g, c.kh, c.kw}
	oh, err := nn.ConvOutSize(c.h, c.kh, c.stride, c.pad)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	ow, err := nn.ConvOutSize(c.w, c.kw, c.stride, c.pad)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	os := []int{c.n, c.f, oh, ow}
	cd := convData{x: randF32(r, shapeLen(xs)), w: randF32(r, shapeLen(ws)), dout: randF32(r, shapeLen(os)), xs: xs, ws: ws, outShape: os}
	if c.bias {
		cd.b = randF32(r, c.f)
	}
	return cd
}

func convF64(t *testing.T, v []float32, abs bool, shape ...int) *tensor.Tensor {
	t.Helper()
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = float64(x)
		if abs {
			d[i] = math.Abs(d[i])
		}
	}
	out, err := tensor.FromData(d, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// convRef is the float64 reference for every pass and each one's f32 error
// bound.
//
// Tolerance: each output of each pass is a sum of products of exact f32
// inputs, so, as in refMatmul, any f32 evaluation order (GEMM tiles, split-K
// partial sums added afterwards, fused multiply-add or not) is within
// gamma_K * sum |products| + u |result| of the exact value, with
// gamma_K = K u / (1 - K u) and K the number of terms:
//   - forward: K = C/G * KH * KW products, plus the bias as one more term;
//   - dx: at most F/G * KH * KW products (taps of every filter of the group);
//   - dw and db: N * OH * OW products (db: values of dout).
//
// Padding taps add exact zeros. The sums of |products| come from the same
// reference run on |x|, |w|, |b|, |dout|. With inputs in [-2, 2) a product
// averages ~1, so the bound is about K^2 u: below 0.07 for every pass of
// every case except the split-K case's dw and db (K = 4608, ~1.3), where a
// wrong index still shows because it corrupts many terms at once, and the
// same kernels are held to the tight bounds on every other case.
type convRef struct {
	out, dx, dw, db     []float64
	outB, dxB, dwB, dbB []float64
	kFwd, kDx, kDw      int
}

func newConvRef(t *testing.T, c convCase, cd convData) convRef {
	t.Helper()
	run := func(abs bool) (out, dx, dw, db *tensor.Tensor) {
		x := convF64(t, cd.x, abs, cd.xs...)
		w := convF64(t, cd.w, abs, cd.ws...)
		var b *tensor.Tensor
		if cd.b != nil {
			b = convF64(t, cd.b, abs, c.f)
		}
		out, cache, err := nn.ConvForwardNaive(x, w, b, c.param())
		if err != nil {
			t.Fatalf("%v: reference forward: %v", c, err)
		}
		dx, dw, db, err = nn.ConvBackwardNaive(convF64(t, cd.dout, abs, cd.outShape...), cache)
		if err != nil {
			t.Fatalf("%v: reference backward: %v", c, err)
		}
		return out, dx, dw, db
	}
	out, dx, dw, db := run(false)
	outA, dxA, dwA, dbA := run(true)
	g := max(c.groups, 1)
	ref := convRef{
		out: out.Data, dx: dx.Data, dw: dw.Data,
		kFwd: c.c / g * c.kh * c.kw, kDx: c.f / g * c.kh * c.kw, kDw: cd.outShape[0] * cd.outShape[2] * cd.outShape[3],
	}
	if c.bias {
		ref.kFwd++
		ref.db = db.Data
		ref.dbB = gammaBound(ref.kDw, db.Data, dbA.Data)
	}
	ref.outB = gammaBound(ref.kFwd, out.Data, outA.Data)
	ref.dxB = gammaBound(ref.kDx, dx.Data, dxA.Data)
	ref.dwB = gammaBound(ref.kDw, dw.Data, dwA.Data)
	return ref
}

func gammaBound(k int, val, absSum []float64) []float64 {
	gamma := float64(k) * u / (1 - float64(k)*u)
	b := make([]float64, len(val))
	for i := range b {
		b[i] = gamma*absSum[i] + u*math.Abs(val[i])
	}
	return b
}

func TestConvCasesAreValid(t *testing.T) {
	if len(convCases) < 20 {
		t.Fatalf("only %d conv cases, the parity suite promises at least 20", len(convCases))
	}
}

func TestConvForwardParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(11, 11))
	for _, c := range convCases {
		cd := newConvData(t, r, c)
		ref := newConvRef(t, c, cd)
		x, w := upload(t, d, cd.x, cd.xs...), upload(t, d, cd.w, cd.ws...)
		var b *Tensor
		if c.bias {
			b = upload(t, d, cd.b, c.f)
		}
		for _, algo := range convAlgos {
			out, err := d.ConvForwardWith(algo, x, w, b, c.param())
			if err != nil {
				t.Fatalf("%s %v: %v", algo, c, err)
			}
			if !shapeEq(out.Shape(), cd.outShape) {
				t.Fatalf("%s %v: out shape %v, want %v", algo, c, out.Shape(), cd.outShape)
			}
			checkBound(t, fmt.Sprintf("%s forward %v", algo, c), read(t, out), ref.out, ref.outB)
			out.Release()
		}
		release(x, w, b)
	}
}

func TestConvBackwardDataParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(12, 12))
	for _, c := range convCases {
		cd := newConvData(t, r, c)
		ref := newConvRef(t, c, cd)
		dout, w := upload(t, d, cd.dout, cd.outShape...), upload(t, d, cd.w, cd.ws...)
		for _, algo := range convAlgos {
			dx, err := d.ConvBackwardDataWith(algo, dout, w, cd.xs, c.param())
			if err != nil {
				t.Fatalf("%s %v: %v", algo, c, err)
			}
			if !shapeEq(dx.Shape(), cd.xs) {
				t.Fatalf("%s %v: dx shape %v", algo, c, dx.Shape())
			}
			checkBound(t, fmt.Sprintf("%s dx %v", algo, c), read(t, dx), ref.dx, ref.dxB)
			dx.Release()
		}
		release(dout, w)
	}
}

func TestConvBackwardWeightsParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(13, 13))
	for _, c := range convCases {
		cd := newConvData(t, r, c)
		ref := newConvRef(t, c, cd)
		dout, x := upload(t, d, cd.dout, cd.outShape...), upload(t, d, cd.x, cd.xs...)
		for _, algo := range convAlgos {
			dw, err := d.ConvBackwardWeightsWith(algo, dout, x, cd.ws, c.param())
			if err != nil {
				t.Fatalf("%s %v: %v", algo, c, err)
			}
			if !shapeEq(dw.Shape(), cd.ws) {
				t.Fatalf("%s %v: dw shape %v", algo, c, dw.Shape())
			}
			checkBound(t, fmt.Sprintf("%s dw %v", algo, c), read(t, dw), ref.dw, ref.dwB)
			dw.Release()
		}
		if c.bias {
			db, err := d.ConvBackwardBias(dout)
			if err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			if !shapeEq(db.Shape(), []int{c.f}) {
				t.Fatalf("%v: db shape %v", c, db.Shape())
			}
			checkBound(t, fmt.Sprintf("db %v", c), read(t, db), ref.db, ref.dbB)
			db.Release()
		}
		release(dout, x)
	}
}

// ConvBackward composes the three passes; db is nil without a bias.
func TestConvBackwardCombined(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(14, 14))
	for _, c := range []convCase{convCases[2], convCases[3], convCases[8], convCases[10]} {
		cd := newConvData(t, r, c)
		ref := newConvRef(t, c, cd)
		dout, x, w := upload(t, d, cd.dout, cd.outShape...), upload(t, d, cd.x, cd.xs...), upload(t, d, cd.w, cd.ws...)
		for _, algo := range []ConvAlgo{ConvNaive, ConvTiled} {
			dx, dw, db, err := d.ConvBackwardWith(algo, dout, x, w, c.param(), c.bias)
			if err != nil {
				t.Fatalf("%s %v: %v", algo, c, err)
			}
			checkBound(t, fmt.Sprintf("%s combined dx %v", algo, c), read(t, dx), ref.dx, ref.dxB)
			checkBound(t, fmt.Sprintf("%s combined dw %v", algo, c), read(t, dw), ref.dw, ref.dwB)
			if c.bias {
				checkBound(t, fmt.Sprintf("%s combined db %v", algo, c), read(t, db), ref.db, ref.dbB)
			} else if db != nil {
				t.Fatalf("%s %v: db = %v without a bias, want nil", algo, c, db.Shape())
			}
			release(dx, dw, db)
		}
		release(dout, x, w)
	}
}

func TestConvBadInput(t *testing.T) {
	d := device(t)
	mk := func(shape ...int) *Tensor {
		ts, err := d.Zeros(shape...)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	x := mk(2, 3, 5, 5)
	x3 := mk(2, 3, 5)
	w := mk(4, 3, 3, 3)
	w2 := mk(4, 2, 3, 3) // C/groups = 2: wrong for C = 3, groups 1
	w7 := mk(4, 3, 8, 8)
	b := mk(4)
	b5 := mk(5)
	dout := mk(2, 4, 5, 5) // forward output for pad 1
	doutBad := mk(2, 4, 4, 5)
	defer release(x, x3, w, w2, w7, b, b5, dout, doutBad)
	p1 := nn.ConvParam{Stride: 1, Pad: 1}
	xs := []int{2, 3, 5, 5}
	ws := []int{4, 3, 3, 3}

	cases := []struct {
		name, op, want string
		call           func() error
	}{
		{"x not 4-d", "gpu.ConvForward", "x must be 4-d", func() error { _, err := d.ConvForward(x3, w, b, p1); return err }},
		{"w not 4-d", "gpu.ConvForward", "w must be 4-d", func() error { _, err := d.ConvForward(x, x3, b, p1); return err }},
		{"C mismatch", "gpu.ConvForward", "channels per filter", func() error { _, err := d.ConvForward(x, w2, b, p1); return err }},
		{"stride 0", "gpu.ConvForward", "stride must be >= 1", func() error { _, err := d.ConvForward(x, w, b, nn.ConvParam{Pad: 1}); return err }},
		{"negative pad", "gpu.ConvForward", "pad must be >= 0", func() error { _, err := d.ConvForward(x, w, b, nn.ConvParam{Stride: 1, Pad: -1}); return err }},
		{"kernel too big", "gpu.ConvForward", "bigger than the padded input", func() error { _, err := d.ConvForward(x, w7, b, nn.ConvParam{Stride: 1, Pad: 1}); return err }},
		{"groups not dividing", "gpu.ConvForward", "must divide", func() error {
			_, err := d.ConvForward(x, w, b, nn.ConvParam{Stride: 1, Pad: 1, Groups: 2})
			return err
		}},
		{"negative groups", "gpu.ConvForward", "groups must be >= 0", func() error {
			_, err := d.ConvForward(x, w, b, nn.ConvParam{Stride: 1, Pad: 1, Groups: -1})
			return err
		}},
		{"bias shape", "gpu.ConvForward", "one bias per filter", func() error { _, err := d.ConvForward(x, w, b5, p1); return err }},
		{"nil x", "gpu.ConvForward", "nil", func() error { _, err := d.ConvForward(nil, w, b, p1); return err }},
		{"unknown algo", "gpu.ConvForward", "unknown ConvAlgo", func() error {
			_, err := d.ConvForwardWith(ConvAlgo(99), x, w, b, p1)
			return err
		}},
		{"unknown algo backward", "gpu.ConvBackward", "unknown ConvAlgo", func() error {
			_, _, _, err := d.ConvBackwardWith(ConvAlgo(-1), dout, x, w, p1, true)
			return err
		}},
		{"dx dout shape", "gpu.ConvBackwardData", "dout must have the forward output's shape", func() error {
			_, err := d.ConvBackwardData(doutBad, w, xs, p1)
			return err
		}},
		{"dx x shape 3-d", "gpu.ConvBackwardData", "x must be 4-d", func() error { _, err := d.ConvBackwardData(dout, w, []int{2, 3, 5}, p1); return err }},
		{"dx C mismatch", "gpu.ConvBackwardData", "channels per filter", func() error { _, err := d.ConvBackwardData(dout, w2, xs, p1); return err }},
		{"dw dout shape", "gpu.ConvBackwardWeights", "dout must have the forward output's shape", func() error {
			_, err := d.ConvBackwardWeights(doutBad, x, ws, p1)
			return err
		}},
		{"dw stride 0", "gpu.ConvBackwardWeights", "stride must be >= 1", func() error {
			_, err := d.ConvBackwardWeights(dout, x, ws, nn.ConvParam{Pad: 1})
			return err
		}},
		{"dw w shape", "gpu.ConvBackwardWeights", "w must be 4-d", func() error { _, err := d.ConvBackwardWeights(dout, x, []int{4, 27}, p1); return err }},
		{"db not 4-d", "gpu.ConvBackwardBias", "dout must be 4-d", func() error { _, err := d.ConvBackwardBias(x3); return err }},
		{"backward dout shape", "gpu.ConvBackward", "dout must have the forward output's shape", func() error {
			_, _, _, err := d.ConvBackward(doutBad, x, w, p1, true)
			return err
		}},
		{"backward groups", "gpu.ConvBackward", "must divide", func() error {
			_, _, _, err := d.ConvBackward(dout, x, w, nn.ConvParam{Stride: 1, Pad: 1, Groups: 2}, true)
			return err
		}},
	}
	for _, c := range cases {
		err := c.call()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.op) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to name %s and say %q", c.name, err, c.op, c.want)
		}
	}
	// Released inputs are refused, not read.
	xr := mk(2, 3, 5, 5)
	xr.Release()
	if _, err := d.ConvForward(xr, w, b, p1); err == nil || !strings.Contains(err.Error(), "released") {
		t.Errorf("released x: %v", err)
	}
}

// Long reductions, checked exactly: with small integer inputs every partial
// sum is an integer below 2^24, so any f32 summation order gives the exact
// result, and a mis-indexed term (e.g. udiv's quotient off by one for large
// flat indices, here up to 270900) shows as a nonzero difference.
//
// ConvNaive is left out on purpose: its dw invocations loop over all
// N*OH*OW = 270900 positions, and Mesa 22's lavapipe silently stops an
// invocation after 65535 loop iterations in total (gallivm's loop limiter),
// so the naive result there is a partial sum. The tiled path keeps every
// invocation's loops short (split-K chunks, 256-way strided reductions).
func TestConvLongReductionsExact(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(15, 15))
	const n, c, h, w = 3, 2, 300, 301
	ints := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = float32(r.IntN(5) - 2)
		}
		return v
	}
	p := nn.ConvParam{Stride: 1, Groups: 2}
	xs, ws := []int{n, c, h, w}, []int{c, 1, 1, 1}
	xv, doutv := ints(n*c*h*w), ints(n*c*h*w)
	xt, wt := convF64(t, xv, false, xs...), convF64(t, []float32{1, 1}, false, ws...)
	_, cache, err := nn.ConvForwardNaive(xt, wt, tensor.MustNew(c), p)
	if err != nil {
		t.Fatal(err)
	}
	_, wantDw, wantDb, err := nn.ConvBackwardNaive(convF64(t, doutv, false, xs...), cache)
	if err != nil {
		t.Fatal(err)
	}
	x, dout := upload(t, d, xv, xs...), upload(t, d, doutv, xs...)
	defer release(x, dout)
	// One channel per group: ConvTiled's dw is conv_bwd_weights_rows. (A
	// forced GEMM would be a 1x1 block padded to 32x64 over 512 splits:
	// seconds of multiplying zeros in the browser.)
	for _, algo := range []ConvAlgo{ConvTiled} {
		dw, err := d.ConvBackwardWeightsWith(algo, dout, x, ws, p)
		if err != nil {
			t.Fatalf("%s: %v", algo, err)
		}
		checkBound(t, fmt.Sprintf("%s exact dw", algo), read(t, dw), wantDw.Data, make([]float64, c))
		dw.Release()
	}
	db, err := d.ConvBackwardBias(dout)
	if err != nil {
		t.Fatal(err)
	}
	checkBound(t, "exact db", read(t, db), wantDb.Data, make([]float64, c))
	db.Release()
}
