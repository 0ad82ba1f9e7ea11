package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cogentcore/webgpu/wgpu"

	"gradlab/core/nn"
	"gradlab/core/tensor"
	"gradlab/shaders"
)

type bnCase struct {
	shape        []int // (N, D) or (N, C, H, W)
	scale, shift float64
}

// bnCases1D: batch 1 (zero variance), D = 1, odd sizes, D not a multiple
// of 4, more features than a workgroup, more samples than a chunk, and
// far-from-zero means.
var bnCases1D = []bnCase{
	{[]int{1, 1}, 1, 0}, {[]int{1, 5}, 1, 0}, {[]int{2, 3}, 1, 0}, {[]int{3, 7}, 1, 0},
	{[]int{4, 10}, 2, -1}, {[]int{5, 1}, 1, 0}, {[]int{7, 13}, 1, 0}, {[]int{16, 33}, 1, 3},
	{[]int{31, 17}, 0.5, 0}, {[]int{64, 100}, 1, 0}, {[]int{100, 3}, 5, 12}, {[]int{128, 64}, 1, 0},
	{[]int{2, 257}, 1, 0}, {[]int{257, 5}, 1, 0}, {[]int{10, 300}, 1, 0}, {[]int{50, 50}, 1, -4},
	{[]int{3, 501}, 1, 0}, {[]int{500, 2}, 1, 0}, {[]int{2100, 7}, 1, 0}, {[]int{33, 65}, 1, 0},
	{[]int{4500, 3}, 5, 12}, {[]int{8192, 2}, 1, 1000},
}

// bnCasesSpatial: as above for (N, C, H, W), plus odd H and W, 1x1 maps
// and a channel with 8192 samples and a mean far from 0.
var bnCasesSpatial = []bnCase{
	{[]int{1, 1, 1, 1}, 1, 0}, {[]int{1, 3, 5, 5}, 1, 0}, {[]int{2, 3, 4, 5}, 1, 0}, {[]int{2, 5, 7, 3}, 1, 0},
	{[]int{1, 6, 9, 11}, 1, 2}, {[]int{3, 7, 1, 1}, 1, 0}, {[]int{4, 2, 8, 8}, 1, 0}, {[]int{2, 16, 6, 6}, 1, 0},
	{[]int{1, 1, 32, 32}, 1, 0}, {[]int{5, 3, 3, 3}, 3, -2}, {[]int{2, 33, 4, 4}, 1, 0}, {[]int{8, 4, 7, 9}, 1, 0},
	{[]int{1, 130, 2, 2}, 1, 0}, {[]int{3, 12, 5, 1}, 1, 0}, {[]int{1, 5, 1, 9}, 1, 0}, {[]int{6, 2, 10, 10}, 1, 0},
	{[]int{2, 32, 8, 8}, 1, 0}, {[]int{4, 3, 13, 7}, 1, 0}, {[]int{1, 2, 45, 45}, 1, 0}, {[]int{8, 3, 32, 32}, 5, 12},
	{[]int{8, 2, 32, 32}, 1, 1000}, {[]int{1, 1, 1, 7}, 1, 0},
}

// bnChunkLens: one workgroup per channel (the plain kernel), the default,
// and a tiny chunk so that small shapes merge many partials too, including
// more than one per combine invocation (m > 7*bnReduceWG: (500, 2),
// (6, 2, 10, 10), (1, 1, 32, 32)).
var bnChunkLens = []struct {
	name string
	len  int
}{{"one-workgroup", math.MaxInt32}, {"chunked", bnChunk}, {"chunk7", 7}}

// The error bounds below depend on the reductions' workgroup size.
func TestBatchnormReduceWGMatchesShader(t *testing.T) {
	src, err := shaders.Source("batchnorm")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("const RWG: u32 = %du;", bnReduceWG); !strings.Contains(src, want) {
		t.Fatalf("shaders/batchnorm.wgsl lacks %q: bnReduceWG is out of date", want)
	}
}

// bnChunkingsFor skips chunkings that would repeat another one (m <= chunk
// length is one chunk) and keeps 7-sample chunks to few partials: every
// workgroup of a reduction costs up to a millisecond in the browser's
// SwiftShader. Nor do 7-sample chunks get means far from 0: their worst-
// case bound (K merges of max|x|-sized errors) would exceed the variance
// itself and so check nothing; the stable variance is shown with the
// chunkings used in practice.
func bnChunkingsFor(l bnLayout, c bnCase) []int {
	out := []int{math.MaxInt32}
	if l.m() > bnChunk {
		out = append(out, bnChunk)
	}
	if l.m() > 7 && l.c*((l.m()+6)/7) <= 700 && math.Abs(c.shift) <= 12 {
		out = append(out, 7)
	}
	return out
}

// bnReadAll copies every tensor into one staging buffer and reads it with a
// single submit and map: one round trip per step instead of one per
// tensor, which is most of the test's time in the browser.
func bnReadAll(t *testing.T, ts ...*Tensor) [][]float32 {
	t.Helper()
	d := ts[0].dev
	d.mu.Lock()
	defer d.mu.Unlock()
	var size uint64
	for _, x := range ts {
		size += x.bytes()
	}
	staging, c, err := d.acquire(size, stagingUsage)
	if err != nil {
		t.Fatal(err)
	}
	defer d.release(staging, c, stagingUsage)
	if err := d.endPass(); err != nil {
		t.Fatal(err)
	}
	enc, err := d.encoder()
	if err != nil {
		t.Fatal(err)
	}
	var off uint64
	for _, x := range ts {
		if err := enc.CopyBufferToBuffer(x.buf, 0, staging, off, x.bytes()); err != nil {
			t.Fatal(err)
		}
		off += x.bytes()
	}
	if err := d.flushLocked(); err != nil {
		t.Fatal(err)
	}
	raw, err := d.mapRead(staging, size)
	if err != nil {
		t.Fatal(err)
	}
	all := wgpu.FromBytes[float32](raw)
	out := make([][]float32, len(ts))
	for i, x := range ts {
		out[i] = append([]float32(nil), all[:x.n]...)
		all = all[x.n:]
	}
	return out
}

// bnLayout maps element i of x (NCHW or ND) to its channel and to its
// index in core/nn's (rows, C) arrays (nn's spatial batchnorm runs on
// x laid out as (N*H*W, C)).
type bnLayout struct{ outer, c, inner int }

func newBNLayout(shape []int) bnLayout {
	if len(shape) == 2 {
		return bnLayout{shape[0], shape[1], 1}
	}
	return bnLayout{shape[0], shape[1], shape[2] * shape[3]}
}

func (l bnLayout) m() int { return l.outer * l.inner }
func (l bnLayout) n() int { return l.outer * l.c * l.inner }
func (l bnLayout) at(i int) (c, row int) {
	o, c, p := i/(l.c*l.inner), i/l.inner%l.c, i%l.inner
	return c, (o*l.inner+p)*l.c + c
}

// bnBounds holds the f32 error bounds for one forward/backward, per channel
// (mean, var, istd) and per element. They follow the kernels' evaluation
// order (shaders/batchnorm.wgsl), with gamma_n = n u / (1 - n u):
//
//   - A chunk of L samples is summed by W = bnReduceWG = 64 invocations,
//     each adding ceil(L/W) values in sequence, then by a log2(W) = 6-level
//     tree: depth Ds = ceil(L/W) + 6, so a chunk sum is within gamma_Ds sum|x| of
//     exact (Higham eq. 3.5 with the tree's depth in place of n) and a
//     chunk mean, after a division (WGSL: 2.5 ulp, 5u), within
//     (gamma_Ds + 5u) max|x|.
//   - Chan merges of K chunks: ceil(K/W)-1 in sequence per invocation,
//     then ceil(log2 min(K,W)) tree levels that merge non-empty sets;
//     empty sets merge exactly. Each merge, m = ma + (mb-ma) nb/n, adds at
//     most 15u max|x| (5u division, 3 roundings of values up to 2 max|x|)
//     and is a convex combination, so earlier errors do not grow:
//     dmean = max|x| (gamma_Ds + 5u + 15u Dc).
//   - Squared deviations are summed like x (3 more roundings each); merges
//     add non-negative terms (6 roundings per level). A mean error e
//     enters the variance at second order within a chunk (+e^2) and, per
//     merge level, through delta = mb - ma: by Cauchy-Schwarz at most
//     2 e sqrt(var) + e^2. So
//     dvar = gamma_{Ds+3+6Dc+5} var + 2 Dc dmean sqrt(var) + (1+Dc) dmean^2.
//   - istd = inverseSqrt(var+eps): 1 rounding for the sum, 2 ulp (4u) for
//     inverseSqrt, and the variance error r = dvar/(var+eps) relative:
//     distd = istd ((1-r)^(-1/2) - 1 + 5u).
//   - xhat = (x - mean) istd: |x - mean| + dmean, 2 roundings, times istd:
//     dxhat = istd ((|x-mean| + dmean)(1+u)^2 (1+ristd) - |x-mean|).
//   - out = gamma xhat + beta: dout = |gamma| dxhat + 2u (|gamma| (|xhat| +
//     dxhat) + |beta|).
//
// Test mode uses the running statistics: dmean and dvar are then the
// errors carried by the GPU's running statistics (0 when just uploaded).
type bnBounds struct {
	mean, vr, istd []float64 // per channel
	xhat           []float64 // per element (NCHW/ND order)
}

// bnDepths returns Ds and Dc for m samples in chunks of chunkLen.
func bnDepths(m, chunkLen int) (ds, dc int) {
	l := min(chunkLen, m)
	k := (m + l - 1) / l
	const w = bnReduceWG
	ds = (l+w-1)/w + 6
	dc = (k+w-1)/w - 1 + int(math.Ceil(math.Log2(float64(min(k, w)))))
	return ds, dc
}

// bnForwardBounds computes the bounds of a train-mode forward (batch
// statistics) when dmean and dvar are nil, or of a test-mode forward whose
// running statistics carry the given errors.
func bnForwardBounds(l bnLayout, xs []float32, ref *nn.BatchnormCache, chunkLen int, dmean, dvar []float64) bnBounds {
	b := bnBounds{mean: make([]float64, l.c), vr: make([]float64, l.c), istd: make([]float64, l.c), xhat: make([]float64, l.n())}
	if dmean == nil {
		maxAbs := make([]float64, l.c)
		for i, v := range xs {
			c, _ := l.at(i)
			maxAbs[c] = math.Max(maxAbs[c], math.Abs(float64(v)))
		}
		ds, dc := bnDepths(l.m(), chunkLen)
		for c := range l.c {
			dm := maxAbs[c] * (bnpoolGamma(ds) + 5*u + 15*u*float64(dc))
			v := ref.Var.Data[c]
			b.mean[c] = dm
			b.vr[c] = bnpoolGamma(ds+3+6*dc+5)*v + 2*float64(dc)*dm*math.Sqrt(v) + float64(1+dc)*dm*dm
		}
	} else {
		copy(b.mean, dmean)
		copy(b.vr, dvar)
	}
	for c := range l.c {
		s := ref.Var.Data[c] + ref.Eps
		r := (b.vr[c] + u*s) / s
		b.istd[c] = math.Inf(1) // the variance bound allows 0: no information
		if r < 1 {
			b.istd[c] = 1/math.Sqrt(1-r) - 1 + 5*u // relative
		}
	}
	for i := range b.xhat {
		c, row := l.at(i)
		a := math.Abs(ref.Xmu.Data[row])
		b.xhat[i] = ref.Ivar.Data[c] * ((a+b.mean[c])*(1+u)*(1+u)*(1+b.istd[c]) - a)
	}
	return b
}

// bnRunningBound propagates a running statistic's error through one
// update r' = m r + (1-m) b, with m and 1-m each rounded to f32 once and
// two products and a sum rounded (3 roundings per term).
func bnRunningBound(prev, r, db, batch, m float64) float64 {
	g3 := (1+u)*(1+u)*(1+u) - 1
	return (1+g3)*(m*prev+(1-m)*db) + g3*(m*math.Abs(r)+(1-m)*math.Abs(batch))
}

type bnRun struct {
	l        bnLayout
	spatial  bool
	chunkLen int
	name     string
}

func (br bnRun) forward(t *testing.T, d *Device, x, gamma, beta *Tensor, st *BatchnormState, train bool) (*Tensor, *BatchnormCache) {
	t.Helper()
	out, cache, err := d.bnForward("test", br.spatial, x, gamma, beta, st, train, br.chunkLen)
	if err != nil {
		t.Fatalf("%s: forward: %v", br.name, err)
	}
	return out, cache
}

// refForward runs core/nn's forward on the same f32 values.
func (br bnRun) refForward(t *testing.T, xs, gs, bs []float32, shape []int, p *nn.BatchnormParam) (*tensor.Tensor, *nn.BatchnormCache, func(dout *tensor.Tensor) (dx, dg, db *tensor.Tensor)) {
	t.Helper()
	x, g, b := bnpoolF64(t, xs, shape...), bnpoolF64(t, gs, len(gs)), bnpoolF64(t, bs, len(bs))
	if br.spatial {
		out, cache, err := nn.SpatialBatchnormForward(x, g, b, p)
		if err != nil {
			t.Fatalf("%s: nn: %v", br.name, err)
		}
		return out, cache.BN, func(dout *tensor.Tensor) (dx, dg, db *tensor.Tensor) {
			dx, dg, db, err := nn.SpatialBatchnormBackward(dout, cache)
			if err != nil {
				t.Fatalf("%s: nn backward: %v", br.name, err)
			}
			return dx, dg, db
		}
	}
	out, cache, err := nn.BatchnormForward(x, g, b, p)
	if err != nil {
		t.Fatalf("%s: nn: %v", br.name, err)
	}
	return out, cache, func(dout *tensor.Tensor) (dx, dg, db *tensor.Tensor) {
		dx, dg, db, err := nn.BatchnormBackwardAlt(dout, cache)
		if err != nil {
			t.Fatalf("%s: nn backward: %v", br.name, err)
		}
		return dx, dg, db
	}
}

// TestBatchnormParity runs, for every shape and chunking, three train steps
// (new x and dout each step) and a test step on one state, against core/nn
// on the same f32 inputs: outputs, batch statistics, running statistics
// and gradients, each within the bound derived in bnBounds and
// checkBNBackward.
func TestBatchnormParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(21, 21))
	for _, spatial := range []bool{false, true} {
		cases := bnCases1D
		if spatial {
			cases = bnCasesSpatial
		}
		for _, c := range cases {
			l := newBNLayout(c.shape)
			for _, cl := range bnChunkingsFor(l, c) {
				br := bnRun{l: l, spatial: spatial, chunkLen: cl,
					name: fmt.Sprintf("%v x=%v*randn%+v chunk %d", c.shape, c.scale, c.shift, min(cl, l.m()))}
				runBNCase(t, d, r, br, c)
			}
		}
	}
}

func runBNCase(t *testing.T, d *Device, r *rand.Rand, br bnRun, c bnCase) {
	l := br.l
	gs, bs := make([]float32, l.c), make([]float32, l.c)
	rm, rv := make([]float32, l.c), make([]float32, l.c)
	for i := range gs {
		gs[i] = float32((0.5 + r.Float64()) * float64(1-2*r.IntN(2)))
		bs[i] = float32(r.NormFloat64())
		rm[i] = float32(r.NormFloat64())
		rv[i] = float32(r.Float64() * 2)
	}
	p := nn.NewBatchnormParam()
	p.RunningMean, p.RunningVar = bnpoolF64(t, rm, l.c), bnpoolF64(t, rv, l.c)
	st, err := d.NewBatchnormState(&nn.BatchnormParam{Mode: nn.Train, Eps: p.Eps, Momentum: p.Momentum, RunningMean: p.RunningMean.Clone(), RunningVar: p.RunningVar.Clone()}, l.c)
	if err != nil {
		t.Fatalf("%s: %v", br.name, err)
	}
	defer st.Release()
	gamma, beta := upload(t, d, gs, l.c), upload(t, d, bs, l.c)
	defer release(gamma, beta)
	runMean, runVar := make([]float64, l.c), make([]float64, l.c) // error bounds of st
	const steps = 4
	for step := 0; step < steps; step++ {
		train := step < steps-1
		p.Mode = nn.Test
		if train {
			p.Mode = nn.Train
		}
		name := fmt.Sprintf("%s step %d train=%t", br.name, step, train)
		xs := make([]float32, l.n())
		for i := range xs {
			xs[i] = float32(c.scale*r.NormFloat64() + c.shift)
		}
		douts := randF32(r, l.n())
		prevMean, prevVar := p.RunningMean.Clone(), p.RunningVar.Clone()
		want, ref, backward := br.refForward(t, xs, gs, bs, c.shape, p)

		x, g := upload(t, d, xs, c.shape...), upload(t, d, douts, c.shape...)
		out, cache := br.forward(t, d, x, gamma, beta, st, train)
		dx, dgamma, dbeta, err := d.bnBackward("test", g, cache, br.chunkLen)
		if err != nil {
			t.Fatalf("%s: backward: %v", name, err)
		}

		var b bnBounds
		if train {
			b = bnForwardBounds(l, xs, ref, br.chunkLen, nil, nil)
		} else {
			b = bnForwardBounds(l, xs, ref, br.chunkLen, runMean, runVar)
		}
		got := bnReadAll(t, cache.Stats, out, cache.Xhat, dx, dgamma, dbeta)
		stats := got[0]
		for ch, r := range b.istd {
			if math.IsInf(r, 0) {
				t.Fatalf("%s: channel %d: the error bound is vacuous; this case checks nothing", name, ch)
			}
		}
		wantStats, statBound := make([]float64, 4*l.c), make([]float64, 4*l.c)
		for ch := range l.c {
			wantStats[ch], statBound[ch] = ref.Mu.Data[ch], b.mean[ch]
			wantStats[l.c+ch], statBound[l.c+ch] = ref.Var.Data[ch], b.vr[ch]
			wantStats[2*l.c+ch], statBound[2*l.c+ch] = ref.Ivar.Data[ch], b.istd[ch]*ref.Ivar.Data[ch]
			gi := float64(gs[ch]) * ref.Ivar.Data[ch]
			wantStats[3*l.c+ch], statBound[3*l.c+ch] = gi, math.Abs(gi)*((1+b.istd[ch])*(1+u)-1)
		}
		checkBound(t, name+" stats (mean, var, istd, gamma*istd)", stats, wantStats, statBound)

		outBound, xhatWant := make([]float64, l.n()), make([]float64, l.n())
		for i := range outBound {
			ch, row := l.at(i)
			xh := math.Abs(ref.Xhat.Data[row])
			xhatWant[i] = ref.Xhat.Data[row]
			gm := math.Abs(float64(gs[ch]))
			outBound[i] = gm*b.xhat[i] + 2*u*(gm*(xh+b.xhat[i])+math.Abs(float64(bs[ch])))
		}
		ov := got[1]
		checkBound(t, name+" out", ov, want.Data, outBound)
		checkBound(t, name+" xhat", got[2], xhatWant, b.xhat)
		if train && l.m() == 1 {
			// One sample: zero variance, so core/nn outputs exactly beta.
			for i, v := range ov {
				ch, _ := l.at(i)
				if v != bs[ch] {
					t.Fatalf("%s: batch of one: out[%d] = %v, want beta %v exactly", name, i, v, bs[ch])
				}
			}
		}

		if train {
			for ch := range l.c {
				runMean[ch] = bnRunningBound(runMean[ch], prevMean.Data[ch], b.mean[ch], ref.Mu.Data[ch], p.Momentum)
				runVar[ch] = bnRunningBound(runVar[ch], prevVar.Data[ch], b.vr[ch], ref.Var.Data[ch], p.Momentum)
			}
		}
		if step == steps-1 {
			// Test mode left them alone; their error bounds carry
			// all three train steps.
			run, err := st.Read()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if run.Eps != p.Eps || run.Momentum != p.Momentum || run.Mode != nn.Test {
				t.Fatalf("%s: read back eps %v momentum %v mode %v", name, run.Eps, run.Momentum, run.Mode)
			}
			checkBound(t, name+" running mean", run.RunningMean.Float32(), p.RunningMean.Data, runMean)
			checkBound(t, name+" running var", run.RunningVar.Float32(), p.RunningVar.Data, runVar)
		}

		wdx, wdg, wdb := backward(bnpoolF64(t, douts, c.shape...))
		checkBNBackward(t, name, l, train, douts, gs, ref, b, br.chunkLen, wdx.Data, wdg.Data, wdb.Data, got[3], got[4], got[5])
		release(x, g, out, dx, dgamma, dbeta)
		cache.Release()
	}
}

// checkBNBackward bounds the gradients (see bnBounds for the forward
// errors they inherit):
//   - dbeta = sum dout and dgamma = sum dout*xhat are summed per chunk and
//     then across chunks by the same two-level scheme, depth
//     Dg = ceil(L/W) + 6 + ceil(K/W) + 6:
//     ddbeta = gamma_Dg sum|dout|,
//     ddgamma = gamma_{Dg+1} sum |dout| (|xhat| + dxhat) + sum |dout| dxhat.
//   - train: dx = s/m (m dout - dbeta - xhat dgamma) with s = gamma istd
//     (relative error rs = (1+ristd)(1+u) - 1): the bracket carries the
//     errors of dbeta, dgamma and xhat plus 4 roundings of its terms'
//     magnitudes, s/m a 5u division and the product one more rounding.
//   - test: dx = dout s, within |dout s| ((1+rs)(1+u) - 1).
func checkBNBackward(t *testing.T, name string, l bnLayout, train bool, douts, gs []float32, ref *nn.BatchnormCache, b bnBounds, chunkLen int,
	wdx, wdg, wdb []float64, dx, dg, db []float32) {
	t.Helper()
	m := l.m()
	ll := min(chunkLen, m)
	k := (m + ll - 1) / ll
	const w = bnReduceWG
	dg2 := (ll+w-1)/w + 6 + (k+w-1)/w + 6
	sumG, sumGX, sumGE := make([]float64, l.c), make([]float64, l.c), make([]float64, l.c)
	for i, g := range douts {
		ch, row := l.at(i)
		ag := math.Abs(float64(g))
		sumG[ch] += ag
		sumGX[ch] += ag * (math.Abs(ref.Xhat.Data[row]) + b.xhat[i])
		sumGE[ch] += ag * b.xhat[i]
	}
	bDB, bDG := make([]float64, l.c), make([]float64, l.c)
	for ch := range l.c {
		bDB[ch] = bnpoolGamma(dg2) * sumG[ch]
		bDG[ch] = bnpoolGamma(dg2+1)*sumGX[ch] + sumGE[ch]
	}
	checkBound(t, name+" dbeta", db, wdb, bDB)
	checkBound(t, name+" dgamma", dg, wdg, bDG)

	mf := float64(m)
	bDX := make([]float64, l.n())
	for i, g := range douts {
		ch, row := l.at(i)
		s := math.Abs(float64(gs[ch]) * ref.Ivar.Data[ch])
		rs := (1+b.istd[ch])*(1+u) - 1
		ag := math.Abs(float64(g))
		if !train {
			bDX[i] = ag * s * ((1+rs)*(1+u) - 1)
			continue
		}
		xh, exh := math.Abs(ref.Xhat.Data[row]), b.xhat[i]
		adg, adb := math.Abs(wdg[ch]), math.Abs(wdb[ch])
		inner := math.Abs(mf*float64(g) - wdb[ch] - ref.Xhat.Data[row]*wdg[ch])
		dInner := bDB[ch] + (xh+exh)*bDG[ch] + adg*exh +
			4*u*(mf*ag+adb+bDB[ch]+(xh+exh)*(adg+bDG[ch]))
		grow := (1+rs)*(1+5*u)*(1+u) - 1
		bDX[i] = s / mf * (inner*grow + dInner*(1+grow))
	}
	checkBound(t, name+" dx", dx, wdx, bDX)
}

// TestBatchnormVarianceIsStable: with x = randn + 1000, E[x²] - E[x]² in f32
// cancels about 6 of f32's 7 digits; the kernels' two-pass/Chan variance
// stays within the bound bnBounds derives. The check below confirms that
// this bound is tight enough to reject a one-pass variance, so the parity
// test's randn+1000 cases do test stability, for the chunkings used in
// practice (one workgroup per channel, bnChunk); the 7-sample chunks exist
// to exercise the merge code and merge too often for so tight a bound.
func TestBatchnormVarianceIsStable(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	const m = 8192
	xs := make([]float32, m)
	var exact float64
	for i := range xs {
		xs[i] = float32(r.NormFloat64() + 1000)
		exact += float64(xs[i])
	}
	mean := exact / m
	var v float64
	for _, x := range xs {
		v += (float64(x) - mean) * (float64(x) - mean)
	}
	v /= m
	// One-pass in f32 with pairwise sums, the most favourable order.
	sq := make([]float32, m)
	for i, x := range xs {
		sq[i] = float32(x * x)
	}
	m1, m2 := bnPairwiseF32(xs)/m, bnPairwiseF32(sq)/m
	onePass := float64(float32(m2 - float32(m1*m1)))
	l := bnLayout{m, 1, 1}
	x := bnpoolF64(t, xs, m, 1)
	_, ref, err := nn.BatchnormForward(x, bnpoolF64(t, []float32{1}, 1), bnpoolF64(t, []float32{0}, 1), nn.NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range bnChunkLens[:2] {
		b := bnForwardBounds(l, xs, ref, cl.len, nil, nil)
		if math.Abs(onePass-v) <= b.vr[0] {
			t.Errorf("%s: one-pass f32 variance %v is within the bound %v of %v: the test would not catch it", cl.name, onePass, b.vr[0], v)
		}
	}
}

func bnPairwiseF32(v []float32) float32 {
	if len(v) <= 2 {
		var s float32
		for _, x := range v {
			s += x
		}
		return s
	}
	h := len(v) / 2
	return bnPairwiseF32(v[:h]) + bnPairwiseF32(v[h:])
}

func TestBatchnormBadInput(t *testing.T) {
	d := device(t)
	x2 := upload(t, d, make([]float32, 12), 4, 3)
	x4 := upload(t, d, make([]float32, 2*3*2*2), 2, 3, 2, 2)
	x3 := upload(t, d, make([]float32, 24), 2, 3, 4)
	g3, g4 := upload(t, d, make([]float32, 3), 3), upload(t, d, make([]float32, 4), 4)
	defer release(x2, x4, x3, g3, g4)
	st, err := d.NewBatchnormState(nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Release()
	st4, err := d.NewBatchnormState(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer st4.Release()
	badEps := *st
	badEps.Eps = 0
	badMom := *st
	badMom.Momentum = 1.5
	aliased := *st
	aliased.RunningVar = st.RunningMean

	fwd := []struct {
		name              string
		spatial           bool
		x, gamma, beta    *Tensor
		st                *BatchnormState
		want, wantShapeIn string
	}{
		{"1-d with 4-d x", false, x4, g3, g3, st, "x must be (N, D)", "(2, 3, 2, 2)"},
		{"1-d with 3-d x", false, x3, g3, g3, st, "x must be (N, D)", "(2, 3, 4)"},
		{"spatial with 2-d x", true, x2, g3, g3, st, "x must be (N, C, H, W)", "(4, 3)"},
		{"gamma length", false, x2, g4, g3, st, "gamma must be (3,)", "(4, 3), (4,)"},
		{"beta length", true, x4, g3, g4, st, "beta must be (3,)", "(2, 3, 2, 2), (4,)"},
		{"running stats length", false, x2, g3, g3, st4, "running mean must be (3,)", "(4, 3), (4,)"},
		{"nil state", false, x2, g3, g3, nil, "state is nil", "(4, 3)"},
		{"eps 0", false, x2, g3, g3, &badEps, "eps", ""},
		{"momentum 1.5", false, x2, g3, g3, &badMom, "momentum", ""},
		{"aliased running stats", false, x2, g3, g3, &aliased, "same tensor", ""},
		{"nil gamma", false, x2, nil, g3, st, "nil", ""},
	}
	for _, c := range fwd {
		var err error
		op := "gpu.BatchnormForward"
		if c.spatial {
			op = "gpu.SpatialBatchnormForward"
			_, _, err = d.SpatialBatchnormForward(c.x, c.gamma, c.beta, c.st, true)
		} else {
			_, _, err = d.BatchnormForward(c.x, c.gamma, c.beta, c.st, true)
		}
		if err == nil || !strings.Contains(err.Error(), op) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.wantShapeIn) {
			t.Errorf("%s: err = %v, want a %s error with %q and shapes %q", c.name, err, op, c.want, c.wantShapeIn)
		}
	}

	for _, c := range []struct {
		name string
		p    *nn.BatchnormParam
		c    int
		want string
	}{
		{"no channels", nil, 0, "at least one channel"},
		{"running mean shape", &nn.BatchnormParam{Eps: 1e-5, Momentum: 0.9, RunningMean: bnpoolF64(t, []float32{0, 0}, 2)}, 3, "running mean must be (3,)"},
		{"negative running var", &nn.BatchnormParam{Eps: 1e-5, Momentum: 0.9, RunningVar: bnpoolF64(t, []float32{1, -1, 1}, 3)}, 3, "running var entry 1"},
		{"NaN running mean", &nn.BatchnormParam{Eps: 1e-5, Momentum: 0.9, RunningMean: bnpoolF64(t, []float32{0, 0, float32(math.NaN())}, 3)}, 3, "running mean entry 2"},
		{"negative eps", &nn.BatchnormParam{Eps: -1, Momentum: 0.9}, 3, "eps"},
	} {
		s, err := d.NewBatchnormState(c.p, c.c)
		if err == nil || !strings.Contains(err.Error(), "gpu.NewBatchnormState") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a gpu.NewBatchnormState error with %q", c.name, err, c.want)
		}
		s.Release()
	}

	out, cache, err := d.BatchnormForward(x2, g3, g3, st, true)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	for _, c := range []struct {
		name  string
		dout  *Tensor
		cache *BatchnormCache
		want  string
	}{
		{"dout shape", x4, cache, "(2, 3, 2, 2), (4, 3)"},
		{"nil cache", out, nil, "cache is nil"},
		{"empty cache", out, &BatchnormCache{}, "cache is nil"},
		{"nil dout", nil, cache, "nil"},
	} {
		_, _, _, err := d.BatchnormBackward(c.dout, c.cache)
		if err == nil || !strings.Contains(err.Error(), "gpu.BatchnormBackward") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a gpu.BatchnormBackward error with %q", c.name, err, c.want)
		}
	}
	cache.Release()
	if _, _, _, err := d.SpatialBatchnormBackward(out, cache); err == nil || !strings.Contains(err.Error(), "released") {
		t.Errorf("released cache: err = %v, want it to say the cache was released", err)
	}
}

// Reductions and element-wise passes fold 2-D grids back into channel and
// element indices. A device capped at 5 workgroups per dimension makes
// small shapes need grids from (5, 1) to (5, 5), so the folds run here and
// in the browser at no cost. (Real sizes past 65535 workgroups are left to
// this fold: lavapipe on a loaded machine was seen to return zeros or crash
// for dependent dispatches of ~60000 workgroups, whatever the kernel.)
func TestBatchnormGrid2D(t *testing.T) {
	device(t)
	d, err := Open(Options{MaxWorkgroupsPerDim: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(23, 23))
	for _, c := range []struct {
		bnCase
		spatial  bool
		chunkLen int
	}{
		{bnCase{[]int{5, 13}, 1, 0}, false, math.MaxInt32},       // 13 channels: (5, 3)
		{bnCase{[]int{40, 3}, 1, 0}, false, 7},                   // 3 x 6 chunks: (5, 4)
		{bnCase{[]int{2, 3, 5, 5}, 2, 1}, true, 7},               // 3 x 8 chunks: (5, 5)
		{bnCase{[]int{2, 4, 14, 14}, 1, 0}, true, math.MaxInt32}, // 1568 elements: (5, 2)
	} {
		l := newBNLayout(c.shape)
		runBNCase(t, d, r, bnRun{l: l, spatial: c.spatial, chunkLen: c.chunkLen, name: fmt.Sprintf("capped grid %v chunk %d", c.shape, min(c.chunkLen, l.m()))}, c.bnCase)
	}
}
