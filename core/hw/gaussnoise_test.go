package hw

import (
	"math"
	"testing"
)

func TestGaussNoiseMonteCarlo(t *testing.T) {
	x, y, w := randProblem(31, 15, 4)
	for _, c := range []struct{ mu, sigma float64 }{{1, 0.5}, {0.7, 1.3}, {0, 2}, {-1.5, 0.2}} {
		cf, err := GaussNoiseExpectedLoss(x, y, w, c.mu, c.sigma)
		if err != nil {
			t.Fatal(err)
		}
		est, err := GaussNoiseMonteCarlo(x, y, w, c.mu, c.sigma, 40000, 8)
		if err != nil {
			t.Fatal(err)
		}
		if !est.Contains(cf.Total, 4) {
			t.Errorf("%+v: Monte Carlo %v +- %v vs closed form %v", c, est.Mean, est.StdErr, cf.Total)
		}
		if cf.A != c.mu || cf.B != c.sigma*c.sigma {
			t.Errorf("%+v: A=%v B=%v", c, cf.A, cf.B)
		}
	}
}

// The answer is found, not asserted: of the 36 option pairs only one lies
// inside the Monte-Carlo confidence interval, and it is GaussAnswer's.
func TestGaussChoicesIdentified(t *testing.T) {
	x, y, w := randProblem(32, 10, 3)
	mu, sigma := 0.7, 1.3
	est, err := GaussNoiseMonteCarlo(x, y, w, mu, sigma, 100000, 9)
	if err != nil {
		t.Fatal(err)
	}
	var hits [][2]int
	for a := range GaussChoicesA {
		for b := range GaussChoicesB {
			v, err := CandidateLoss(x, y, w, mu, sigma, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if est.Contains(v, 4) {
				hits = append(hits, [2]int{a, b})
			}
		}
	}
	wa, wb := GaussAnswer()
	if len(hits) != 1 || hits[0] != [2]int{wa, wb} {
		t.Fatalf("options within the CI: %v, want only (%d, %d)", hits, wa, wb)
	}
}

// sigma = 0 makes R the constant mu: every draw is the same loss.
func TestGaussNoiseZeroSigma(t *testing.T) {
	x, y, w := randProblem(33, 5, 3)
	cf, err := GaussNoiseExpectedLoss(x, y, w, 0.8, 0)
	if err != nil {
		t.Fatal(err)
	}
	est, err := GaussNoiseMonteCarlo(x, y, w, 0.8, 0, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(est.Mean-cf.Total) > 1e-12*cf.Total || est.StdErr > 1e-12*cf.Total {
		t.Fatalf("sigma=0: %+v vs %v", est, cf.Total)
	}
}

func TestGaussNoiseErrors(t *testing.T) {
	x, y, w := randProblem(1, 3, 2)
	bad := []func() error{
		func() error { _, err := GaussNoiseExpectedLoss(x, y, w, 1, -0.1); return err },
		func() error { _, err := GaussNoiseExpectedLoss(x, y, w, math.NaN(), 1); return err },
		func() error { _, err := GaussNoiseExpectedLoss(x, y, w, 1, math.Inf(1)); return err },
		func() error { _, err := GaussNoiseExpectedLoss(x, y, w, 1e7, 1); return err },
		func() error { _, err := GaussNoiseExpectedLoss(x, y, w, 1, 1e7); return err },
		func() error { _, err := GaussNoiseExpectedLoss(x, y, nil, 1, 1); return err },
		func() error { _, err := GaussNoiseExpectedLoss(x, y[:1], w, 1, 1); return err },
		func() error { _, err := GaussNoiseMonteCarlo(x, y, w, 1, -1, 100, 1); return err },
		func() error { _, err := GaussNoiseMonteCarlo(x, y, w, 1, 1, 0, 1); return err },
		func() error { _, err := CandidateLoss(x, y, w, 1, 1, 6, 0); return err },
		func() error { _, err := CandidateLoss(x, y, w, 1, 1, 0, -1); return err },
		func() error { _, err := CandidateLoss(x, y, w, 1, -1, 0, 0); return err },
	}
	for i, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", i)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
	if len(GaussNoiseDerivation()) < 5 {
		t.Error("derivation too short")
	}
}
