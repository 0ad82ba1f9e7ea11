package nn

import (
	"math"
	"testing"

	"gradlab/core/tensor"
)

// denseBNInput is x[i,j] = scale_j * randn + shift_j, with every feature on
// its own scale (1..5) and offset (-10..10) so per-feature bugs show.
func denseBNInput(t testing.TB, seed uint64, n, d int) *tensor.Tensor {
	r := tensor.NewRand(seed)
	x := denseRandn(t, r, n, d)
	scale := make([]float64, d)
	shift := make([]float64, d)
	for j := range scale {
		scale[j] = 1 + 4*r.Float64()
		shift[j] = -10 + 20*r.Float64()
	}
	for k := range x.Data {
		x.Data[k] = scale[k%d]*x.Data[k] + shift[k%d]
	}
	return x
}

// The notebook's forward check at N, D = 200, 150: after train-mode
// batchnorm each feature has mean beta and standard deviation gamma. The
// std falls short of gamma by the factor sqrt(var/(var+eps)) ≈ 1 - eps/(2var),
// under eps for these inputs (var ≥ ~1).
func TestBatchnormForwardTrainStatistics(t *testing.T) {
	const n, d = 200, 150
	x := denseBNInput(t, 10, n, d)
	r := tensor.NewRand(11)
	for _, tc := range []struct {
		name        string
		gamma, beta *tensor.Tensor
	}{
		{"gamma 1, beta 0", mustFull(t, 1, d), mustFull(t, 0, d)},
		{"random gamma, beta", denseUniform(t, r, 0.5, 3, d), denseUniform(t, r, -2, 2, d)},
	} {
		param := NewBatchnormParam()
		out, _, err := BatchnormForward(x, tc.gamma, tc.beta, param)
		if err != nil {
			t.Fatal(err)
		}
		mean, std := denseColumnStats(out.Data, n, d)
		for j := 0; j < d; j++ {
			if math.Abs(mean[j]-tc.beta.Data[j]) > 1e-12 {
				t.Errorf("%s: feature %d mean %v, want beta %v", tc.name, j, mean[j], tc.beta.Data[j])
			}
			if math.Abs(std[j]-tc.gamma.Data[j]) > param.Eps*tc.gamma.Data[j] {
				t.Errorf("%s: feature %d std %v, want gamma %v", tc.name, j, std[j], tc.gamma.Data[j])
			}
		}

		// One step from the course's zero running statistics with momentum
		// 0.9 leaves 0.1 of the batch's mean and biased variance.
		bm, bs := denseColumnStats(x.Data, n, d)
		for j := 0; j < d; j++ {
			if math.Abs(param.RunningMean.Data[j]-0.1*bm[j]) > 1e-12*math.Abs(bm[j]) {
				t.Errorf("%s: running mean[%d] = %v, want 0.1*%v", tc.name, j, param.RunningMean.Data[j], bm[j])
			}
			if v := bs[j] * bs[j]; math.Abs(param.RunningVar.Data[j]-0.1*v) > 1e-12*v {
				t.Errorf("%s: running var[%d] = %v, want 0.1*%v (biased)", tc.name, j, param.RunningVar.Data[j], v)
			}
		}
	}
}

// Momentum 1 freezes the running statistics; momentum 0 replaces them with
// the batch's. This pins down which side of the update momentum weighs.
func TestBatchnormMomentumEnds(t *testing.T) {
	const n, d = 30, 4
	x := denseBNInput(t, 12, n, d)
	gamma, beta := mustFull(t, 1, d), mustFull(t, 0, d)
	bm, bs := denseColumnStats(x.Data, n, d)

	frozen := NewBatchnormParam()
	frozen.Momentum = 1
	frozen.RunningMean = mustFull(t, 3, d)
	frozen.RunningVar = mustFull(t, 2, d)
	replaced := NewBatchnormParam()
	replaced.Momentum = 0
	for _, p := range []*BatchnormParam{frozen, replaced} {
		if _, _, err := BatchnormForward(x, gamma, beta, p); err != nil {
			t.Fatal(err)
		}
	}
	for j := 0; j < d; j++ {
		if frozen.RunningMean.Data[j] != 3 || frozen.RunningVar.Data[j] != 2 {
			t.Errorf("momentum 1 moved feature %d to (%v, %v)", j, frozen.RunningMean.Data[j], frozen.RunningVar.Data[j])
		}
		if math.Abs(replaced.RunningMean.Data[j]-bm[j]) > 1e-12*math.Abs(bm[j]) || math.Abs(replaced.RunningVar.Data[j]-bs[j]*bs[j]) > 1e-12*bs[j]*bs[j] {
			t.Errorf("momentum 0: feature %d running (%v, %v), want batch (%v, %v)", j,
				replaced.RunningMean.Data[j], replaced.RunningVar.Data[j], bm[j], bs[j]*bs[j])
		}
	}
}

// After many train steps on batches from one distribution the running
// statistics approach its true mean and variance, and test mode then
// normalises with them: per example, leaving the running statistics alone.
func TestBatchnormTestModeAfterTraining(t *testing.T) {
	const n, d, steps = 200, 50, 200
	r := tensor.NewRand(13)
	trueMean, trueStd := make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		trueMean[j] = -5 + 10*r.Float64()
		trueStd[j] = 1 + 3*r.Float64()
	}
	batch := func() *tensor.Tensor {
		x := denseRandn(t, r, n, d)
		for k := range x.Data {
			x.Data[k] = trueStd[k%d]*x.Data[k] + trueMean[k%d]
		}
		return x
	}
	gamma := denseUniform(t, r, 0.5, 2, d)
	beta := denseUniform(t, r, -1, 1, d)
	param := NewBatchnormParam()
	for s := 0; s < steps; s++ {
		if _, _, err := BatchnormForward(batch(), gamma, beta, param); err != nil {
			t.Fatal(err)
		}
	}

	// The running mean is an exponential average of batch means: its
	// standard deviation is std/sqrt(N) * sqrt((1-m)/(1+m)) ≈ 0.016 std, and
	// the biased batch variance's is var * sqrt(2/N) * 0.23 ≈ 0.023 var
	// (plus a bias of var/N). Six of those is a bound no correct run misses.
	spread := math.Sqrt((1 - param.Momentum) / (1 + param.Momentum))
	for j := 0; j < d; j++ {
		v := trueStd[j] * trueStd[j]
		if e := math.Abs(param.RunningMean.Data[j] - trueMean[j]); e > 6*trueStd[j]/math.Sqrt(n)*spread {
			t.Errorf("running mean[%d] = %v, true %v", j, param.RunningMean.Data[j], trueMean[j])
		}
		if e := math.Abs(param.RunningVar.Data[j] - v); e > 6*v*math.Sqrt(2.0/n)*spread+v/n {
			t.Errorf("running var[%d] = %v, true %v", j, param.RunningVar.Data[j], v)
		}
	}

	param.Mode = Test
	rm, rv := param.RunningMean.Clone(), param.RunningVar.Clone()
	x := batch()
	out, _, err := BatchnormForward(x, gamma, beta, param)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < d; j++ {
		if param.RunningMean.Data[j] != rm.Data[j] || param.RunningVar.Data[j] != rv.Data[j] {
			t.Fatalf("test mode changed the running statistics of feature %d", j)
		}
	}
	// With the running statistics near the truth, a fresh batch comes out
	// with mean ≈ beta and std ≈ gamma up to its own sampling noise.
	mean, std := denseColumnStats(out.Data, n, d)
	for j := 0; j < d; j++ {
		if math.Abs(mean[j]-beta.Data[j]) > 6*gamma.Data[j]/math.Sqrt(n) {
			t.Errorf("test mode: feature %d mean %v, want ≈ beta %v", j, mean[j], beta.Data[j])
		}
		if math.Abs(std[j]-gamma.Data[j]) > 6*gamma.Data[j]/math.Sqrt(2*n) {
			t.Errorf("test mode: feature %d std %v, want ≈ gamma %v", j, std[j], gamma.Data[j])
		}
	}
	// Test mode treats every example on its own: a batch of one row gives
	// that row's output from the full batch.
	row := denseFrom(t, append([]float64(nil), x.Data[7*d:8*d]...), 1, d)
	one, _, err := BatchnormForward(row, gamma, beta, param)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < d; j++ {
		if one.Data[j] != out.Data[7*d+j] {
			t.Fatalf("test mode: row 7 alone gives %v at feature %d, in the batch %v", one.Data[j], j, out.Data[7*d+j])
		}
	}
}

// With no running statistics at all, test mode uses the course's zeros:
// out = gamma * x / sqrt(eps) + beta.
func TestBatchnormTestModeFromZeros(t *testing.T) {
	x := denseFrom(t, []float64{1e-3, -2e-3, 4e-3, 0}, 2, 2)
	gamma := denseFrom(t, []float64{2, 3}, 2)
	beta := denseFrom(t, []float64{1, -1}, 2)
	param := NewBatchnormParam()
	param.Mode = Test
	out, _, err := BatchnormForward(x, gamma, beta, param)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range x.Data {
		want := gamma.Data[k%2]*v/math.Sqrt(param.Eps) + beta.Data[k%2]
		if math.Abs(out.Data[k]-want) > 1e-14*math.Abs(want) {
			t.Errorf("out[%d] = %v, want %v", k, out.Data[k], want)
		}
	}
	if param.RunningMean == nil || param.RunningVar == nil || param.RunningVar.Data[0] != 0 {
		t.Errorf("missing running statistics must be created as zeros, got %v %v", param.RunningMean, param.RunningVar)
	}
}

// The notebook's backward check: N, D = 4, 5, x = 5*randn + 12; relative
// errors between 1e-13 and 1e-8 for both the graph and the closed form.
func TestBatchnormBackwardNumerical(t *testing.T) {
	r := tensor.NewRand(14)
	x := denseRandn(t, r, 4, 5).Scale(5).AddScalar(12)
	gamma := denseRandn(t, r, 5)
	beta := denseRandn(t, r, 5)
	dout := denseRandn(t, r, 4, 5)
	f := func() (*tensor.Tensor, error) {
		out, _, err := BatchnormForward(x, gamma, beta, NewBatchnormParam())
		return out, err
	}
	wantDx := denseNumeric(t, f, x, dout)
	wantDgamma := denseNumeric(t, f, gamma, dout)
	wantDbeta := denseNumeric(t, f, beta, dout)

	for _, form := range denseBNBackwards {
		_, cache, err := BatchnormForward(x, gamma, beta, NewBatchnormParam())
		if err != nil {
			t.Fatal(err)
		}
		dx, dgamma, dbeta, err := form.backward(dout, cache)
		if err != nil {
			t.Fatal(err)
		}
		denseAssertRel(t, form.name+" dx", dx, wantDx, 1e-8)
		denseAssertRel(t, form.name+" dgamma", dgamma, wantDgamma, 1e-8)
		denseAssertRel(t, form.name+" dbeta", dbeta, wantDbeta, 1e-8)
	}
}

// In test mode mu and var are constants, so the gradient differs from train
// mode's; both forms must give it.
func TestBatchnormBackwardTestModeNumerical(t *testing.T) {
	r := tensor.NewRand(15)
	x := denseRandn(t, r, 6, 3).Scale(2).AddScalar(1)
	gamma := denseRandn(t, r, 3)
	beta := denseRandn(t, r, 3)
	dout := denseRandn(t, r, 6, 3)
	param := NewBatchnormParam()
	param.Mode = Test
	param.RunningMean = denseFrom(t, []float64{0.5, 1, 1.5}, 3)
	param.RunningVar = denseFrom(t, []float64{4, 3, 2}, 3)
	f := func() (*tensor.Tensor, error) {
		out, _, err := BatchnormForward(x, gamma, beta, param)
		return out, err
	}
	wantDx := denseNumeric(t, f, x, dout)
	wantDgamma := denseNumeric(t, f, gamma, dout)
	wantDbeta := denseNumeric(t, f, beta, dout)
	for _, form := range denseBNBackwards {
		_, cache, err := BatchnormForward(x, gamma, beta, param)
		if err != nil {
			t.Fatal(err)
		}
		dx, dgamma, dbeta, err := form.backward(dout, cache)
		if err != nil {
			t.Fatal(err)
		}
		denseAssertRel(t, form.name+" dx", dx, wantDx, 1e-8)
		denseAssertRel(t, form.name+" dgamma", dgamma, wantDgamma, 1e-8)
		denseAssertRel(t, form.name+" dbeta", dbeta, wantDbeta, 1e-8)
	}
}

// The notebook compares the two backward passes at N, D = 100, 500: the
// same numbers, up to the rounding of different summation orders.
func TestBatchnormBackwardAltMatchesGraph(t *testing.T) {
	r := tensor.NewRand(16)
	x := denseRandn(t, r, 100, 500).Scale(5).AddScalar(12)
	gamma := denseRandn(t, r, 500)
	beta := denseRandn(t, r, 500)
	dout := denseRandn(t, r, 100, 500)
	_, cache, err := BatchnormForward(x, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	dx1, dg1, db1, err := BatchnormBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	dx2, dg2, db2, err := BatchnormBackwardAlt(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	// Norm-wise the two agree to a few ulps of the largest entry.
	worst, largest := 0.0, 0.0
	for k := range dx1.Data {
		worst = math.Max(worst, math.Abs(dx1.Data[k]-dx2.Data[k]))
		largest = math.Max(largest, math.Abs(dx1.Data[k]))
	}
	if worst > 1e-14*largest {
		t.Errorf("dx: largest difference %.3g against largest entry %.3g", worst, largest)
	}
	// Element-wise, the course's rel_error is set by the entry with the most
	// cancellation in N·dout − Σdout − xhat·Σ(dout·xhat): in this draw an
	// entry of 2.5e-5 differs by 6e-17 (rel 1.1e-12) among 50000. Both sides
	// are right there; 1e-11 still fails any real disagreement by far.
	denseAssertRel(t, "dx", dx2, dx1, 1e-11)
	denseAssertRel(t, "dgamma", dg2, dg1, 1e-12)
	denseAssertRel(t, "dbeta", db2, db1, 1e-12)
}

func TestBatchnormBadInput(t *testing.T) {
	const fwd = "nn.BatchnormForward"
	r := tensor.NewRand(17)
	x := denseRandn(t, r, 4, 3)
	gamma, beta := denseRandn(t, r, 3), denseRandn(t, r, 3)
	cases := []struct {
		name           string
		x, gamma, beta *tensor.Tensor
		edit           func(p *BatchnormParam) *BatchnormParam
	}{
		{name: "nil x", gamma: gamma, beta: beta},
		{name: "nil gamma", x: x, beta: beta},
		{name: "nil beta", x: x, gamma: gamma},
		{name: "1-d x", x: denseRandn(t, r, 3), gamma: gamma, beta: beta},
		{name: "3-d x", x: denseRandn(t, r, 4, 3, 1), gamma: gamma, beta: beta},
		{name: "gamma length differs from D", x: x, gamma: denseRandn(t, r, 4), beta: beta},
		{name: "beta length differs from D", x: x, gamma: gamma, beta: denseRandn(t, r, 2)},
		{name: "2-d gamma", x: x, gamma: denseRandn(t, r, 1, 3), beta: beta},
		{name: "NaN in x", x: denseWithNaN(x, math.NaN()), gamma: gamma, beta: beta},
		{name: "NaN in gamma", x: x, gamma: denseWithNaN(gamma, math.NaN()), beta: beta},
		{name: "Inf in beta", x: x, gamma: gamma, beta: denseWithNaN(beta, math.Inf(1))},
		{name: "zero-size x", x: &tensor.Tensor{Shape: []int{0, 3}}, gamma: gamma, beta: beta},
		{name: "nil param", x: x, gamma: gamma, beta: beta, edit: func(*BatchnormParam) *BatchnormParam { return nil }},
		{name: "eps 0", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Eps = 0; return p }},
		{name: "eps negative", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Eps = -1e-5; return p }},
		{name: "eps NaN", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Eps = math.NaN(); return p }},
		{name: "momentum below 0", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Momentum = -0.1; return p }},
		{name: "momentum above 1", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Momentum = 1.1; return p }},
		{name: "momentum NaN", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Momentum = math.NaN(); return p }},
		{name: "unknown mode", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam { p.Mode = 7; return p }},
		{name: "running mean length differs from D", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam {
			p.RunningMean = denseRandn(t, r, 4)
			return p
		}},
		{name: "running var has NaN", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam {
			p.RunningVar = denseFrom(t, []float64{1, math.NaN(), 1}, 3)
			return p
		}},
		{name: "running var negative", x: x, gamma: gamma, beta: beta, edit: func(p *BatchnormParam) *BatchnormParam {
			p.RunningVar = denseFrom(t, []float64{1, -1, 1}, 3)
			return p
		}},
	}
	for _, c := range cases {
		p := NewBatchnormParam()
		if c.edit != nil {
			p = c.edit(p)
		}
		_, _, err := BatchnormForward(c.x, c.gamma, c.beta, p)
		denseWantErr(t, c.name, err, fwd)
	}

	_, cache, err := BatchnormForward(x, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range denseBNBackwards {
		_, _, _, err = form.backward(x, nil)
		denseWantErr(t, form.name+": nil cache", err, form.op)
		_, _, _, err = form.backward(x, &BatchnormCache{})
		denseWantErr(t, form.name+": empty cache", err, form.op)
		_, _, _, err = form.backward(nil, cache)
		denseWantErr(t, form.name+": nil dout", err, form.op)
		_, _, _, err = form.backward(denseRandn(t, r, 3, 4), cache)
		denseWantErr(t, form.name+": dout shape differs from x", err, form.op)
		_, _, _, err = form.backward(denseWithNaN(x, math.NaN()), cache)
		denseWantErr(t, form.name+": NaN in dout", err, form.op)
	}
}

// The notebook's speed comparison at N, D = 100, 500. Compare the two with
// go test -bench BatchnormBackward: the ratio, not the absolute time, is
// what carries over between machines.
func BenchmarkBatchnormBackwardGraph(b *testing.B) { denseBenchBN(b, BatchnormBackward) }

func BenchmarkBatchnormBackwardAlt(b *testing.B) { denseBenchBN(b, BatchnormBackwardAlt) }

func denseBenchBN(b *testing.B, backward func(*tensor.Tensor, *BatchnormCache) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, error)) {
	r := tensor.NewRand(18)
	x := denseRandn(b, r, 100, 500).Scale(5).AddScalar(12)
	gamma := denseRandn(b, r, 500)
	beta := denseRandn(b, r, 500)
	dout := denseRandn(b, r, 100, 500)
	_, cache, err := BatchnormForward(x, gamma, beta, NewBatchnormParam())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := backward(dout, cache); err != nil {
			b.Fatal(err)
		}
	}
}

var denseBNBackwards = []struct {
	name, op string
	backward func(*tensor.Tensor, *BatchnormCache) (*tensor.Tensor, *tensor.Tensor, *tensor.Tensor, error)
}{
	{"graph", "nn.BatchnormBackward", BatchnormBackward},
	{"alt", "nn.BatchnormBackwardAlt", BatchnormBackwardAlt},
}

func mustFull(t testing.TB, v float64, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.Full(v, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// denseUniform draws each element uniformly from [lo, hi).
func denseUniform(t testing.TB, r interface{ Float64() float64 }, lo, hi float64, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.New(shape...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		x.Data[i] = lo + (hi-lo)*r.Float64()
	}
	return x
}
