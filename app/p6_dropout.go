package app

import (
	"fmt"
	"time"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// DropoutNotebookPage is problem 6, the dropout notebook on the toy data
// x = [10, 1], y = 11. p is the DROP probability here, with kept inputs
// scaled by 1/(1-p) (gradlab's convention, unlike problem 2).
type DropoutNotebookPage struct {
	goapp.Compo
	lr, steps, seed float64
	init            bool

	// The training runs of (d) and (e), recomputed on "Run".
	runs    *notebookRuns
	runErr  error
	running bool
	runDone int

	// The empirical sweep of (g), computed on request.
	sweep     []hw.EmpiricalPoint
	sweepErr  error
	sweeping  bool
	sweepDone int
	sweepGen  int

	// Computed once when the page opens (see OnMount).
	analytic    []hw.SweepPoint
	analyticErr error
	optRuns     []optRun
	optErr      error
	opening     bool
}

// notebookRuns are the three runs of parts (d) and (e) with one setting.
type notebookRuns struct {
	lr    float64
	steps int
	b1    *hw.Run // batch 1
	b1024 *hw.Run // batch 1024
	exact *hw.Run // the expected gradient: the limit of an infinite batch
}

// notebookDrop is the drop probability of parts (c)-(f).
const notebookDrop = 0.5

// sweepPs are the notebook's empirical drop probabilities.
var sweepPs = []float64{0, 0.1, 0.3, 0.5, 0.7}

func (pg *DropoutNotebookPage) defaults() {
	if !pg.init {
		pg.lr, pg.steps, pg.seed, pg.init = 1e-3, 1000, 1, true
	}
}

// OnNav titles the page after an in-app navigation.
func (pg *DropoutNotebookPage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 6) }

// OnPreRender computes everything at once: natively it takes milliseconds,
// and the pre-rendered page (and the unit tests) show every result.
func (pg *DropoutNotebookPage) OnPreRender(ctx goapp.Context) {
	setProblemTitle(ctx, 6)
	pg.defaults()
	if pg.runs == nil && pg.runErr == nil {
		pg.runs, pg.runErr = trainRuns(pg.lr, int(pg.steps), uint64(pg.seed))
	}
	if pg.analytic == nil && pg.analyticErr == nil {
		pg.analytic, pg.analyticErr = analyticSweep()
	}
	if pg.optRuns == nil && pg.optErr == nil {
		pg.optRuns, pg.optErr = optimizerRuns()
	}
}

// OnMount computes the opening results in the browser one by one, with a
// pause before each, so the page is painted and usable first (Go's wasm is
// single-threaded: a long computation would hold the whole page up).
func (pg *DropoutNotebookPage) OnMount(ctx goapp.Context) {
	pg.defaults()
	if pg.opening || pg.runs != nil && pg.analytic != nil && pg.optRuns != nil {
		return
	}
	pg.opening = true
	lr, steps, seed := pg.lr, int(pg.steps), uint64(pg.seed)
	ctx.Async(func() {
		time.Sleep(50 * time.Millisecond)
		runs, err := trainRuns(lr, steps, seed)
		ctx.Dispatch(func(goapp.Context) {
			// A run the learner started meanwhile wins.
			if pg.runs == nil && pg.runErr == nil && !pg.running {
				pg.runs, pg.runErr = runs, err
			}
		})
		time.Sleep(20 * time.Millisecond)
		a, aerr := analyticSweep()
		ctx.Dispatch(func(goapp.Context) { pg.analytic, pg.analyticErr = a, aerr })
		time.Sleep(20 * time.Millisecond)
		o, oerr := optimizerRuns()
		ctx.Dispatch(func(goapp.Context) { pg.optRuns, pg.optErr, pg.opening = o, oerr, false })
	})
}

// computing stands in for a result that is still being computed.
func computing(id, what string) goapp.UI {
	return ProgressBar{ID: id, Label: "Computing " + what}.UI()
}

// OnDismount abandons a sweep in progress.
func (pg *DropoutNotebookPage) OnDismount() { pg.sweepGen++ }

// trainRuns runs parts (d) and (e) with the page's settings.
func trainRuns(lr float64, steps int, seed uint64) (*notebookRuns, error) {
	base := hw.TrainConfig{X: hw.ToyX, Y: hw.ToyY, P: notebookDrop, LR: lr, Steps: steps, Seed: seed}
	out := &notebookRuns{lr: lr, steps: steps}
	var err error
	for _, r := range []struct {
		batch int
		dst   **hw.Run
	}{{1, &out.b1}, {1024, &out.b1024}, {0, &out.exact}} {
		c := base
		c.Batch = r.batch
		if *r.dst, err = hw.Train(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Render draws the page.
func (pg *DropoutNotebookPage) Render() goapp.UI {
	pg.defaults()
	return problemFrame(6,
		goapp.P().Class("convention").Text("Convention on this page: p is the probability of DROPPING an input, and kept inputs are scaled by 1/(1 − p). The data is the notebook's single example x = [10, 1] with target y = 11."),
		pg.partA(),
		pg.partB(),
		pg.partC(),
		pg.partDE(),
		pg.partF(),
		pg.partG(),
		pg.partH(),
		&CheatExperiment{},
	)
}

func (pg *DropoutNotebookPage) partA() goapp.UI {
	w, err := hw.OLSMinNorm(hw.ToyX, hw.ToyY)
	if err != nil {
		return section("p6-a", "(a) Least squares without dropout", errorBox("p6-a-error", err))
	}
	return section("p6-a", "(a) Least squares without dropout",
		goapp.P().Text("With one example and two weights, 10w₁ + w₂ = 11 has a whole line of solutions. The pseudo-inverse picks the one of smallest norm, which lies along x:"),
		formula(`w=X^{+}y=X^\top(XX^\top)^{-1}y=\frac{y}{\|x\|^2}\,x=\frac{11}{101}[10,1]`),
		goapp.P().ID("p6-ols").Body(goapp.Text("Computed: w = "), goapp.Strong().Text(Vec(w)), goapp.Textf(", so 10w₁ + w₂ = %s.", FormatNum(10*w[0]+w[1], 6))),
	)
}

func (pg *DropoutNotebookPage) partB() goapp.UI {
	run, err := hw.Train(hw.TrainConfig{X: hw.ToyX, Y: hw.ToyY, LR: 1e-3, Steps: 1000})
	if err != nil {
		return section("p6-b", "(b) Gradient descent without dropout", errorBox("p6-b-error", err))
	}
	ols, _ := hw.OLSMinNorm(hw.ToyX, hw.ToyY)
	return section("p6-b", "(b) Gradient descent without dropout",
		goapp.P().ID("p6-gd").Textf("Learning rate 0.001, 1000 steps from w = 0: w = %s (least squares: %s). They agree: every gradient is a multiple of x, so gradient descent from 0 never leaves the line through x and converges to the minimum-norm solution. "+
			"The loss falls geometrically until it reaches 0 to machine precision; steps where it is exactly 0 cannot be drawn on the log scale and leave the curve's end blank.", Vec(run.W), Vec(ols)),
		LinePlot{ID: "p6-b-plot", Title: "Loss without dropout", XLabel: "step", YLabel: "squared error", LogY: true,
			Series: []Series{{Name: "gradient descent", X: Steps(len(run.Loss)), Y: run.Loss}}}.UI(),
	)
}

func (pg *DropoutNotebookPage) partC() goapp.UI {
	aug, err := hw.DropoutAugment(hw.ToyX, hw.ToyY, notebookDrop)
	if err != nil {
		return section("p6-c", "(c) Dropout as data augmentation", errorBox("p6-c-error", err))
	}
	w, unique, err := aug.LeastSquares()
	if err != nil {
		return section("p6-c", "(c) Dropout as data augmentation", errorBox("p6-c-error", err))
	}
	rows := make([][]float64, len(aug.X))
	labels := make([]string, len(aug.X))
	for i := range aug.X {
		rows[i] = []float64{aug.X[i][0], aug.X[i][1], aug.Y[i], aug.Weight[i]}
		labels[i] = fmt.Sprintf("mask %s", maskString(aug.Mask[i]))
	}
	u := "unique"
	if !unique {
		u = "not unique (minimum norm shown)"
	}
	return section("p6-c", "(c) Dropout as data augmentation",
		goapp.P().Text("With p = 0.5 each of the 4 masks keeps or drops each input with probability 1/4; kept inputs are doubled. Least squares on these rows, weighted by their probabilities, is the expected dropout loss."),
		MatrixView{ID: "p6-aug", Caption: "Augmented data (p = 0.5)", Rows: rows, RowLabels: labels, ColLabels: []string{"x̃₁", "x̃₂", "y", "weight"}}.UI(),
		goapp.P().ID("p6-aug-w").Body(goapp.Text("Least-squares solution: w = "), goapp.Strong().Text(Vec(w)), goapp.Textf(" (%s). It solves (XᵀX + p/(1−p)·Γ²)w = Xᵀy with Γ the column norms of X.", u)),
	)
}

func maskString(m []bool) string {
	s := ""
	for _, k := range m {
		if k {
			s += "1"
		} else {
			s += "0"
		}
	}
	return s
}

func (pg *DropoutNotebookPage) runCurrent(ctx goapp.Context, _ goapp.Event) {
	if pg.running {
		return
	}
	lr, steps, seed := pg.lr, int(pg.steps), uint64(pg.seed)
	pg.running, pg.runDone, pg.runErr = true, 0, nil
	ctx.Async(func() {
		// Yield first so the progress bar is painted before the work.
		time.Sleep(20 * time.Millisecond)
		runs, err := trainRuns(lr, steps, seed)
		ctx.Dispatch(func(goapp.Context) {
			pg.runs, pg.runErr, pg.running, pg.runDone = runs, err, false, 1
		})
	})
}

func (pg *DropoutNotebookPage) partDE() goapp.UI {
	controls := goapp.Div().Class("inputs").Body(
		&NumberInput{ID: "p6-lr", Label: "Learning rate", Min: 1e-6, Max: 0.01, Value: pg.lr,
			OnChange: func(_ goapp.Context, v float64) { pg.lr = v }},
		intField("p6-steps", "Steps", 10, 5000, pg.steps, func(v float64) { pg.steps = v }),
		intField("p6-seed", "Seed", 0, 1e9, pg.seed, func(v float64) { pg.seed = v }),
	)
	var status goapp.UI
	if pg.running {
		status = ProgressBar{ID: "p6-run-progress", Label: "Training batch 1, batch 1024 and the exact-gradient run"}.UI()
	}
	body := []goapp.UI{
		goapp.P().Text("Stochastic gradient descent with dropout (p = 0.5) from w = 0. Each step draws a batch of (example, mask) pairs; batch 1024 averages 1024 masks per step."),
		controls,
		goapp.Button().ID("p6-run").Text("Run with these settings").Disabled(pg.running).OnClick(pg.runCurrent),
		status,
	}
	if pg.runErr != nil {
		body = append(body, errorBox("p6-run-error", pg.runErr))
	}
	r := pg.runs
	if r == nil {
		if pg.runErr == nil && !pg.running {
			body = append(body, computing("p6-de-computing", "the training runs"))
		}
		return section("p6-de", "(d), (e) Gradient descent with dropout", body...)
	}
	ls, _, _ := hw.DropoutSolution(hw.ToyX, hw.ToyY, notebookDrop)
	x := Steps(r.steps)
	if diverging(r.b1) || diverging(r.b1024) || diverging(r.exact) {
		body = append(body, goapp.P().ID("p6-diverging").Class("verdict warn").Role("alert").Textf(
			"Training is diverging: the expected loss grew instead of falling, so learning rate %s is too large for this problem (gradient descent on a quadratic is stable only below 2 / the largest curvature). The weights below are not a solution.", FormatNum(r.lr, 3)))
	}
	body = append(body,
		LinePlot{ID: "p6-de-plot", Title: fmt.Sprintf("Loss with dropout p = 0.5 (learning rate %s)", FormatNum(r.lr, 3)), XLabel: "step", YLabel: "batch loss", LogY: true,
			Series: []Series{
				{Name: "batch 1", X: x, Y: r.b1.Loss, Faint: true},
				{Name: "batch 1024", X: x, Y: r.b1024.Loss},
				{Name: "expected loss (infinite batch)", X: x, Y: r.exact.Loss},
			}}.UI(),
		MatrixView{ID: "p6-de-w", Caption: "Weights after training", ColLabels: []string{"w₁", "w₂"},
			RowLabels: []string{"batch 1 (last step)", "batch 1 (mean of the second half)", "batch 1024 (last step)", "exact gradient, same steps", "least squares on the augmented data"},
			Rows:      [][]float64{r.b1.W, r.b1.TailMean, r.b1024.W, r.exact.W, ls}}.UI(),
		goapp.P().Text("(d) At batch 1 the loss curve is a noisy band: each step sees one random mask, and a dropped-out copy of x can have a large error even at the best w. The weights jitter around the least-squares solution of the augmented data; averaging them (second row) removes most of the jitter. "+
			"(e) At batch 1024 the batch loss is an average over 1024 masks, so it is close to the expected loss and the curve is smooth; its weights are close to those of gradient descent on the exact expected loss. "+
			"Any remaining gap to least squares is unfinished training (the exact-gradient row shows how far the same number of steps gets), not noise: the expected loss is badly conditioned, so the small direction converges slowly."),
	)
	return section("p6-de", "(d), (e) Gradient descent with dropout", body...)
}

func (pg *DropoutNotebookPage) partF() goapp.UI {
	ols, err := hw.OLSMinNorm(hw.ToyX, hw.ToyY)
	if err != nil {
		return section("p6-f", "(f) w₁ against w₂", errorBox("p6-f-error", err))
	}
	ls, _, err := hw.DropoutSolution(hw.ToyX, hw.ToyY, notebookDrop)
	if err != nil {
		return section("p6-f", "(f) w₁ against w₂", errorBox("p6-f-error", err))
	}
	limit, err := hw.DropoutLimit(hw.ToyX, hw.ToyY)
	if err != nil {
		return section("p6-f", "(f) w₁ against w₂", errorBox("p6-f-error", err))
	}
	rowOf := func(w []float64) []float64 {
		t, _ := hw.Contributions(hw.ToyX[0], w)
		return []float64{w[0], w[1], t[0], t[1], t[0] + t[1]}
	}
	rows := [][]float64{rowOf(ols), rowOf(ls), rowOf(limit)}
	labels := []string{"no dropout (least squares)", "dropout p = 0.5", "dropout p → 0⁺"}
	if pg.runs != nil {
		rows = append(rows, rowOf(pg.runs.b1024.W))
		labels = append(labels, "dropout p = 0.5, batch 1024 run")
	}
	return section("p6-f", "(f) w₁ against w₂",
		MatrixView{ID: "p6-f-table", Caption: "Weights and each input's contribution to the prediction", Rows: rows, RowLabels: labels,
			ColLabels: []string{"w₁", "w₂", "10·w₁", "w₂ (×1)", "prediction"}}.UI(),
		goapp.P().Text("(i) Without dropout w₁ is ten times w₂ (the minimum-norm solution points along x = [10, 1]). With dropout w₂ is the larger weight (10 times w₁ at p = 0.5). "+
			"(ii) Without dropout the large input carries almost everything: 10w₁ ≈ 10.9 against w₂ ≈ 0.11. With dropout the two contributions move towards each other (3.67 and 3.67 at p = 0.5, 5.5 each as p → 0⁺). "+
			"Why: the dropout penalty p/(1−p)·Σⱼ xⱼ²wⱼ² charges each input for the variance it adds when it is randomly dropped, and that variance is proportional to its contribution xⱼwⱼ squared. Splitting the prediction evenly across inputs minimises the sum of squares, so dropout spreads the work instead of relying on one feature. "+
			"The predictions with dropout are below 11: the model shrinks its output because a dropped input would otherwise make large errors."),
	)
}

// sweepGrid is the analytic sweep's 50 drop probabilities over [0, 0.98].
func sweepGrid() []float64 {
	ps := make([]float64, 50)
	for i := range ps {
		ps[i] = 0.98 * float64(i) / 49
	}
	return ps
}

func (pg *DropoutNotebookPage) startSweep(ctx goapp.Context, _ goapp.Event) {
	if pg.sweeping {
		return
	}
	pg.sweepGen++
	gen := pg.sweepGen
	lr, steps, seed := pg.lr, int(pg.steps), uint64(pg.seed)
	pg.sweeping, pg.sweepDone, pg.sweep, pg.sweepErr = true, 0, nil, nil
	ctx.Async(func() {
		for k, p := range sweepPs {
			// Sleeping hands control back to the browser between points,
			// so the progress bar repaints and the page stays usable.
			time.Sleep(15 * time.Millisecond)
			pts, err := hw.EmpiricalSweep(hw.TrainConfig{X: hw.ToyX, Y: hw.ToyY, Batch: 1024, LR: lr, Steps: steps, Seed: seed + uint64(k)}, []float64{p})
			ctx.Dispatch(func(goapp.Context) {
				if gen != pg.sweepGen {
					return
				}
				if err != nil {
					pg.sweepErr, pg.sweeping = err, false
					return
				}
				pg.sweep = append(pg.sweep, pts...)
				pg.sweepDone = k + 1
				pg.sweeping = k+1 < len(sweepPs)
			})
			if err != nil {
				return
			}
		}
	})
}

func (pg *DropoutNotebookPage) partG() goapp.UI {
	pts, err := pg.analytic, pg.analyticErr
	if err != nil {
		return section("p6-g", "(g) Sweeping the dropout rate", errorBox("p6-g-error", err))
	}
	if pts == nil {
		return section("p6-g", "(g) Sweeping the dropout rate", computing("p6-g-computing", "the sweep over p"))
	}
	limit, err := hw.DropoutLimit(hw.ToyX, hw.ToyY)
	if err != nil {
		return section("p6-g", "(g) Sweeping the dropout rate", errorBox("p6-g-error", err))
	}
	var ps, w1, w2 []float64
	for _, pt := range pts {
		ps = append(ps, pt.P)
		w1 = append(w1, pt.W[0])
		w2 = append(w2, pt.W[1])
	}
	series := []Series{
		{Name: "w₁ (analytic)", X: ps[1:], Y: w1[1:]},
		{Name: "w₂ (analytic)", X: ps[1:], Y: w2[1:]},
		{Name: "p = 0: least squares (w₁, w₂)", X: []float64{0, 0}, Y: []float64{w1[0], w2[0]}, Points: true},
		{Name: "limit p → 0⁺ (w₁, w₂)", X: []float64{0, 0}, Y: []float64{limit[0], limit[1]}, Points: true},
	}
	if len(pg.sweep) > 0 {
		var ex, ey []float64
		for _, e := range pg.sweep {
			ex = append(ex, e.P, e.P)
			ey = append(ey, e.Run.W[0], e.Run.W[1])
		}
		series = append(series, Series{Name: "trained, batch 1024 (w₁ and w₂)", X: ex, Y: ey, Points: true})
	}
	var progress goapp.UI
	if pg.sweeping {
		progress = ProgressBar{ID: "p6-sweep-progress", Label: "Training at each drop probability", Value: float64(pg.sweepDone), Max: float64(len(sweepPs))}.UI()
	}
	var table goapp.UI
	if len(pg.sweep) > 0 {
		rows := make([][]float64, len(pg.sweep))
		labels := make([]string, len(pg.sweep))
		for i, e := range pg.sweep {
			rows[i] = []float64{e.Run.W[0], e.Run.W[1], e.ExpectedGD[0], e.ExpectedGD[1], e.Analytic[0], e.Analytic[1]}
			labels[i] = "p = " + FormatNum(e.P, 2)
		}
		table = MatrixView{ID: "p6-sweep-table", Caption: "Empirical sweep", Rows: rows, RowLabels: labels,
			ColLabels: []string{"trained w₁", "trained w₂", "exact-gradient w₁", "exact-gradient w₂", "analytic w₁", "analytic w₂"}}.UI()
	}
	return section("p6-g", "(g) Sweeping the dropout rate",
		goapp.P().Text("The analytic minimiser of the expected dropout loss for p from 0 to 0.98, and, on request, gradient descent at batch 1024 for p in {0, 0.1, 0.3, 0.5, 0.7} with the learning rate and steps set above."),
		goapp.Button().ID("p6-sweep").Text("Run the empirical sweep").Disabled(pg.sweeping).OnClick(pg.startSweep),
		progress,
		errorBox("p6-sweep-error", pg.sweepErr),
		LinePlot{ID: "p6-g-plot", Title: "Weights against the drop probability", XLabel: "drop probability p", YLabel: "weight", Series: series}.UI(),
		table,
		goapp.P().ID("p6-jump").Textf("The jump at 0: for every p > 0 the penalty p/(1−p)·‖Γw‖² is positive definite, so the minimiser is unique, and as p → 0⁺ it tends to the point of the solution line 10w₁ + w₂ = 11 with the smallest ‖Γw‖, where both inputs contribute equally: w = %s. "+
			"At p = 0 the penalty vanishes and the problem is under-determined; the pseudo-inverse (and gradient descent from 0) pick the minimum-norm point %s instead, a different point of the same line. The limit of the solutions is not the solution at the limit.", Vec(limit), Vec(pts[0].W)),
	)
}

// optRun is one row of part (h).
type optRun struct {
	label string
	w     []float64
}

// analyticSweep is the analytic solution over sweepGrid.
func analyticSweep() ([]hw.SweepPoint, error) {
	return hw.AnalyticSweep(hw.ToyX, hw.ToyY, sweepGrid())
}

// optimizerRuns are part (h)'s four runs.
func optimizerRuns() ([]optRun, error) {
	var out []optRun
	for _, p := range []float64{0, notebookDrop} {
		for _, o := range []struct {
			opt hw.Optimizer
			lr  float64
		}{{hw.SGD, 1e-3}, {hw.Adam, 1e-2}} {
			r, err := hw.Train(hw.TrainConfig{X: hw.ToyX, Y: hw.ToyY, P: p, LR: o.lr, Steps: 5000, Optimizer: o.opt})
			if err != nil {
				return nil, err
			}
			out = append(out, optRun{fmt.Sprintf("%s, p = %s, lr %s", o.opt, FormatNum(p, 2), FormatNum(o.lr, 2)), r.W})
		}
	}
	return out, nil
}

func (pg *DropoutNotebookPage) partH() goapp.UI {
	runs, err := pg.optRuns, pg.optErr
	if err != nil {
		return section("p6-h", "(h) SGD against Adam", errorBox("p6-h-error", err))
	}
	if runs == nil {
		return section("p6-h", "(h) SGD against Adam", computing("p6-h-computing", "the optimizer runs"))
	}
	rows := make([][]float64, len(runs))
	labels := make([]string, len(runs))
	for i, r := range runs {
		t, _ := hw.Contributions(hw.ToyX[0], r.w)
		rows[i] = []float64{r.w[0], r.w[1], t[0] + t[1]}
		labels[i] = r.label
	}
	return section("p6-h", "(h) SGD against Adam",
		goapp.P().Text("5000 steps on the exact expected gradient (so only the optimizer differs), from w = 0."),
		MatrixView{ID: "p6-h-table", Caption: "Final weights", Rows: rows, RowLabels: labels, ColLabels: []string{"w₁", "w₂", "prediction"}}.UI(),
		goapp.P().Text("Without dropout the solution changes: the loss has a line of minimisers, SGD from 0 stays on the line through x and finds the minimum-norm point, while Adam divides each coordinate's step by its own gradient scale, so both weights move at about the same speed and it lands elsewhere on the line (near w₁ = w₂). "+
			"With dropout the solution does not change: the expected loss is strictly convex with one minimiser, and any optimizer that converges finds it. The regulariser, not the optimizer, decides the answer."),
	)
}

// diverging reports a run whose expected loss ended far above where it
// started: core only stops a run at an infinite weight, and a page must not
// present 1e95 as a result.
func diverging(r *hw.Run) bool {
	n := len(r.Expected)
	return n > 1 && !(r.Expected[n-1] <= 100*r.Expected[0])
}
