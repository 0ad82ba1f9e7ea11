package app

import (
	"fmt"
	"math"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// GaussNoisePage is problem 3: features multiplied by N(μ, σ²) noise, the
// homework's multiple choice for (A) and (B), and a Monte-Carlo check.
type GaussNoisePage struct {
	goapp.Compo
	mu, sigma, n, d, samples, seed float64
	pickA, pickB                   int
	init                           bool
}

// candidateZ is how many standard errors a candidate may be from the
// estimate and still count as consistent (package hw's test convention).
const candidateZ = 4

func (pg *GaussNoisePage) defaults() {
	if !pg.init {
		pg.mu, pg.sigma, pg.n, pg.d, pg.samples, pg.seed, pg.init = 0.8, 0.6, 8, 3, 20000, 1, true
		pg.pickA, pg.pickB = -1, -1
	}
}

// OnPreRender titles the pre-rendered page.
func (pg *GaussNoisePage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 3) }

// OnNav titles the page after an in-app navigation.
func (pg *GaussNoisePage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 3) }

// Render draws the page.
func (pg *GaussNoisePage) Render() goapp.UI {
	pg.defaults()
	a, b := hw.GaussAnswer()
	return problemFrame(3,
		section("p3-answer", "The answer",
			goapp.P().ID("p3-result").Body(
				goapp.Text("(A) = "), goapp.Strong().Text(hw.GaussChoicesA[a].Label),
				goapp.Text(" and (B) = "), goapp.Strong().Text(hw.GaussChoicesB[b].Label),
				goapp.Text(": the expected loss is ‖y − μXw‖² + σ²‖Γw‖²."),
			),
			Derivation("p3-steps", hw.GaussNoiseDerivation()),
		),
		section("p3-try", "Test the candidates",
			goapp.P().Text("Every (A), (B) pair the homework offers gives a different number for the same data. Only the right pair matches the Monte-Carlo estimate of the expected loss for every μ and σ; pick yours and see."),
			goapp.Div().Class("inputs").Body(
				numField("p3-mu", "Mean μ", -10, 10, 0.1, pg.mu, func(v float64) { pg.mu = v }),
				numField("p3-sigma", "Standard deviation σ", 0, 10, 0.1, pg.sigma, func(v float64) { pg.sigma = v }),
				intField("p3-n", "Examples n", 1, 20, pg.n, func(v float64) { pg.n = v }),
				intField("p3-d", "Features d", 1, 8, pg.d, func(v float64) { pg.d = v }),
				intField("p3-samples", "Monte-Carlo samples", 2, 20000, pg.samples, func(v float64) { pg.samples = v }),
				intField("p3-seed", "Seed", 0, 1e9, pg.seed, func(v float64) { pg.seed = v }),
			),
			pg.choices(),
			pg.check(),
		),
	)
}

func (pg *GaussNoisePage) choices() goapp.UI {
	group := func(name, legend string, opts []hw.Choice, pick int, set func(int)) goapp.UI {
		return goapp.FieldSet().Class("choices").Body(
			goapp.Legend().Text(legend),
			goapp.Range(opts).Slice(func(i int) goapp.UI {
				id := fmt.Sprintf("%s-%d", name, i)
				return goapp.Label().For(id).Class("choice").Body(
					goapp.Input().Type("radio").ID(id).Name(name).Checked(pick == i).
						OnChange(func(goapp.Context, goapp.Event) { set(i) }),
					goapp.Text(" "+opts[i].Label),
				)
			}),
		)
	}
	return goapp.Div().Class("choice-groups").Body(
		group("p3-a", "Your choice for (A)", hw.GaussChoicesA, pg.pickA, func(i int) { pg.pickA = i }),
		group("p3-b", "Your choice for (B)", hw.GaussChoicesB, pg.pickB, func(i int) { pg.pickB = i }),
	)
}

func (pg *GaussNoisePage) check() goapp.UI {
	x, y, w := RandomRegression(int(pg.n), int(pg.d), uint64(pg.seed))
	exact, err := hw.GaussNoiseExpectedLoss(x, y, w, pg.mu, pg.sigma)
	if err != nil {
		return errorBox("p3-error", err)
	}
	est, err := hw.GaussNoiseMonteCarlo(x, y, w, pg.mu, pg.sigma, int(pg.samples), uint64(pg.seed)+1)
	if err != nil {
		return errorBox("p3-error", err)
	}
	losses := make([][]float64, len(hw.GaussChoicesA))
	for i := range losses {
		losses[i] = make([]float64, len(hw.GaussChoicesB))
		for j := range losses[i] {
			if losses[i][j], err = hw.CandidateLoss(x, y, w, pg.mu, pg.sigma, i, j); err != nil {
				return errorBox("p3-error", err)
			}
		}
	}
	consistent := func(v float64) bool { return est.Contains(v, candidateZ) }
	var nOK int
	for _, row := range losses {
		for _, v := range row {
			if consistent(v) {
				nOK++
			}
		}
	}
	rl := make([]string, len(hw.GaussChoicesA))
	for i, c := range hw.GaussChoicesA {
		rl[i] = "(A) = " + c.Label
	}
	cl := make([]string, len(hw.GaussChoicesB))
	for j, c := range hw.GaussChoicesB {
		cl[j] = "(B) = " + c.Label
	}
	var pick goapp.UI
	if pg.pickA >= 0 && pg.pickB >= 0 {
		v := losses[pg.pickA][pg.pickB]
		ok := consistent(v)
		msg := fmt.Sprintf("Your pair gives %s, %.1f standard errors from the estimate %s: ", FormatNum(v, 6), math.Abs(v-est.Mean)/est.StdErr, FormatNum(est.Mean, 6))
		cls := "verdict ok"
		if ok {
			msg += "consistent with the simulation."
		} else {
			msg += "ruled out by the simulation."
			cls = "verdict warn"
		}
		pick = goapp.P().ID("p3-pick").Class(cls).DataSet("consistent", ok).Text(msg)
	} else {
		pick = goapp.P().ID("p3-pick").Class("muted").Text("Pick one option in each group to test your pair.")
	}
	note := "Only the right pair is consistent here."
	if nOK != 1 {
		note = fmt.Sprintf("%d pairs are consistent at these settings: when μ and σ make two options equal (μ = σ, μ² = 2σ², σ = 0, …) or the estimate is too noisy to tell them apart, the test cannot separate them. Change μ and σ, or add samples.", nOK)
	}
	return goapp.Div().Body(
		pick,
		mcComparison("p3", exact.Fit, exact.Penalty, exact.Total, est, "‖y − μXw‖²", "σ²‖Γw‖²"),
		goapp.P().Textf("Every candidate's ‖y − (A)Xw‖² + (B)‖Γw‖², highlighted where it lies within %d standard errors of the estimate. %s", candidateZ, note),
		MatrixView{ID: "p3-candidates", Caption: "Candidate expected losses", Rows: losses, RowLabels: rl, ColLabels: cl,
			Highlight: func(_, _ int, v float64) bool { return consistent(v) }, Digits: 5}.UI(),
	)
}
