package hw

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func randProblem(seed uint64, n, d int) ([][]float64, []float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 99))
	x := make([][]float64, n)
	for i := range x {
		x[i] = randSlice(r, d)
		for j := range x[i] {
			x[i][j] *= float64(j + 1) // unequal column norms, so Gamma matters
		}
	}
	return x, randSlice(r, n), randSlice(r, d)
}

// exactMaskExpectation enumerates every mask R in {0,1}^(n x d) with its
// probability: an independent route to E||y - (R.*X) w||^2.
func exactMaskExpectation(x [][]float64, y, w []float64, p float64) float64 {
	n, d := len(x), len(w)
	total := 0.0
	for mask := 0; mask < 1<<(n*d); mask++ {
		prob, loss := 1.0, 0.0
		for i := 0; i < n; i++ {
			pred := 0.0
			for j := 0; j < d; j++ {
				if mask>>(i*d+j)&1 == 1 {
					prob *= p
					pred += x[i][j] * w[j]
				} else {
					prob *= 1 - p
				}
			}
			loss += (y[i] - pred) * (y[i] - pred)
		}
		total += prob * loss
	}
	return total
}

func TestDropoutLossExactEnumeration(t *testing.T) {
	for _, p := range []float64{0, 0.2, 0.5, 0.9, 1} {
		x, y, w := randProblem(5, 3, 4)
		got, err := DropoutExpectedLoss(x, y, w, p)
		if err != nil {
			t.Fatal(err)
		}
		want := exactMaskExpectation(x, y, w, p)
		if math.Abs(got.Total-want) > 1e-12*want {
			t.Errorf("p=%v: closed form %v, enumeration %v", p, got.Total, want)
		}
	}
}

func TestDropoutLossMonteCarlo(t *testing.T) {
	x, y, w := randProblem(11, 20, 5)
	for _, p := range []float64{0.3, 0.5, 0.8} {
		cf, err := DropoutExpectedLoss(x, y, w, p)
		if err != nil {
			t.Fatal(err)
		}
		est, err := DropoutMonteCarlo(x, y, w, p, 40000, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !est.Contains(cf.Total, 4) {
			t.Errorf("p=%v: Monte Carlo %v +- %v does not contain closed form %v", p, est.Mean, est.StdErr, cf.Total)
		}
		// The check has power: the slips "no variance term" and "p instead
		// of p(1-p)" are both rejected.
		for _, wrong := range []float64{cf.Fit, cf.Fit + cf.Penalty/(1-p)} {
			if est.Contains(wrong, 4) {
				t.Errorf("p=%v: Monte Carlo cannot tell %v from the wrong %v", p, cf.Total, wrong)
			}
		}
	}
}

// lossAt evaluates (4) for the finite-difference check of the minimiser.
func lossAt(t *testing.T, x [][]float64, y, w []float64, p float64) float64 {
	l, err := DropoutExpectedLoss(x, y, w, p)
	if err != nil {
		t.Fatal(err)
	}
	return l.Total
}

func TestSolveDropoutRidge(t *testing.T) {
	x, y, _ := randProblem(21, 12, 4)
	for _, p := range []float64{0.1, 0.5, 0.95} {
		s, err := SolveDropoutRidge(x, y, p)
		if err != nil {
			t.Fatal(err)
		}
		// WDropout is a stationary point of (4): central differences of the
		// closed-form loss (exact for a quadratic up to rounding) vanish.
		scale := lossAt(t, x, y, s.WDropout, p)
		for j := range s.WDropout {
			h := 1e-4
			wp := append([]float64(nil), s.WDropout...)
			wm := append([]float64(nil), s.WDropout...)
			wp[j] += h
			wm[j] -= h
			g := (lossAt(t, x, y, wp, p) - lossAt(t, x, y, wm, p)) / (2 * h)
			if math.Abs(g) > 1e-7*scale {
				t.Errorf("p=%v: d(4)/dw_%d = %v at the solution", p, j, g)
			}
		}
		for j := range s.WRescaled {
			if math.Abs(s.WRescaled[j]-s.WTikhonov[j]) > 1e-10*(1+math.Abs(s.WTikhonov[j])) {
				t.Errorf("p=%v: p*w~ = %v, Tikhonov = %v", p, s.WRescaled, s.WTikhonov)
			}
			if v := s.VRidge[j] / s.Gamma[j]; math.Abs(v-s.WTikhonov[j]) > 1e-10*(1+math.Abs(v)) {
				t.Errorf("p=%v: ridge in X~ gives w = %v, Tikhonov %v", p, v, s.WTikhonov[j])
			}
			if math.Abs(s.XTildeNorms[j]-1) > 1e-14 {
				t.Errorf("p=%v: column %d of X~ has norm %v", p, j, s.XTildeNorms[j])
			}
		}
		if math.Abs(s.Lambda-(1-p)/p) > 1e-15 {
			t.Errorf("lambda %v", s.Lambda)
		}
	}
}

func TestChangeOfVariablesEqualNorms(t *testing.T) {
	x, _, _ := randProblem(4, 6, 3)
	g := columnNorms(mustDense(t, x))
	for j := range g {
		g[j] *= 2.5 // proportional, not equal: norms become 1/2.5
	}
	xt, err := ChangeOfVariables(x, g)
	if err != nil {
		t.Fatal(err)
	}
	for j, nrm := range columnNorms(mustDense(t, xt)) {
		if math.Abs(nrm-1/2.5) > 1e-14 {
			t.Errorf("column %d norm %v, want 0.4", j, nrm)
		}
	}
}

func mustDense(t *testing.T, x [][]float64) *mat.Dense {
	d, err := denseOf("test", "X", x)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTikhonovErrors(t *testing.T) {
	x, y, w := randProblem(1, 3, 2)
	zeroCol := [][]float64{{1, 0}, {2, 0}, {3, 0}}
	bad := []func() error{
		func() error { _, err := DropoutExpectedLoss(x, y, w, -0.1); return err },
		func() error { _, err := DropoutExpectedLoss(x, y, w, 1.5); return err },
		func() error { _, err := DropoutExpectedLoss(x, y, w, math.NaN()); return err },
		func() error { _, err := DropoutExpectedLoss(nil, y, w, 0.5); return err },
		func() error { _, err := DropoutExpectedLoss(x, y[:2], w, 0.5); return err },
		func() error { _, err := DropoutExpectedLoss(x, y, w[:1], 0.5); return err },
		func() error { _, err := DropoutExpectedLoss(x, y, nil, 0.5); return err },
		func() error { _, err := DropoutExpectedLoss([][]float64{{1, 2}, {3}, {4, 5}}, y, w, 0.5); return err },
		func() error { _, err := DropoutExpectedLoss(x, []float64{1, math.Inf(1), 2}, w, 0.5); return err },
		func() error { _, err := DropoutMonteCarlo(x, y, w, 0.5, 1, 1); return err },
		func() error { _, err := DropoutMonteCarlo(x, y, w, 0.5, maxSamples+1, 1); return err },
		func() error { _, err := DropoutMonteCarlo(x, y, nil, 0.5, 10, 1); return err },
		func() error { _, err := SolveDropoutRidge(x, y, 0); return err },
		func() error { _, err := SolveDropoutRidge(x, y, 1); return err },
		func() error { _, err := SolveDropoutRidge(zeroCol, y, 0.5); return err },
		func() error { _, err := ChangeOfVariables(x, []float64{1, 0}); return err },
		func() error { _, err := ChangeOfVariables(x, []float64{1}); return err },
	}
	for i, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", i)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
}

func TestDropoutDerivationNonEmpty(t *testing.T) {
	steps := DropoutDerivation()
	if len(steps) < 6 {
		t.Fatalf("%d steps", len(steps))
	}
	for i, s := range steps {
		if s.Text == "" || s.Math == "" {
			t.Errorf("step %d incomplete: %+v", i, s)
		}
	}
}
