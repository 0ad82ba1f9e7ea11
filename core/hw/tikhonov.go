package hw

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Problem 2. Here p is the probability of KEEPING a feature, as in the
// homework text, and kept features are not rescaled during training. This is
// the opposite of core/nn's DropoutParam.P (drop probability, inverted
// scaling) and of problem 6.

// maxSamples bounds Monte-Carlo runs a page can ask for.
const maxSamples = 10_000_000

// DropoutLoss is eq. (4) split into its two terms.
type DropoutLoss struct {
	Fit     float64   // ||y - p X w||^2
	Penalty float64   // p (1-p) ||Gamma w||^2
	Total   float64   // Fit + Penalty = E_R ||y - (R.*X) w||^2
	Gamma   []float64 // column norms of X, the diagonal of Gamma
}

type problem struct {
	x    *mat.Dense
	y, w *mat.VecDense
	n, d int
}

func validate(op string, x [][]float64, y, w []float64) (*problem, error) {
	xd, err := denseOf(op, "X", x)
	if err != nil {
		return nil, err
	}
	n, d := xd.Dims()
	yv, err := vecOf(op, "y", y, n)
	if err != nil {
		return nil, err
	}
	pr := &problem{x: xd, y: yv, n: n, d: d}
	if w != nil {
		if pr.w, err = vecOf(op, "w", w, d); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

func checkKeep(op string, p float64) error {
	if !finite(p) || p < 0 || p > 1 {
		return errf(op, "keep probability p = %v must be in [0, 1]", p)
	}
	return nil
}

// multiplicativeLoss is ||y - m X w||^2 + v ||Gamma w||^2, the closed form
// shared by problems 2 (m = p, v = p(1-p)) and 3 (m = mu, v = sigma^2).
func multiplicativeLoss(pr *problem, m, v float64) (fit, pen float64, gamma []float64) {
	gamma = columnNorms(pr.x)
	var r mat.VecDense
	r.MulVec(pr.x, pr.w)
	r.ScaleVec(-m, &r)
	r.AddVec(pr.y, &r)
	fit = mat.Dot(&r, &r)
	for j, g := range gamma {
		gw := g * pr.w.AtVec(j)
		pen += gw * gw
	}
	return fit, v * pen, gamma
}

// DropoutExpectedLoss is the closed form (4) of E_R ||y - (R.*X) w||^2 with
// R_ij ~ Bernoulli(p) keep indicators.
func DropoutExpectedLoss(x [][]float64, y, w []float64, p float64) (DropoutLoss, error) {
	const op = "hw.DropoutExpectedLoss"
	if err := checkKeep(op, p); err != nil {
		return DropoutLoss{}, err
	}
	if w == nil {
		return DropoutLoss{}, errf(op, "w is empty")
	}
	pr, err := validate(op, x, y, w)
	if err != nil {
		return DropoutLoss{}, err
	}
	fit, pen, g := multiplicativeLoss(pr, p, p*(1-p))
	return DropoutLoss{Fit: fit, Penalty: pen, Total: fit + pen, Gamma: g}, nil
}

// DropoutMonteCarlo estimates E_R ||y - (R.*X) w||^2 by drawing the mask R
// (keep probability p) samples times from a fixed seed.
func DropoutMonteCarlo(x [][]float64, y, w []float64, p float64, samples int, seed uint64) (Estimate, error) {
	const op = "hw.DropoutMonteCarlo"
	if err := checkKeep(op, p); err != nil {
		return Estimate{}, err
	}
	pr, err := validate(op, x, y, w)
	if err != nil {
		return Estimate{}, err
	}
	if w == nil {
		return Estimate{}, errf(op, "w is empty")
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	return monteCarlo(op, pr, samples, func() float64 {
		if r.Float64() < p {
			return 1
		}
		return 0
	})
}

func monteCarlo(op string, pr *problem, samples int, draw func() float64) (Estimate, error) {
	if samples < 2 || samples > maxSamples {
		return Estimate{}, errf(op, "samples = %d must be in [2, %d]", samples, maxSamples)
	}
	if int64(samples)*int64(pr.n*pr.d) > 2e9 {
		return Estimate{}, errf(op, "%d samples of a %dx%d mask is too much work for one call", samples, pr.n, pr.d)
	}
	var acc welford
	for s := 0; s < samples; s++ {
		loss := 0.0
		for i := 0; i < pr.n; i++ {
			pred := 0.0
			for j := 0; j < pr.d; j++ {
				pred += draw() * pr.x.At(i, j) * pr.w.AtVec(j)
			}
			e := pr.y.AtVec(i) - pred
			loss += e * e
		}
		acc.add(loss)
	}
	return acc.estimate(), nil
}

// DropoutRidge answers parts (b)-(d) of problem 2 for data X, y and keep
// probability p in (0, 1).
type DropoutRidge struct {
	P     float64
	Gamma []float64 // column norms of X: the diagonal of Gamma~ in (4)
	// WDropout minimises (4): (p X^T X + (1-p) Gamma~^2) w~ = X^T y.
	WDropout []float64
	// WRescaled = p * WDropout: what a dropout-trained model uses at
	// inference, where every feature is present (part b).
	WRescaled []float64
	// Lambda = (1-p)/p: substituting w~ = w/p turns (4) into
	// ||y - X w||^2 + Lambda ||Gamma~ w||^2, which is (3) with
	// Gamma = sqrt(Lambda) Gamma~, so WRescaled solves (3) for that Gamma.
	Lambda float64
	// WTikhonov solves (3) directly, (X^T X + Lambda Gamma~^2) w = X^T y,
	// which must equal WRescaled.
	WTikhonov []float64
	// XTilde = X Gamma~^-1 (part c): then (3) is ridge regression
	// ||y - XTilde v||^2 + Lambda ||v||^2 in v = Gamma~ w.
	XTilde [][]float64
	// XTildeNorms are XTilde's column norms: all exactly 1 (part d), so the
	// regression sees every feature at the same scale, as batchnorm makes it.
	XTildeNorms []float64
	// VRidge solves the ridge problem; Gamma~^-1 VRidge equals WTikhonov.
	VRidge []float64
}

// SolveDropoutRidge computes DropoutRidge. A zero column in X makes Gamma
// singular (no change of variables exists), and p must be strictly inside
// (0, 1): at p = 0 the model sees nothing, at p = 1 there is no regulariser.
func SolveDropoutRidge(x [][]float64, y []float64, p float64) (*DropoutRidge, error) {
	const op = "hw.SolveDropoutRidge"
	if !finite(p) || p <= 0 || p >= 1 {
		return nil, errf(op, "keep probability p = %v must be strictly between 0 and 1", p)
	}
	pr, err := validate(op, x, y, nil)
	if err != nil {
		return nil, err
	}
	g := columnNorms(pr.x)
	for j, v := range g {
		if v == 0 {
			return nil, errf(op, "column %d of X is zero, so Gamma is singular and the problem has no unique solution", j)
		}
	}
	d := pr.d
	var xtx mat.SymDense
	xtx.SymOuterK(1, pr.x.T())
	var xty mat.VecDense
	xty.MulVec(pr.x.T(), pr.y)

	lam := (1 - p) / p
	// Dividing the dropout normal equations by p gives the same matrix as
	// (3)'s up to the factor p, so both solves are done in the scaled form.
	sys := func(scale, reg float64) (*mat.VecDense, error) {
		a := mat.NewSymDense(d, nil)
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				v := scale * xtx.At(i, j)
				if i == j {
					v += reg * g[i] * g[i]
				}
				a.SetSym(i, j, v)
			}
		}
		return solveSPD(op, a, &xty)
	}
	wd, err := sys(p, 1-p)
	if err != nil {
		return nil, err
	}
	wt, err := sys(1, lam)
	if err != nil {
		return nil, err
	}

	xt, err := ChangeOfVariables(x, g)
	if err != nil {
		return nil, err
	}
	xtd := mat.NewDense(pr.n, d, nil)
	for i, row := range xt {
		xtd.SetRow(i, row)
	}
	ridge := mat.NewSymDense(d, nil)
	ridge.SymOuterK(1, xtd.T())
	for i := 0; i < d; i++ {
		ridge.SetSym(i, i, ridge.At(i, i)+lam)
	}
	var xtty mat.VecDense
	xtty.MulVec(xtd.T(), pr.y)
	v, err := solveSPD(op, ridge, &xtty)
	if err != nil {
		return nil, err
	}

	out := &DropoutRidge{
		P: p, Gamma: g, WDropout: sliceOf(wd), Lambda: lam, WTikhonov: sliceOf(wt),
		XTilde: xt, XTildeNorms: columnNorms(xtd), VRidge: sliceOf(v),
	}
	out.WRescaled = make([]float64, d)
	for j := range out.WRescaled {
		out.WRescaled[j] = p * out.WDropout[j]
	}
	return out, nil
}

// ChangeOfVariables returns X Gamma^-1 for a diagonal Gamma given by its
// diagonal. A zero or non-finite entry is an error: Gamma must be invertible.
func ChangeOfVariables(x [][]float64, gammaDiag []float64) ([][]float64, error) {
	const op = "hw.ChangeOfVariables"
	xd, err := denseOf(op, "X", x)
	if err != nil {
		return nil, err
	}
	_, d := xd.Dims()
	if _, err := vecOf(op, "Gamma diagonal", gammaDiag, d); err != nil {
		return nil, err
	}
	out := rowsOf(xd)
	for j, gj := range gammaDiag {
		if gj == 0 {
			return nil, errf(op, "Gamma[%d][%d] = 0: Gamma is singular, so X Gamma^-1 does not exist", j, j)
		}
		for i := range out {
			out[i][j] /= gj
		}
	}
	return out, nil
}

// maxCond is where a symmetric positive definite solve stops meaning much in
// float64: beyond it the answer has fewer than ~4 correct digits.
const maxCond = 1e12

func solveSPD(op string, a *mat.SymDense, b *mat.VecDense) (*mat.VecDense, error) {
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		return nil, errf(op, "the normal equations are singular (not positive definite)")
	}
	if c := ch.Cond(); c > maxCond || math.IsNaN(c) {
		return nil, errf(op, "the normal equations are numerically singular (condition number %.3g)", c)
	}
	var x mat.VecDense
	if err := ch.SolveVecTo(&x, b); err != nil {
		return nil, errf(op, "solve failed: %v", err)
	}
	return &x, nil
}

// DropoutDerivation is eq. (2) => eq. (4), step by step, for the page.
func DropoutDerivation() []Step {
	return []Step{
		{"The loss is a sum over examples, and the expectation of a sum is the sum of expectations. Write row i's prediction with the mask.",
			`\mathbb{E}_R\|y-(R\odot X)\tilde w\|^2=\sum_i \mathbb{E}\Big[\big(y_i-\textstyle\sum_j R_{ij}X_{ij}\tilde w_j\big)^2\Big]`},
		{"For any random variable, E[Z^2] = (E Z)^2 + Var Z. Take Z = y_i - sum_j R_ij X_ij w_j.", `\mathbb{E}[Z^2]=(\mathbb{E}Z)^2+\operatorname{Var}Z`},
		{"E[R_ij] = p, so the mean of Z is the residual of the p-scaled model.", `\mathbb{E}Z=y_i-p\sum_j X_{ij}\tilde w_j=(y-pX\tilde w)_i`},
		{"The R_ij are independent with Var R_ij = p(1-p), and y_i is constant, so the variances add.", `\operatorname{Var}Z=\sum_j X_{ij}^2\tilde w_j^2\,p(1-p)`},
		{"Sum over i. The sum over i of X_ij^2 is the squared norm of column j.", `\sum_i\sum_j X_{ij}^2\tilde w_j^2=\sum_j\|X_{:,j}\|^2\tilde w_j^2=\|\tilde\Gamma\tilde w\|^2,\quad \tilde\Gamma=\operatorname{diag}(\|X_{:,1}\|,\dots,\|X_{:,d}\|)`},
		{"Together: eq. (4).", `\mathcal L(\tilde w)=\|y-pX\tilde w\|^2+p(1-p)\|\tilde\Gamma\tilde w\|^2`},
		{"(b) Substitute w = p w~ (every feature is present at test time, so the weights are scaled by the keep probability, as inference-time dropout does).",
			`\|y-Xw\|^2+\tfrac{1-p}{p}\|\tilde\Gamma w\|^2\quad\text{i.e. (3) with }\Gamma=\sqrt{\tfrac{1-p}{p}}\,\tilde\Gamma`},
		{"(c) With Gamma invertible set v = Gamma w and X~ = X Gamma^-1; then X w = X~ v.", `\|y-\tilde X v\|^2+\|v\|^2,\qquad \tilde X=X\Gamma^{-1}`},
		{"(d) If Gamma_jj = c ||X_:,j||, column j of X~ is X_:,j / (c ||X_:,j||): every column has norm 1/c. Dropout regularises as if the features had been normalised to a common scale first, which is what batchnorm does to a layer's inputs.",
			`\|\tilde X_{:,j}\|=\frac{\|X_{:,j}\|}{c\,\|X_{:,j}\|}=\frac1c`},
	}
}
