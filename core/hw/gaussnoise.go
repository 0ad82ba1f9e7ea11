package hw

import (
	"math/rand/v2"
)

// Problem 3: R_ij ~ N(mu, sigma^2) multiplies each feature. The expected loss
// is ||y - mu X w||^2 + sigma^2 ||Gamma w||^2, Gamma = diag(X^T X)^(1/2):
// (A) = mu and (B) = sigma^2.

// maxNoiseParam bounds |mu| and sigma: beyond it the squared loss of any
// sensible data overflows or loses all its digits to the mean term.
const maxNoiseParam = 1e6

// GaussNoiseLoss is the closed form split into its terms.
type GaussNoiseLoss struct {
	A, B    float64   // the coefficients: A = mu, B = sigma^2
	Fit     float64   // ||y - A X w||^2
	Penalty float64   // B ||Gamma w||^2
	Total   float64   // E_R ||y - (R.*X) w||^2
	Gamma   []float64 // column norms of X
}

func checkNoise(op string, mu, sigma float64) error {
	if !finite(mu) || !finite(sigma) {
		return errf(op, "mu = %v and sigma = %v must be finite", mu, sigma)
	}
	if sigma < 0 {
		return errf(op, "sigma = %v must be >= 0 (it is a standard deviation)", sigma)
	}
	if sigma > maxNoiseParam || mu > maxNoiseParam || mu < -maxNoiseParam {
		return errf(op, "|mu| = %v and sigma = %v must be at most %g", mu, sigma, float64(maxNoiseParam))
	}
	return nil
}

// GaussNoiseExpectedLoss is the closed form of problem 3.
func GaussNoiseExpectedLoss(x [][]float64, y, w []float64, mu, sigma float64) (GaussNoiseLoss, error) {
	const op = "hw.GaussNoiseExpectedLoss"
	if err := checkNoise(op, mu, sigma); err != nil {
		return GaussNoiseLoss{}, err
	}
	if w == nil {
		return GaussNoiseLoss{}, errf(op, "w is empty")
	}
	pr, err := validate(op, x, y, w)
	if err != nil {
		return GaussNoiseLoss{}, err
	}
	fit, pen, g := multiplicativeLoss(pr, mu, sigma*sigma)
	return GaussNoiseLoss{A: mu, B: sigma * sigma, Fit: fit, Penalty: pen, Total: fit + pen, Gamma: g}, nil
}

// GaussNoiseMonteCarlo estimates the expected loss by drawing R from a fixed seed.
func GaussNoiseMonteCarlo(x [][]float64, y, w []float64, mu, sigma float64, samples int, seed uint64) (Estimate, error) {
	const op = "hw.GaussNoiseMonteCarlo"
	if err := checkNoise(op, mu, sigma); err != nil {
		return Estimate{}, err
	}
	if w == nil {
		return Estimate{}, errf(op, "w is empty")
	}
	pr, err := validate(op, x, y, w)
	if err != nil {
		return Estimate{}, err
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	return monteCarlo(op, pr, samples, func() float64 { return mu + sigma*r.NormFloat64() })
}

// Choice is one of the homework's multiple-choice options, with its value
// so a page can evaluate the learner's pick against a Monte-Carlo estimate.
type Choice struct {
	Label string
	Value func(mu, sigma float64) float64
}

// GaussChoicesA and GaussChoicesB are the options the homework lists for (A)
// and (B); GaussAnswer gives the indices of the right ones.
var (
	GaussChoicesA = []Choice{
		{"μ", func(mu, _ float64) float64 { return mu }},
		{"2μ", func(mu, _ float64) float64 { return 2 * mu }},
		{"μ/2", func(mu, _ float64) float64 { return mu / 2 }},
		{"σ", func(_, s float64) float64 { return s }},
		{"2σ", func(_, s float64) float64 { return 2 * s }},
		{"σ/2", func(_, s float64) float64 { return s / 2 }},
	}
	GaussChoicesB = []Choice{
		{"μ²", func(mu, _ float64) float64 { return mu * mu }},
		{"2μ²", func(mu, _ float64) float64 { return 2 * mu * mu }},
		{"μ²/2", func(mu, _ float64) float64 { return mu * mu / 2 }},
		{"σ²", func(_, s float64) float64 { return s * s }},
		{"2σ²", func(_, s float64) float64 { return 2 * s * s }},
		{"σ²/2", func(_, s float64) float64 { return s * s / 2 }},
	}
)

// GaussAnswer returns the indices into GaussChoicesA and GaussChoicesB of
// (A) = μ and (B) = σ².
func GaussAnswer() (a, b int) { return 0, 3 }

// CandidateLoss is ||y - A X w||^2 + B ||Gamma w||^2 for the chosen options,
// the number a page compares with GaussNoiseMonteCarlo.
func CandidateLoss(x [][]float64, y, w []float64, mu, sigma float64, a, b int) (float64, error) {
	const op = "hw.CandidateLoss"
	if a < 0 || a >= len(GaussChoicesA) || b < 0 || b >= len(GaussChoicesB) {
		return 0, errf(op, "choice (%d, %d) out of range: (A) has %d options, (B) has %d", a, b, len(GaussChoicesA), len(GaussChoicesB))
	}
	if err := checkNoise(op, mu, sigma); err != nil {
		return 0, err
	}
	if w == nil {
		return 0, errf(op, "w is empty")
	}
	pr, err := validate(op, x, y, w)
	if err != nil {
		return 0, err
	}
	fit, pen, _ := multiplicativeLoss(pr, GaussChoicesA[a].Value(mu, sigma), GaussChoicesB[b].Value(mu, sigma))
	return fit + pen, nil
}

// GaussNoiseDerivation is the work the homework asks to show.
func GaussNoiseDerivation() []Step {
	return []Step{
		{"Expand the loss row by row; the expectation of a sum is the sum of expectations.",
			`\mathbb{E}\|y-(R\odot X)w\|^2=\sum_i\mathbb{E}\big[Z_i^2\big],\quad Z_i=y_i-\textstyle\sum_j R_{ij}X_{ij}w_j`},
		{"Split each square into mean squared plus variance.", `\mathbb{E}[Z_i^2]=(\mathbb{E}Z_i)^2+\operatorname{Var}Z_i`},
		{"E[R_ij] = μ, so the mean is the residual of the μ-scaled model: (A) = μ.", `\mathbb{E}Z_i=y_i-\mu\sum_j X_{ij}w_j=(y-\mu Xw)_i`},
		{"The R_ij are independent with variance σ², so the variances of the terms add: (B) = σ².", `\operatorname{Var}Z_i=\sigma^2\sum_j X_{ij}^2w_j^2`},
		{"Summing over i turns the sum of X_ij² into the squared column norms, the diagonal of X^T X.",
			`\sum_i\sum_j X_{ij}^2w_j^2=\sum_j (X^\top X)_{jj}\,w_j^2=\|\Gamma w\|^2,\ \Gamma=\operatorname{diag}(X^\top X)^{1/2}`},
		{"Result. Dropout is the special case R ~ Bernoulli(p): μ = p, σ² = p(1-p), which is eq. (4).",
			`\mathcal L(w)=\|y-\mu Xw\|^2+\sigma^2\|\Gamma w\|^2`},
	}
}
