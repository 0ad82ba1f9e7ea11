package exercise

import (
	"fmt"
	"math"

	"gradlab/core/gradcheck"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

const bnEps = 1e-5

// bnShapes are (N, D): a single sample (variance 0), D not a multiple of 4,
// and more features than one workgroup.
var bnShapes = [][2]int{{4, 5}, {1, 3}, {7, 6}, {3, 70}}

type bnAux struct {
	x, gamma, beta []float64
	n, d           int
}

func bnParam() *nn.BatchnormParam {
	p := nn.NewBatchnormParam()
	p.Mode = nn.Train
	return p
}

func bnCase(k int, s [2]int) (*Case, *nn.BatchnormCache) {
	n, d := s[0], s[1]
	x := randVals(uint64(300+k), n*d)
	for i := range x {
		x[i] = float64(float32(x[i]*1.5 + 0.7)) // a mean away from 0
	}
	gamma := randVals(uint64(310+k), d)
	beta := randVals(uint64(320+k), d)
	out, cache := must2(nn.BatchnormForward(tt(x, n, d), tt(gamma, d), tt(beta, d), bnParam()))
	c := &Case{
		Label:   fmt.Sprintf("N=%d, D=%d", n, d),
		Params:  []uint32{uint32(n), uint32(d), f32bits(bnEps)},
		Inputs:  [][]float64{x, gamma, beta},
		Want:    [][]float64{out.Data, cache.Mu.Data, cache.Var.Data},
		Threads: d,
		Aux:     &bnAux{x, gamma, beta, n, d},
	}
	return c, cache
}

// bnVariant is batchnorm forward over groups of x: group g holds the
// elements idx(g, 0..m-1) and has affine parameter index aff(g, j). The
// knobs make the known mistakes.
type bnKnobs struct {
	unbiased bool // divide the variance by m-1
	noAffine bool // forget gamma and beta
	eps      float64
}

func bnGroups(x, gamma, beta []float64, groups, m int, idx func(g, j int) int, aff func(g, j int) int, k bnKnobs) (out, mean, vr []float64) {
	out = make([]float64, len(x))
	mean, vr = make([]float64, groups), make([]float64, groups)
	for g := 0; g < groups; g++ {
		var s float64
		for j := 0; j < m; j++ {
			s += x[idx(g, j)]
		}
		mu := s / float64(m)
		var sq float64
		for j := 0; j < m; j++ {
			c := x[idx(g, j)] - mu
			sq += c * c
		}
		div := float64(m)
		if k.unbiased {
			div = float64(m - 1)
		}
		v := sq / div
		mean[g], vr[g] = mu, v
		for j := 0; j < m; j++ {
			i := idx(g, j)
			xh := (x[i] - mu) / math.Sqrt(v+k.eps)
			if k.noAffine {
				out[i] = xh
			} else {
				a := aff(g, j)
				out[i] = gamma[a]*xh + beta[a]
			}
		}
	}
	return out, mean, vr
}

func bnForwardVariant(c *Case, k bnKnobs) [][]float64 {
	a := c.Aux.(*bnAux)
	k.eps = bnEps
	out, mean, vr := bnGroups(a.x, a.gamma, a.beta, a.d, a.n, func(g, j int) int { return j*a.d + g }, func(g, j int) int { return g }, k)
	return [][]float64{out, mean, vr}
}

var _ = define(&Exercise{
	Slug:  "batchnorm-forward",
	Title: "Batch normalisation forward (train mode)",
	Task: []string{
		"x is (N, D) in row-major order: x[n * p.D + d]. For each feature d, compute the batch mean and the (biased) batch variance over the N samples, normalise, then scale by gamma[d] and shift by beta[d]: out = gamma * (x - mean) / sqrt(var + eps) + beta.",
		"Also write mean[d] and var_out[d] (the statistics the backward pass and the running averages need). Use the biased variance: divide by N, as the course's batchnorm_forward and PyTorch's training mode do.",
	},
	Threads:  "one invocation per feature d (p.D invocations), each looping over the batch",
	Skeleton: skeleton("let d = i; compute the mean and variance of column d over the batch,\nthen write out, mean[d] and var_out[d]."),
	Hints: []string{
		"Element (n, d) is x[n * p.D + d]: the batch axis is n, the one you sum over.",
		"Two passes are clearest: first the mean, then the sum of squared deviations from it.",
		"The variance is biased: divide the sum of squares by N, not N-1 (with N = 1 the unbiased one would divide by 0).",
		"f32(p.N) converts the count for the division; eps goes inside the square root.",
	},
	Threshold:     1e-4,
	ThresholdNote: "Means and variances are f32 sums of N terms (error about N·6e-8 relative); course float64 expectation ~1e-7 or better.",
	cases: func() []*Case {
		var cs []*Case
		for k, s := range bnShapes {
			c, _ := bnCase(k, s)
			cs = append(cs, c)
		}
		return cs
	},
	mistakes: []Mistake{
		{"You used the unbiased variance (divided by N-1): batchnorm uses the biased variance, dividing by N.", func(c *Case) [][]float64 {
			if c.Aux.(*bnAux).n < 2 {
				return nil
			}
			return bnForwardVariant(c, bnKnobs{unbiased: true})
		}},
		{"You normalised over the wrong axis: each row (sample) across its features. Batchnorm averages each feature (column d) over the batch, axis 0.", func(c *Case) [][]float64 {
			a := c.Aux.(*bnAux)
			out, _, _ := bnGroups(a.x, a.gamma, a.beta, a.n, a.d, func(g, j int) int { return g*a.d + j }, func(g, j int) int { return j }, bnKnobs{eps: bnEps})
			return [][]float64{out, nil, nil} // its statistics have another shape
		}},
		{"gamma and beta were not applied: out = gamma * xhat + beta.", func(c *Case) [][]float64 { return bnForwardVariant(c, bnKnobs{noAffine: true}) }},
	},
}, []string{"N: u32", "D: u32", "eps: f32"}, []binding{
	{"x", false, "(N, D)"}, {"gamma", false, "(D)"}, {"beta", false, "(D)"},
	{"out", true, "(N, D)"}, {"mean", true, "(D) batch mean"}, {"var_out", true, "(D) biased batch variance"},
}, "")

type bnBackAux struct {
	bnAux
	dout  []float64
	cache *nn.BatchnormCache
}

var _ = define(&Exercise{
	Slug:  "batchnorm-backward",
	Title: "Batch normalisation backward",
	Task: []string{
		"Given dout (N, D), the forward input x, gamma, and the batch statistics (stats[d] is the mean of feature d, stats[p.D + d] its biased variance), compute dx (N, D), dgamma (D) and dbeta (D).",
		"With xhat = (x - mean) / sqrt(var + eps): dbeta = Σn dout, dgamma = Σn dout · xhat, and dx = gamma / sqrt(var + eps) / N · (N · dout − dbeta − xhat · dgamma). Derive it on paper first (the course's closed form); the mean and the variance depend on x too.",
	},
	Threads:  "one invocation per feature d, each looping over the batch",
	Skeleton: skeleton("let d = i; sum dbeta and dgamma over the batch,\nthen write dx for column d."),
	Hints: []string{
		"Everything for feature d sits in column d: x[n * p.D + d], dout[n * p.D + d].",
		"Compute dbeta and dgamma first (one loop over n); dx needs both.",
		"If dx ignores the paths through the mean and variance you get gamma * dout / sqrt(var + eps), which is wrong.",
	},
	Threshold:     1e-3,
	ThresholdNote: "dx subtracts sums of similar size (cancellation), so f32 loses more; course float64 expectation ~1e-9 (rel_error).",
	GradThreshold: 1e-3,
	cases: func() []*Case {
		var cs []*Case
		for k, s := range bnShapes {
			c, cache := bnCase(k, s)
			a := c.Aux.(*bnAux)
			dout := randVals(uint64(330+k), a.n*a.d)
			dx, dg, db := must3(nn.BatchnormBackward(tt(dout, a.n, a.d), cache))
			stats := roundF32(append(append([]float64(nil), cache.Mu.Data...), cache.Var.Data...))
			c.Inputs = [][]float64{dout, a.x, a.gamma, stats}
			c.Want = [][]float64{dx.Data, dg.Data, db.Data}
			c.Aux = &bnBackAux{*a, dout, cache}
			cs = append(cs, c)
		}
		return cs
	},
	numeric: func(c *Case) ([][]float64, error) {
		a := c.Aux.(*bnBackAux)
		x := tt(append([]float64(nil), a.x...), a.n, a.d)
		g := tt(append([]float64(nil), a.gamma...), a.d)
		b := tt(append([]float64(nil), a.beta...), a.d)
		dout := tt(a.dout, a.n, a.d)
		f := func() (*tensor.Tensor, error) {
			out, _, err := nn.BatchnormForward(x, g, b, bnParam())
			return out, err
		}
		var res [][]float64
		for _, in := range []*tensor.Tensor{x, g, b} {
			num, err := gradcheck.NumericalArray(f, in, dout, gradcheck.H)
			if err != nil {
				return nil, err
			}
			res = append(res, num.Data)
		}
		return res, nil
	},
	mistakes: []Mistake{
		{"dx treats the mean and variance as constants (dx = gamma·dout/sqrt(var+eps)): x also moves the batch statistics, add those terms.", func(c *Case) [][]float64 {
			return bnBackVariant(c, func(dout, xhat, db, dg, gamma, istd, n float64) float64 { return gamma * istd * dout })
		}},
		{"dx is missing the factor gamma.", func(c *Case) [][]float64 {
			return bnBackVariant(c, func(dout, xhat, db, dg, gamma, istd, n float64) float64 {
				return istd / n * (n*dout - db - xhat*dg)
			})
		}},
		{"You summed dgamma/dbeta over the wrong axis (over the features of a sample instead of over the batch for each feature).", func(c *Case) [][]float64 {
			a := c.Aux.(*bnBackAux)
			dg, db := make([]float64, a.d), make([]float64, a.d)
			for j := 0; j < a.d && j < a.n; j++ {
				for k := 0; k < a.d; k++ {
					i := j*a.d + k
					xh := (a.x[i] - a.cache.Mu.Data[k]) / math.Sqrt(a.cache.Var.Data[k]+bnEps)
					db[j] += a.dout[i]
					dg[j] += a.dout[i] * xh
				}
			}
			return [][]float64{nil, dg, db}
		}},
	},
}, []string{"N: u32", "D: u32", "eps: f32"}, []binding{
	{"dout", false, "(N, D)"}, {"x", false, "(N, D) forward input"}, {"gamma", false, "(D)"}, {"stats", false, "(2D): mean[0..D), then var[D..2D)"},
	{"dx", true, "(N, D)"}, {"dgamma", true, "(D)"}, {"dbeta", true, "(D)"},
}, "")

func must3[A, B, C any](a A, b B, c C, err error) (A, B, C) {
	if err != nil {
		panic(err)
	}
	return a, b, c
}

// bnBackVariant recomputes the backward pass with dx from f (nil: the
// right formula).
func bnBackVariant(c *Case, f func(dout, xhat, db, dg, gamma, istd, n float64) float64) [][]float64 {
	a := c.Aux.(*bnBackAux)
	if f == nil {
		f = func(dout, xhat, db, dg, gamma, istd, n float64) float64 {
			return gamma * istd / n * (n*dout - db - xhat*dg)
		}
	}
	dx := make([]float64, a.n*a.d)
	dg, db := make([]float64, a.d), make([]float64, a.d)
	for d := 0; d < a.d; d++ {
		istd := 1 / math.Sqrt(a.cache.Var.Data[d]+bnEps)
		for n := 0; n < a.n; n++ {
			i := n*a.d + d
			db[d] += a.dout[i]
			dg[d] += a.dout[i] * (a.x[i] - a.cache.Mu.Data[d]) * istd
		}
		for n := 0; n < a.n; n++ {
			i := n*a.d + d
			dx[i] = f(a.dout[i], (a.x[i]-a.cache.Mu.Data[d])*istd, db[d], dg[d], a.gamma[d], istd, float64(a.n))
		}
	}
	return [][]float64{dx, dg, db}
}

// Spatial batchnorm: (N, C, H, W), statistics per channel over N, H, W.
var sbnShapes = [][4]int{{2, 3, 4, 5}, {1, 5, 3, 3}, {3, 7, 2, 1}}

type sbnAux struct {
	x, gamma, beta []float64
	n, c, h, w     int
}

func sbnVariant(cs *Case, perImage bool, k bnKnobs) [][]float64 {
	a := cs.Aux.(*sbnAux)
	hw := a.h * a.w
	k.eps = bnEps
	if perImage {
		out, _, _ := bnGroups(a.x, a.gamma, a.beta, a.n*a.c, hw, func(g, j int) int { return g*hw + j }, func(g, j int) int { return g % a.c }, k)
		return [][]float64{out, nil, nil}
	}
	out, mean, vr := bnGroups(a.x, a.gamma, a.beta, a.c, a.n*hw, func(g, j int) int { return (j/hw*a.c+g)*hw + j%hw }, func(g, j int) int { return g }, k)
	return [][]float64{out, mean, vr}
}

var _ = define(&Exercise{
	Slug:  "spatial-batchnorm-forward",
	Title: "Spatial batch normalisation forward (train mode)",
	Task: []string{
		"x is (N, C, H, W): x[((n * p.C + c) * p.H + h) * p.W + w]. Spatial batchnorm normalises each channel c over the batch and all positions together (N·H·W values), then applies gamma[c] and beta[c].",
		"Write out, and mean[c] and var_out[c] (biased: divide by N·H·W).",
	},
	Threads:  "one invocation per channel c",
	Skeleton: skeleton("let c = i; average channel c over n, h and w, then normalise it."),
	Hints: []string{
		"Channel c of image n is the contiguous run of H·W values starting at (n * p.C + c) * p.H * p.W.",
		"The statistics cover every image: loop over n outside and over the H·W positions inside.",
		"It is ordinary batchnorm with N·H·W samples of C features; normalising each image's channel on its own is a different layer (instance norm).",
	},
	Threshold:     1e-4,
	ThresholdNote: "f32 sums of N·H·W terms; course float64 expectation ~1e-7.",
	cases: func() []*Case {
		var cs []*Case
		for k, s := range sbnShapes {
			n, c, h, w := s[0], s[1], s[2], s[3]
			x := randVals(uint64(400+k), n*c*h*w)
			for i := range x {
				x[i] = float64(float32(x[i]*2 - 0.5))
			}
			gamma, beta := randVals(uint64(410+k), c), randVals(uint64(420+k), c)
			out, cache := must2(nn.SpatialBatchnormForward(tt(x, n, c, h, w), tt(gamma, c), tt(beta, c), bnParam()))
			cs = append(cs, &Case{
				Label:   fmt.Sprintf("N=%d, C=%d, H=%d, W=%d", n, c, h, w),
				Params:  []uint32{uint32(n), uint32(c), uint32(h), uint32(w), f32bits(bnEps)},
				Inputs:  [][]float64{x, gamma, beta},
				Want:    [][]float64{out.Data, cache.BN.Mu.Data, cache.BN.Var.Data},
				Threads: c,
				Aux:     &sbnAux{x, gamma, beta, n, c, h, w},
			})
		}
		return cs
	},
	mistakes: []Mistake{
		{"You normalised each image's channel on its own (statistics over H and W only): spatial batchnorm averages over N, H and W together.", func(c *Case) [][]float64 {
			if c.Aux.(*sbnAux).n < 2 {
				return nil
			}
			return sbnVariant(c, true, bnKnobs{})
		}},
		{"You used the unbiased variance (divided by N·H·W − 1): batchnorm divides by N·H·W.", func(c *Case) [][]float64 { return sbnVariant(c, false, bnKnobs{unbiased: true}) }},
		{"gamma and beta were not applied: out = gamma[c] * xhat + beta[c].", func(c *Case) [][]float64 { return sbnVariant(c, false, bnKnobs{noAffine: true}) }},
	},
}, []string{"N: u32", "C: u32", "H: u32", "W: u32", "eps: f32"}, []binding{
	{"x", false, "(N, C, H, W)"}, {"gamma", false, "(C)"}, {"beta", false, "(C)"},
	{"out", true, "(N, C, H, W)"}, {"mean", true, "(C)"}, {"var_out", true, "(C) biased"},
}, "")
