package hw

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// toyDropout is the hand derivation for one example (Sherman-Morrison on
// x x^T + e diag(x^2)): w_j = y / ((e + d) x_j) with e = p/(1-p).
func toyDropout(x []float64, y, p float64) []float64 {
	e := p / (1 - p)
	w := make([]float64, len(x))
	for j := range x {
		w[j] = y / ((e + float64(len(x))) * x[j])
	}
	return w
}

func TestOLSAndGDToy(t *testing.T) {
	w, err := OLSMinNorm(ToyX, ToyY)
	if err != nil {
		t.Fatal(err)
	}
	// x y / ||x||^2: the only solution in the row space of x.
	want := []float64{110.0 / 101, 11.0 / 101}
	for j := range w {
		if !near(w[j], want[j], 1e-14) {
			t.Fatalf("OLS %v, want %v", w, want)
		}
	}
	run, err := Train(TrainConfig{X: ToyX, Y: ToyY, Batch: 1, LR: 1e-3, Steps: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// GD from 0 stays on the line c*x; the residual contracts by
	// 1 - 2 lr ||x||^2 per step exactly.
	r := 11 * math.Pow(1-2e-3*101, 1000)
	for j, xj := range ToyX[0] {
		if wj := xj * (11 - r) / 101; !near(run.W[j], wj, 1e-13) {
			t.Errorf("GD w[%d] = %v, want %v", j, run.W[j], wj)
		}
	}
	// A tall full-rank X: the pseudo-inverse is the normal-equations solution.
	x, y, _ := randProblem(41, 8, 3)
	w, err = OLSMinNorm(x, y)
	if err != nil {
		t.Fatal(err)
	}
	wn, _, err := DropoutSolution(x, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := SolveDropoutRidge(x, y, 1-1e-15) // p = keep ~ 1: plain normal equations
	for j := range w {
		if !near(w[j], wn[j], 1e-10) || !near(w[j], s.WTikhonov[j], 1e-9) {
			t.Errorf("OLS %v, p=0 %v, normal equations %v", w, wn, s.WTikhonov)
		}
	}
}

func TestAugmentedToy(t *testing.T) {
	a, err := DropoutAugment(ToyX, ToyY, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[[2]float64]float64{}
	for i, r := range a.X {
		rows[[2]float64{r[0], r[1]}] += a.Weight[i]
		if a.Y[i] != 11 {
			t.Errorf("row %d target %v", i, a.Y[i])
		}
	}
	for _, r := range [][2]float64{{20, 2}, {0, 2}, {20, 0}, {0, 0}} {
		if rows[r] != 0.25 {
			t.Errorf("masked copy %v has weight %v, want 1/4", r, rows[r])
		}
	}
	for _, p := range []float64{0.1, 0.5, 0.7, 0.9} {
		a, err := DropoutAugment(ToyX, ToyY, p)
		if err != nil {
			t.Fatal(err)
		}
		wa, ua, err := a.LeastSquares()
		if err != nil {
			t.Fatal(err)
		}
		wc, uc, err := DropoutSolution(ToyX, ToyY, p)
		if err != nil {
			t.Fatal(err)
		}
		wt := toyDropout(ToyX[0], 11, p)
		for j := range wt {
			if !near(wa[j], wt[j], 1e-12*math.Abs(wt[j])+1e-14) || !near(wc[j], wt[j], 1e-12*math.Abs(wt[j])+1e-14) {
				t.Errorf("p=%v: augmented %v, normal equations %v, hand formula %v", p, wa, wc, wt)
			}
		}
		if !ua || !uc {
			t.Errorf("p=%v: solution should be unique", p)
		}
	}
	// Several examples: the augmented weighted LS is the expectation too.
	x, y, _ := randProblem(42, 3, 3)
	a, _ = DropoutAugment(x, y, 0.3)
	wa, _, _ := a.LeastSquares()
	wc, _, _ := DropoutSolution(x, y, 0.3)
	for j := range wa {
		if !near(wa[j], wc[j], 1e-11*(1+math.Abs(wc[j]))) {
			t.Errorf("3 examples: augmented %v, closed form %v", wa, wc)
		}
	}
}

func TestDropoutLimitAndJump(t *testing.T) {
	lim, err := DropoutLimit(ToyX, ToyY)
	if err != nil {
		t.Fatal(err)
	}
	if !near(lim[0], 0.55, 1e-14) || !near(lim[1], 5.5, 1e-13) {
		t.Fatalf("limit %v, want [0.55 5.5] (y/(d x_j))", lim)
	}
	ols, _ := OLSMinNorm(ToyX, ToyY)
	ps := []float64{0, 1e-2, 1e-4, 1e-6, 1e-8}
	sw, err := AnalyticSweep(ToyX, ToyY, ps)
	if err != nil {
		t.Fatal(err)
	}
	if sw[0].Unique || !near(sw[0].W[0], ols[0], 1e-14) || !near(sw[0].W[1], ols[1], 1e-14) {
		t.Errorf("p=0 gives %v (unique %v), want the minimum-norm %v", sw[0].W, sw[0].Unique, ols)
	}
	// w(p) - limit = O(p): each factor 100 in p must shrink the gap ~100x,
	// so the limit exists and is the sweep's.
	prev := math.Inf(1)
	for _, pt := range sw[1:] {
		gap := math.Hypot(pt.W[0]-lim[0], pt.W[1]-lim[1])
		if !pt.Unique || gap > 6*pt.P || gap > prev/50 {
			t.Errorf("p=%v: gap to the limit %v (previous %v)", pt.P, gap, prev)
		}
		prev = gap
	}
	// The jump: the limit is not the p = 0 answer.
	if jump := math.Hypot(lim[0]-ols[0], lim[1]-ols[1]); jump < 1 {
		t.Errorf("jump at p=0 only %v", jump)
	}
	// In the limit both features contribute equally: 10 w1 = w2 = y/2.
	c, _ := Contributions(ToyX[0], lim)
	if !near(c[0], 5.5, 1e-13) || !near(c[1], 5.5, 1e-13) {
		t.Errorf("contributions %v", c)
	}
	// General X: the limit is the minimum-||Gamma w|| solution, a second
	// route that the sweep at tiny p must agree with.
	x, y, _ := randProblem(43, 2, 4) // under-determined: 2 examples, 4 features
	lim, _ = DropoutLimit(x, y)
	w, _, _ := DropoutSolution(x, y, 1e-9)
	for j := range w {
		if !near(w[j], lim[j], 1e-6*(1+math.Abs(lim[j]))) {
			t.Errorf("general X: p=1e-9 %v, limit %v", w, lim)
		}
	}
}

// The expected end point of SGD with dropout equals gradient descent on the
// exact expected loss, because the loss is quadratic and each step's mask
// is independent of w. Checked at batch 1 and 1024 with a CI from M seeds.
func TestTrainMeanMatchesExpectedGD(t *testing.T) {
	const m = 30
	for _, c := range []struct {
		p     float64
		batch int
		steps int
	}{{0.5, 1, 800}, {0.5, 1024, 300}, {0.3, 64, 500}} {
		base := TrainConfig{X: ToyX, Y: ToyY, P: c.p, LR: 1e-3, Steps: c.steps}
		exp, err := Train(base)
		if err != nil {
			t.Fatal(err)
		}
		acc := make([]welford, 2)
		for s := 0; s < m; s++ {
			cfg := base
			cfg.Batch, cfg.Seed = c.batch, uint64(100+s)
			run, err := Train(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for j := range acc {
				acc[j].add(run.W[j])
			}
		}
		for j := range acc {
			if e := acc[j].estimate(); !e.Contains(exp.W[j], 4) {
				t.Errorf("%+v: mean w[%d] %v +- %v, expected-gradient GD %v", c, j, e.Mean, e.StdErr, exp.W[j])
			}
		}
	}
}

func TestExpectedGDConvergesToAnalytic(t *testing.T) {
	for _, p := range []float64{0.1, 0.5, 0.7} {
		run, err := Train(TrainConfig{X: ToyX, Y: ToyY, P: p, LR: 1e-3, Steps: 40000})
		if err != nil {
			t.Fatal(err)
		}
		w, _, _ := DropoutSolution(ToyX, ToyY, p)
		// Error contracts by rho = max|1 - lr*lambda| per step from ||w*||.
		e := p / (1 - p)
		h := [2][2]float64{{2 * 100 * (1 + e), 2 * 10}, {2 * 10, 2 * (1 + e)}}
		tr, det := h[0][0]+h[1][1], h[0][0]*h[1][1]-h[0][1]*h[1][0]
		lmin := tr/2 - math.Sqrt(tr*tr/4-det)
		bound := math.Hypot(w[0], w[1])*math.Pow(1-1e-3*lmin, 40000) + 1e-12
		if gap := math.Hypot(run.W[0]-w[0], run.W[1]-w[1]); gap > bound {
			t.Errorf("p=%v: gap %v > bound %v", p, gap, bound)
		}
	}
}

func TestLossCurveNoise(t *testing.T) {
	tail := func(batch int) float64 {
		run, err := Train(TrainConfig{X: ToyX, Y: ToyY, P: 0.5, Batch: batch, LR: 1e-3, Steps: 4000, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		var w welford
		for _, l := range run.Loss[2000:] {
			w.add(l)
		}
		e := w.estimate()
		return e.StdErr * math.Sqrt(float64(e.Samples))
	}
	// The batch loss is a mean of B draws: its spread falls like 1/sqrt(B),
	// so batch 1 should be ~32x noisier than batch 1024; demand 10x.
	if s1, s1024 := tail(1), tail(1024); s1 < 10*s1024 {
		t.Errorf("loss spread batch 1 %v, batch 1024 %v", s1, s1024)
	}
}

func TestAdamVsSGD(t *testing.T) {
	// p = 0: the solution set is a line. Adam's early steps move both
	// weights alike, so it lands on the line away from SGD's minimum-norm point.
	ad, err := Train(TrainConfig{X: ToyX, Y: ToyY, LR: 1e-2, Steps: 20000, Optimizer: Adam})
	if err != nil {
		t.Fatal(err)
	}
	ols, _ := OLSMinNorm(ToyX, ToyY)
	if res := 11 - 10*ad.W[0] - ad.W[1]; math.Abs(res) > 1e-3 {
		t.Errorf("Adam at p=0 did not fit: residual %v (w %v)", res, ad.W)
	}
	if d := math.Hypot(ad.W[0]-ols[0], ad.W[1]-ols[1]); d < 0.1 {
		t.Errorf("Adam at p=0 found the minimum-norm point %v too (%v)", ols, ad.W)
	}
	// p = 0.5: a strictly convex problem; Adam on the expected loss finds
	// the same unique minimiser. Strong convexity bounds the distance by
	// ||grad|| / lambda_min of the Hessian.
	ad, err = Train(TrainConfig{X: ToyX, Y: ToyY, P: 0.5, LR: 1e-2, Steps: 20000, Optimizer: Adam})
	if err != nil {
		t.Fatal(err)
	}
	w, _, _ := DropoutSolution(ToyX, ToyY, 0.5)
	h := [2][2]float64{{400, 20}, {20, 4}}
	g0 := h[0][0]*ad.W[0] + h[0][1]*ad.W[1] - 2*10*11
	g1 := h[1][0]*ad.W[0] + h[1][1]*ad.W[1] - 2*1*11
	tr, det := h[0][0]+h[1][1], h[0][0]*h[1][1]-h[0][1]*h[1][0]
	lmin := tr/2 - math.Sqrt(tr*tr/4-det)
	gap := math.Hypot(ad.W[0]-w[0], ad.W[1]-w[1])
	if gap > math.Hypot(g0, g1)/lmin*(1+1e-9)+1e-12 || gap > 1e-3 {
		t.Errorf("Adam at p=0.5: %v, analytic %v (gap %v)", ad.W, w, gap)
	}
}

func TestEmpiricalSweep(t *testing.T) {
	pts, err := EmpiricalSweep(TrainConfig{X: ToyX, Y: ToyY, Batch: 256, LR: 1e-3, Steps: 300, Seed: 1}, []float64{0, 0.3})
	if err != nil {
		t.Fatal(err)
	}
	ols, _ := OLSMinNorm(ToyX, ToyY)
	// p = 0 has no randomness: the run is plain GD, heading to the min-norm point.
	if p0 := pts[0]; !near(p0.Run.W[0], p0.ExpectedGD[0], 1e-12) || !near(p0.Analytic[0], ols[0], 1e-14) {
		t.Errorf("p=0: run %v, expected GD %v, analytic %v", p0.Run.W, p0.ExpectedGD, p0.Analytic)
	}
	if len(pts[1].Run.Path) != 301 || len(pts[1].Run.Loss) != 300 {
		t.Errorf("path %d loss %d", len(pts[1].Run.Path), len(pts[1].Run.Loss))
	}
}

func TestDropoutNotebookErrors(t *testing.T) {
	ok := TrainConfig{X: ToyX, Y: ToyY, Batch: 1, LR: 1e-3, Steps: 10}
	mod := func(f func(*TrainConfig)) TrainConfig { c := ok; f(&c); return c }
	bad := []func() error{
		func() error { _, err := OLSMinNorm(nil, nil); return err },
		func() error { _, err := OLSMinNorm(ToyX, []float64{1, 2}); return err },
		func() error { _, err := DropoutAugment(ToyX, ToyY, -0.1); return err },
		func() error { _, err := DropoutAugment(ToyX, ToyY, 1); return err },
		func() error { _, err := DropoutAugment([][]float64{make([]float64, 21)}, ToyY, 0.5); return err },
		func() error { _, _, err := (*AugmentedData)(nil).LeastSquares(); return err },
		func() error {
			_, _, err := (&AugmentedData{X: [][]float64{{1}}, Y: []float64{1}}).LeastSquares()
			return err
		},
		func() error {
			_, _, err := (&AugmentedData{X: [][]float64{{1}}, Y: []float64{1}, Weight: []float64{-1}}).LeastSquares()
			return err
		},
		func() error { _, _, err := DropoutSolution(ToyX, ToyY, math.NaN()); return err },
		func() error { _, err := DropoutLimit([][]float64{{1, 0}}, ToyY); return err },
		func() error { _, err := AnalyticSweep(ToyX, ToyY, nil); return err },
		func() error { _, err := AnalyticSweep(ToyX, ToyY, []float64{0.5, 2}); return err },
		func() error { _, err := Contributions([]float64{1}, []float64{1, 2}); return err },
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.LR = 0 })); return err },
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.Steps = 0 })); return err },
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.Batch = -1 })); return err },
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.P = 0.995 })); return err },
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.Optimizer = 7 })); return err },
		func() error {
			_, err := Train(mod(func(c *TrainConfig) { c.Optimizer, c.Beta1 = Adam, 1 }))
			return err
		},
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.X = nil })); return err },
		func() error { _, err := Train(mod(func(c *TrainConfig) { c.LR, c.Steps = 5, 200 })); return err }, // diverges
		func() error { _, err := EmpiricalSweep(ok, nil); return err },
		func() error { _, err := EmpiricalSweep(ok, []float64{0.1, -1}); return err },
	}
	for i, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", i)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
}
