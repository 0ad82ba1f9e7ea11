package hw

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Problem 6, the dropout notebook. Unlike problem 2, p here is the
// probability of DROPPING a feature and kept features are scaled by
// 1/(1-p) (inverted dropout, core/nn's convention). The loss is the mean
// squared error over a batch, (1/B) sum_b (y_b - x~_b . w)^2, where x~ is
// the masked, rescaled input.
//
// Averaged over masks the loss is
//
//	(1/n) ( ||y - X w||^2 + p/(1-p) ||Gamma w||^2 ),  Gamma = diag of column norms,
//
// because each x~_ij has mean x_ij and variance x_ij^2 p/(1-p). Its
// minimiser solves (X^T X + p/(1-p) Gamma^2) w = X^T y, unique for every
// p in (0, 1) when no column of X is zero. At p = 0 nothing regularises and
// the notebook's toy problem (one example, two features) has a whole line of
// solutions; pseudo-inverse and gradient descent from 0 pick its
// minimum-norm point. As p -> 0+ the unique minimiser instead tends to the
// solution of smallest ||Gamma w||, a different point of that line: the jump
// at p = 0 in the sweep.

// ToyX and ToyY are the notebook's data: one example x = [10, 1], y = 11.
var (
	ToyX = [][]float64{{10, 1}}
	ToyY = []float64{11}
)

const (
	maxDrop     = 0.99 // beyond it 1/(1-p) scaling makes every run a lottery
	maxSteps    = 1_000_000
	maxBatch    = 1 << 16
	maxPathSize = 1 << 24 // steps * features kept in a Run's path
	maxMasks    = 1 << 20 // rows of the augmented data set
)

func checkDrop(op string, p float64) error {
	if !finite(p) || p < 0 || p > maxDrop {
		return errf(op, "drop probability p = %v must be in [0, %v]", p, maxDrop)
	}
	return nil
}

// OLSMinNorm is X^+ y, the minimum-norm least-squares solution.
func OLSMinNorm(x [][]float64, y []float64) ([]float64, error) {
	const op = "hw.OLSMinNorm"
	pr, err := validate(op, x, y, nil)
	if err != nil {
		return nil, err
	}
	w, err := pinvSolve(op, pr.x, pr.y)
	if err != nil {
		return nil, err
	}
	return sliceOf(w), nil
}

// pinvSolve is A^+ b through the SVD, dropping singular values below
// NumPy's pinv cut-off (max(m, n) * eps * s_max).
func pinvSolve(op string, a mat.Matrix, b *mat.VecDense) (*mat.VecDense, error) {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, errf(op, "SVD did not converge")
	}
	s := svd.Values(nil)
	r, c := a.Dims()
	rank := 0
	for _, v := range s {
		if v > float64(max(r, c))*eps*s[0] {
			rank++
		}
	}
	w := mat.NewVecDense(c, nil)
	if rank > 0 {
		svd.SolveVecTo(w, b, rank)
	}
	return w, nil
}

// AugmentedData is dropout written as data augmentation: every example
// repeated once per mask, masked and rescaled, with the mask's probability
// as its weight. Least squares weighted this way is the expected loss.
type AugmentedData struct {
	P       float64
	X       [][]float64
	Y       []float64
	Weight  []float64 // probabilities; they sum to the number of examples
	Example []int     // which original example each row came from
	Mask    [][]bool  // true = kept
}

// DropoutAugment lists all 2^d masks of every example. The notebook's case,
// DropoutAugment(ToyX, ToyY, 0.5), gives [20 2], [0 2], [20 0], [0 0], each
// with weight 1/4 and target 11.
func DropoutAugment(x [][]float64, y []float64, p float64) (*AugmentedData, error) {
	const op = "hw.DropoutAugment"
	if err := checkDrop(op, p); err != nil {
		return nil, err
	}
	pr, err := validate(op, x, y, nil)
	if err != nil {
		return nil, err
	}
	if pr.d > 20 || pr.n<<pr.d > maxMasks {
		return nil, errf(op, "%d example(s) x 2^%d masks is too many rows to list", pr.n, pr.d)
	}
	a := &AugmentedData{P: p}
	for i := 0; i < pr.n; i++ {
		for m := 0; m < 1<<pr.d; m++ {
			row := make([]float64, pr.d)
			keep := make([]bool, pr.d)
			prob := 1.0
			for j := 0; j < pr.d; j++ {
				if m>>j&1 == 0 {
					keep[j] = true
					row[j] = pr.x.At(i, j) / (1 - p)
					prob *= 1 - p
				} else {
					prob *= p
				}
			}
			a.X = append(a.X, row)
			a.Y = append(a.Y, pr.y.AtVec(i))
			a.Weight = append(a.Weight, prob)
			a.Example = append(a.Example, i)
			a.Mask = append(a.Mask, keep)
		}
	}
	return a, nil
}

// LeastSquares solves the weighted least-squares problem on the augmented
// rows, sum_r Weight_r (Y_r - X_r . w)^2, by the pseudo-inverse of the
// sqrt(weight)-scaled rows (minimum norm if it is not unique). Unique
// reports whether the solution is.
func (a *AugmentedData) LeastSquares() (w []float64, unique bool, err error) {
	const op = "hw.AugmentedData.LeastSquares"
	if a == nil || len(a.X) == 0 {
		return nil, false, errf(op, "no augmented rows")
	}
	r, d := len(a.X), len(a.X[0])
	if len(a.Y) != r || len(a.Weight) != r {
		return nil, false, errf(op, "%d rows but %d targets and %d weights", r, len(a.Y), len(a.Weight))
	}
	if _, err := denseOf(op, "augmented X", a.X); err != nil {
		return nil, false, err
	}
	for i, w := range a.Weight {
		if !finite(w) || w < 0 {
			return nil, false, errf(op, "weight %d is %v; weights are probabilities", i, w)
		}
	}
	am := mat.NewDense(r, d, nil)
	b := mat.NewVecDense(r, nil)
	for i, row := range a.X {
		s := math.Sqrt(a.Weight[i])
		for j, v := range row {
			am.Set(i, j, s*v)
		}
		b.SetVec(i, s*a.Y[i])
	}
	sol, err := pinvSolve(op, am, b)
	if err != nil {
		return nil, false, err
	}
	rank, _, err := rankOf(op, am)
	if err != nil {
		return nil, false, err
	}
	return sliceOf(sol), rank == d, nil
}

// DropoutSolution is the minimiser of the expected dropout loss, the
// solution of (X^T X + p/(1-p) Gamma^2) w = X^T y. It is computed as the
// least-squares solution of the stacked system [X; sqrt(p/(1-p)) Gamma] w =
// [y; 0], which has the same minimiser but squares no condition number, so
// small p stays accurate. At p = 0, or when the system is singular, it is
// the minimum-norm solution and Unique is false.
func DropoutSolution(x [][]float64, y []float64, p float64) (w []float64, unique bool, err error) {
	const op = "hw.DropoutSolution"
	if err := checkDrop(op, p); err != nil {
		return nil, false, err
	}
	pr, err := validate(op, x, y, nil)
	if err != nil {
		return nil, false, err
	}
	n, d := pr.n, pr.d
	s := math.Sqrt(p / (1 - p))
	g := columnNorms(pr.x)
	a := mat.NewDense(n+d, d, nil)
	a.Slice(0, n, 0, d).(*mat.Dense).Copy(pr.x)
	for j := 0; j < d; j++ {
		a.Set(n+j, j, s*g[j])
	}
	b := mat.NewVecDense(n+d, nil)
	b.SliceVec(0, n).(*mat.VecDense).CopyVec(pr.y)
	rank, _, err := rankOf(op, a)
	if err != nil {
		return nil, false, err
	}
	sol, err := pinvSolve(op, a, b)
	if err != nil {
		return nil, false, err
	}
	return sliceOf(sol), rank == d, nil
}

func dropoutNormal(pr *problem, p float64) (*mat.SymDense, *mat.VecDense) {
	eps := p / (1 - p)
	a := mat.NewSymDense(pr.d, nil)
	a.SymOuterK(1, pr.x.T())
	for j := 0; j < pr.d; j++ {
		a.SetSym(j, j, a.At(j, j)*(1+eps))
	}
	var b mat.VecDense
	b.MulVec(pr.x.T(), pr.y)
	return a, &b
}

// DropoutLimit is lim p->0+ of DropoutSolution: the least-squares solution
// with the smallest ||Gamma w||, computed by the change of variables
// v = Gamma w: v = (X Gamma^-1)^+ y, w = Gamma^-1 v. For the toy problem it
// is w_j = y / (d x_j) = [0.55, 5.5]: both terms contribute y/2 = 5.5.
// A zero column of X is an error (Gamma is singular and that weight is free).
func DropoutLimit(x [][]float64, y []float64) ([]float64, error) {
	const op = "hw.DropoutLimit"
	pr, err := validate(op, x, y, nil)
	if err != nil {
		return nil, err
	}
	g := columnNorms(pr.x)
	xt, err := ChangeOfVariables(x, g)
	if err != nil {
		return nil, errf(op, "%v", err)
	}
	xd, _ := denseOf(op, "X Gamma^-1", xt)
	v, err := pinvSolve(op, xd, pr.y)
	if err != nil {
		return nil, err
	}
	w := sliceOf(v)
	for j := range w {
		w[j] /= g[j]
	}
	return w, nil
}

// SweepPoint is the analytic dropout solution at one drop probability.
type SweepPoint struct {
	P      float64
	W      []float64
	Unique bool
	Terms  []float64 // x_j w_j for the first example: each feature's contribution
}

// AnalyticSweep evaluates DropoutSolution at each p (e.g. 50 points over
// [0, 0.98]); the limit p->0+ is DropoutLimit.
func AnalyticSweep(x [][]float64, y []float64, ps []float64) ([]SweepPoint, error) {
	const op = "hw.AnalyticSweep"
	if len(ps) == 0 || len(ps) > 10000 {
		return nil, errf(op, "need 1 to 10000 drop probabilities, got %d", len(ps))
	}
	out := make([]SweepPoint, 0, len(ps))
	for _, p := range ps {
		w, u, err := DropoutSolution(x, y, p)
		if err != nil {
			return nil, errf(op, "p = %v: %v", p, err)
		}
		t, _ := Contributions(x[0], w)
		out = append(out, SweepPoint{P: p, W: w, Unique: u, Terms: t})
	}
	return out, nil
}

// Contributions returns x_j w_j: for the toy problem 10 w1 and w2, the
// share of the prediction each feature carries.
func Contributions(x, w []float64) ([]float64, error) {
	const op = "hw.Contributions"
	if len(x) == 0 || len(x) != len(w) {
		return nil, errf(op, "x has %d entries and w %d; they must match and be non-empty", len(x), len(w))
	}
	t := make([]float64, len(x))
	for j := range x {
		t[j] = x[j] * w[j]
	}
	return t, nil
}

// Optimizer names the update rule of a training run.
type Optimizer int

const (
	SGD Optimizer = iota
	Adam
)

func (o Optimizer) String() string {
	if o == Adam {
		return "Adam"
	}
	return "SGD"
}

// TrainConfig is one notebook training run from w = 0.
type TrainConfig struct {
	X [][]float64
	Y []float64
	// P is the drop probability (0 = no dropout).
	P float64
	// Batch is how many (example, mask) draws each step averages; 0 uses
	// the exact expected gradient instead, the limit of an infinite batch.
	Batch     int
	LR        float64
	Steps     int
	Seed      uint64
	Optimizer Optimizer
	// Adam's constants; zero values mean 0.9, 0.999 and 1e-8.
	Beta1, Beta2, Eps float64
}

// Run is the trajectory of a training run.
type Run struct {
	W    []float64   // final weights
	Path [][]float64 // weights before each step and after the last: Steps+1 entries
	// Loss is the loss of the batch each step used (the notebook's curve);
	// with Batch = 0 it is the expected loss.
	Loss []float64
	// Expected is the exact expected loss at the weights before each step.
	Expected []float64
	// TailMean averages Path over the second half of the run, which
	// removes most of batch-1 noise from the reported weights.
	TailMean []float64
}

// Train runs SGD or Adam with dropout on the mean squared error.
func Train(cfg TrainConfig) (*Run, error) {
	const op = "hw.Train"
	if err := checkDrop(op, cfg.P); err != nil {
		return nil, err
	}
	pr, err := validate(op, cfg.X, cfg.Y, nil)
	if err != nil {
		return nil, err
	}
	if cfg.Batch < 0 || cfg.Batch > maxBatch {
		return nil, errf(op, "batch = %d must be in [0, %d] (0 = exact expected gradient)", cfg.Batch, maxBatch)
	}
	if !finite(cfg.LR) || cfg.LR <= 0 || cfg.LR > 10 {
		return nil, errf(op, "learning rate %v must be in (0, 10]", cfg.LR)
	}
	if cfg.Steps < 1 || cfg.Steps > maxSteps || (cfg.Steps+1)*pr.d > maxPathSize {
		return nil, errf(op, "steps = %d must be in [1, %d] and steps*features at most %d", cfg.Steps, maxSteps, maxPathSize)
	}
	if int64(cfg.Steps)*int64(max(cfg.Batch, 1))*int64(pr.d) > 1<<31 {
		return nil, errf(op, "%d steps of batch %d is too much work for one call", cfg.Steps, cfg.Batch)
	}
	if cfg.Optimizer != SGD && cfg.Optimizer != Adam {
		return nil, errf(op, "unknown optimizer %d", int(cfg.Optimizer))
	}
	b1, b2, ae := cfg.Beta1, cfg.Beta2, cfg.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if ae == 0 {
		ae = 1e-8
	}
	if !(b1 > 0 && b1 < 1 && b2 > 0 && b2 < 1 && ae > 0 && finite(ae)) {
		return nil, errf(op, "Adam needs 0 < beta1, beta2 < 1 and eps > 0, got %v, %v, %v", b1, b2, ae)
	}

	d, n := pr.d, pr.n
	a, xty := dropoutNormal(pr, cfg.P)
	yy := mat.Dot(pr.y, pr.y)
	// expected = (w^T A w - 2 w^T X^T y + y^T y) / n, the mask-averaged MSE.
	expected := func(w *mat.VecDense) float64 {
		var aw mat.VecDense
		aw.MulVec(a, w)
		return (mat.Dot(w, &aw) - 2*mat.Dot(w, xty) + yy) / float64(n)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9E3779B97F4A7C15))
	keepScale := 1 / (1 - cfg.P)

	w := mat.NewVecDense(d, nil)
	g := mat.NewVecDense(d, nil)
	m := make([]float64, d)
	v := make([]float64, d)
	xt := make([]float64, d)
	run := &Run{Path: make([][]float64, 0, cfg.Steps+1), Loss: make([]float64, cfg.Steps), Expected: make([]float64, cfg.Steps)}
	for t := 0; t < cfg.Steps; t++ {
		run.Path = append(run.Path, sliceOf(w))
		run.Expected[t] = expected(w)
		g.Zero()
		if cfg.Batch == 0 {
			var aw mat.VecDense
			aw.MulVec(a, w)
			aw.SubVec(&aw, xty)
			g.ScaleVec(2/float64(n), &aw)
			run.Loss[t] = run.Expected[t]
		} else {
			loss := 0.0
			for b := 0; b < cfg.Batch; b++ {
				i := r.IntN(n)
				res := pr.y.AtVec(i)
				for j := 0; j < d; j++ {
					xt[j] = 0
					if cfg.P == 0 || r.Float64() >= cfg.P {
						xt[j] = pr.x.At(i, j) * keepScale
					}
					res -= xt[j] * w.AtVec(j)
				}
				loss += res * res
				for j := 0; j < d; j++ {
					g.SetVec(j, g.AtVec(j)-2*res*xt[j]/float64(cfg.Batch))
				}
			}
			run.Loss[t] = loss / float64(cfg.Batch)
		}
		for j := 0; j < d; j++ {
			gj := g.AtVec(j)
			step := cfg.LR * gj
			if cfg.Optimizer == Adam {
				m[j] = b1*m[j] + (1-b1)*gj
				v[j] = b2*v[j] + (1-b2)*gj*gj
				mh := m[j] / (1 - math.Pow(b1, float64(t+1)))
				vh := v[j] / (1 - math.Pow(b2, float64(t+1)))
				step = cfg.LR * mh / (math.Sqrt(vh) + ae)
			}
			w.SetVec(j, w.AtVec(j)-step)
		}
		if !finite(mat.Norm(w, 2)) {
			return nil, errf(op, "training diverged at step %d (learning rate %v too large for p = %v, batch %d)", t, cfg.LR, cfg.P, cfg.Batch)
		}
	}
	run.Path = append(run.Path, sliceOf(w))
	run.W = sliceOf(w)
	run.TailMean = make([]float64, d)
	half := run.Path[len(run.Path)/2:]
	for _, pw := range half {
		for j := range pw {
			run.TailMean[j] += pw[j] / float64(len(half))
		}
	}
	return run, nil
}

// EmpiricalPoint compares a trained run with the analytic solution at one p.
type EmpiricalPoint struct {
	P        float64
	Run      *Run
	Analytic []float64
	// ExpectedGD is where gradient descent on the exact expected loss is
	// after the same number of steps: the mean of the stochastic run's end
	// point, so a gap to Analytic here is unfinished training, not noise.
	ExpectedGD []float64
}

// EmpiricalSweep trains with cfg at each drop probability (the notebook uses
// {0, .1, .3, .5, .7} with batch 1024). cfg.P is ignored.
func EmpiricalSweep(cfg TrainConfig, ps []float64) ([]EmpiricalPoint, error) {
	const op = "hw.EmpiricalSweep"
	if len(ps) == 0 || len(ps) > 100 {
		return nil, errf(op, "need 1 to 100 drop probabilities, got %d", len(ps))
	}
	var out []EmpiricalPoint
	for k, p := range ps {
		c := cfg
		c.P, c.Seed = p, cfg.Seed+uint64(k)
		run, err := Train(c)
		if err != nil {
			return nil, errf(op, "p = %v: %v", p, err)
		}
		c.Batch = 0
		exp, err := Train(c)
		if err != nil {
			return nil, errf(op, "p = %v: %v", p, err)
		}
		w, _, err := DropoutSolution(cfg.X, cfg.Y, p)
		if err != nil {
			return nil, errf(op, "p = %v: %v", p, err)
		}
		out = append(out, EmpiricalPoint{P: p, Run: run, Analytic: w, ExpectedGD: exp.W})
	}
	return out, nil
}
