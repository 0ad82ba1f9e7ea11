package app

import (
	"fmt"
	"math"
	"math/rand/v2"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// TikhonovPage is problem 2: dropout on linear regression as Tikhonov
// regularisation. p is the KEEP probability here, as in the homework.
type TikhonovPage struct {
	goapp.Compo
	n, d, p, samples, seed float64
	init                   bool
}

func (pg *TikhonovPage) defaults() {
	if !pg.init {
		pg.n, pg.d, pg.p, pg.samples, pg.seed, pg.init = 8, 3, 0.7, 20000, 1, true
	}
}

// OnPreRender titles the pre-rendered page.
func (pg *TikhonovPage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 2) }

// OnNav titles the page after an in-app navigation.
func (pg *TikhonovPage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 2) }

// RandomRegression draws a regression problem from a seed: X with columns
// on different scales (column j has standard deviation 1 + 2j, so the column
// norms, and with them the penalty's weights, differ visibly), w ~ N(0, 1),
// and y = X w_true + noise for another random w_true.
func RandomRegression(n, d int, seed uint64) (x [][]float64, y, w []float64) {
	r := rand.New(rand.NewPCG(seed, 0x6772616469656e74))
	x = make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range x[i] {
			x[i][j] = float64(1+2*j) * r.NormFloat64()
		}
	}
	wTrue := make([]float64, d)
	w = make([]float64, d)
	for j := range w {
		wTrue[j] = r.NormFloat64()
		w[j] = r.NormFloat64()
	}
	y = make([]float64, n)
	for i := range y {
		for j := range wTrue {
			y[i] += x[i][j] * wTrue[j]
		}
		y[i] += 0.5 * r.NormFloat64()
	}
	return x, y, w
}

// Render draws the page.
func (pg *TikhonovPage) Render() goapp.UI {
	pg.defaults()
	return problemFrame(2,
		section("p2-derivation", "Derivation of eq. (4), then parts (b)–(d)",
			goapp.P().Text("Here p is the probability of keeping a feature and kept features are not rescaled during training, as in the homework's equations."),
			Derivation("p2-steps", hw.DropoutDerivation()),
		),
		section("p2-try", "Check it on random data",
			goapp.P().Text("Random X, y and w are drawn from the seed (column j of X has scale 1 + 2j, so the column norms differ). The Monte-Carlo estimate averages ‖y − (R⊙X)w‖² over random masks R; eq. (4) must lie inside its confidence interval."),
			goapp.Div().Class("inputs").Body(
				intField("p2-n", "Examples n", 1, 20, pg.n, func(v float64) { pg.n = v }),
				intField("p2-d", "Features d", 1, 8, pg.d, func(v float64) { pg.d = v }),
				&NumberInput{ID: "p2-p", Label: "Keep probability p", Min: 0, Max: 1, Step: 0.01, Slider: true, Value: pg.p,
					OnChange: func(_ goapp.Context, v float64) { pg.p = v }},
				intField("p2-samples", "Monte-Carlo samples", 2, 20000, pg.samples, func(v float64) { pg.samples = v }),
				intField("p2-seed", "Seed", 0, 1e9, pg.seed, func(v float64) { pg.seed = v }),
			),
			pg.monteCarlo(),
			pg.ridge(),
		),
		section("p2-batchnorm", "The link to batchnorm",
			goapp.P().Text("After the change of variables every column of X̃ = XΓ⁻¹ has the same norm, so the ridge penalty λ‖v‖² treats all features alike whatever their original scale. "+
				"Dropout thus regularises as if the features had first been normalised to a common scale, which is what batch normalisation does explicitly to a layer's inputs (per feature, over the batch). "+
				"That is one way to see why the two interact and why batchnorm often reduces the need for dropout."),
		),
	)
}

func (pg *TikhonovPage) data() ([][]float64, []float64, []float64) {
	return RandomRegression(int(pg.n), int(pg.d), uint64(pg.seed))
}

func (pg *TikhonovPage) monteCarlo() goapp.UI {
	x, y, w := pg.data()
	exact, err := hw.DropoutExpectedLoss(x, y, w, pg.p)
	if err != nil {
		return errorBox("p2-mc-error", err)
	}
	est, err := hw.DropoutMonteCarlo(x, y, w, pg.p, int(pg.samples), uint64(pg.seed)+1)
	if err != nil {
		return errorBox("p2-mc-error", err)
	}
	return subsection("p2-mc", "Monte Carlo against the closed form", mcComparison("p2", exact.Fit, exact.Penalty, exact.Total, est,
		"‖y − pXw‖²", "p(1−p)‖Γ̃w‖²"))
}

// mcComparison is the table problems 2 and 3 share: the closed form split
// into its two terms, the estimate with its 95% interval, and the verdict.
func mcComparison(prefix string, fit, pen, total float64, est hw.Estimate, fitName, penName string) goapp.UI {
	const z95 = 1.959964
	lo, hi := est.Mean-z95*est.StdErr, est.Mean+z95*est.StdErr
	inside := total >= lo && total <= hi
	z := math.Abs(est.Mean-total) / est.StdErr
	verdict := fmt.Sprintf("The closed form lies inside the 95%% interval (%.2f standard errors from the estimate).", z)
	cls := "verdict ok"
	if !inside {
		cls = "verdict warn"
		verdict = fmt.Sprintf("The closed form is %.2f standard errors from the estimate, outside the 95%% interval. With a fixed seed this happens for about 1 seed in 20 even when the formula is right; try another seed or more samples (beyond 4 standard errors would point to an error).", z)
	}
	return goapp.Div().Body(
		goapp.Table().Class("results").ID(prefix+"-mc-table").Body(
			goapp.TBody().Body(
				resultRow(fitName, FormatNum(fit, 6)),
				resultRow(penName, FormatNum(pen, 6)),
				resultRow("Closed form, total", FormatNum(total, 6)).ID(prefix+"-exact"),
				resultRow(fmt.Sprintf("Monte Carlo (%d samples)", est.Samples), fmt.Sprintf("%s ± %s (standard error)", FormatNum(est.Mean, 6), FormatNum(est.StdErr, 3))).ID(prefix+"-estimate"),
				resultRow("95% interval", fmt.Sprintf("[%s, %s]", FormatNum(lo, 6), FormatNum(hi, 6))),
			),
		),
		goapp.P().ID(prefix+"-verdict").Class(cls).DataSet("inside", inside).Text(verdict),
	)
}

func resultRow(name, value string) goapp.HTMLTr {
	return goapp.Tr().Body(goapp.Th().Scope("row").Text(name), goapp.Td().Class("num-cell").Text(value))
}

func (pg *TikhonovPage) ridge() goapp.UI {
	x, y, _ := pg.data()
	r, err := hw.SolveDropoutRidge(x, y, pg.p)
	if err != nil {
		return subsection("p2-ridge", "Rescaling and the change of variables", errorBox("p2-ridge-error", err))
	}
	d := len(r.Gamma)
	feat := make([]string, d)
	for j := range feat {
		feat[j] = fmt.Sprintf("w%d", j+1)
	}
	gap := 0.0
	back := make([]float64, d)
	for j := range r.WRescaled {
		gap = math.Max(gap, math.Abs(r.WRescaled[j]-r.WTikhonov[j]))
		back[j] = r.VRidge[j] / r.Gamma[j]
	}
	return subsection("p2-ridge", "Rescaling and the change of variables",
		goapp.P().Textf("(b) The minimiser w̃ of (4) uses every feature with probability p, so at test time, when all features are present, use w = p·w̃. "+
			"It solves (3) with Γ = √((1−p)/p)·Γ̃, i.e. λ = (1−p)/p = %s with Γ̃ the column norms.", FormatNum(r.Lambda, 4)),
		MatrixView{ID: "p2-weights", Caption: "Weights", ColLabels: feat,
			RowLabels: []string{"w̃ (dropout, eq. 4)", "p·w̃", "w solving (3) directly", "Γ̃⁻¹v from ridge on X̃"},
			Rows:      [][]float64{r.WDropout, r.WRescaled, r.WTikhonov, back}}.UI(),
		goapp.P().ID("p2-rescale-gap").Textf("Largest difference between p·w̃ and the solution of (3): %s (rounding).", FormatNum(gap, 3)),
		goapp.P().Text("(c) With v = Γw and X̃ = XΓ⁻¹ the problem is classical ridge regression ‖y − X̃v‖² + λ‖v‖². (d) The columns of X̃ all have norm 1 (here Γ is Γ̃; with Γ = c·Γ̃ they would all be 1/c):"),
		MatrixView{ID: "p2-norms", Caption: "Column norms", ColLabels: feat,
			RowLabels: []string{"X (the diagonal of Γ̃)", "X̃ = XΓ̃⁻¹"},
			Rows:      [][]float64{r.Gamma, r.XTildeNorms}}.UI(),
	)
}
