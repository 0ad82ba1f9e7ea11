package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/gpu"
)

// LayersPage is problem 5: the layer library's gradient checks run live on
// the CPU (float64, course thresholds) and on the GPU (the WGSL kernels
// against the float64 layers), the batchnorm graph, and the notebook
// experiments. Every computation starts on a button press and runs in a
// goroutine, handing results back with ctx.Dispatch.
type LayersPage struct {
	goapp.Compo

	cpu map[string]*cpuCheckState
	gpu map[string]*gpuCheckState
	// cpuSeq and gpuSeq count finished runs (tests wait on them).
	cpuBusy, gpuBusy bool
	cpuDone, gpuDone int
	cpuSeq, gpuSeq   int
	gpuNote          string // why there is no GPU, once known

	speed        *BNSpeed
	speedErr     error
	speedRunning bool

	exps map[string]*expState
	// page is the context of the page itself (from OnMount). Results are
	// dispatched through it, not through the clicked button's context:
	// go-app drops a dispatch whose source element is no longer mounted, and
	// a re-render can replace the button.
	page    goapp.Context
	hasPage bool
	// expCtx ends the experiments' training when the page goes away.
	expCtx    context.Context
	expCancel context.CancelFunc
}

type cpuCheckState struct {
	errs    []GradError
	err     error
	running bool
	took    time.Duration
}

type gpuCheckState struct {
	res     GPUResult
	err     error
	running bool
	took    time.Duration
}

// expState is one notebook experiment's run.
type expState struct {
	running bool
	frac    float64
	err     error
	hist    []History
	sweep   []SweepPoint
	took    time.Duration
}

// The GPU device is opened once per page load, lazily, on the first GPU
// check; Open waits on JS promises, so it runs on the check's goroutine.
var (
	p5DevMu  sync.Mutex
	p5Dev    *gpu.Device
	p5DevErr error
)

func p5Device() (*gpu.Device, error) {
	p5DevMu.Lock()
	defer p5DevMu.Unlock()
	if p5Dev == nil && p5DevErr == nil {
		p5Dev, p5DevErr = gpu.Open(gpu.Options{})
	}
	return p5Dev, p5DevErr
}

// p5DeviceLost drops a lost device so that the next run opens a new one.
func p5DeviceLost(err error) {
	if !errors.Is(err, gpu.ErrDeviceLost) {
		return
	}
	p5DevMu.Lock()
	defer p5DevMu.Unlock()
	if p5Dev != nil {
		p5Dev.Close()
	}
	p5Dev, p5DevErr = nil, nil
}

func (pg *LayersPage) init() {
	if pg.cpu == nil {
		pg.cpu, pg.gpu, pg.exps = map[string]*cpuCheckState{}, map[string]*gpuCheckState{}, map[string]*expState{}
		for _, c := range LayerChecks() {
			pg.cpu[c.ID] = &cpuCheckState{}
			pg.gpu[c.ID] = &gpuCheckState{}
		}
		for _, k := range []string{"deepbn", "sweep", "dropout"} {
			pg.exps[k] = &expState{}
		}
	}
	if pg.expCtx == nil {
		pg.expCtx, pg.expCancel = context.WithCancel(context.Background())
	}
}

// OnMount keeps the page's own context for dispatching results.
func (pg *LayersPage) OnMount(ctx goapp.Context) { pg.page, pg.hasPage = ctx, true }

// pageCtx is the context to hand results back through.
func (pg *LayersPage) pageCtx(ctx goapp.Context) goapp.Context {
	if pg.hasPage {
		return pg.page
	}
	return ctx
}

// OnDismount stops experiments in progress: nobody is looking at them.
func (pg *LayersPage) OnDismount() {
	pg.hasPage = false
	if pg.expCancel != nil {
		pg.expCancel()
		pg.expCtx, pg.expCancel = nil, nil
	}
}

// OnNav titles the page after an in-app navigation.
func (pg *LayersPage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 5) }

// OnPreRender titles the pre-rendered page; nothing runs before a click.
func (pg *LayersPage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 5) }

// yieldToPage lets the browser paint and handle input between steps: Go's
// wasm runs on the page's only thread, so a loop that never blocks would
// freeze it.
func yieldToPage() { time.Sleep(time.Millisecond) }

// runCPU runs the CPU checks with these ids, one after another.
func (pg *LayersPage) runCPU(ctx goapp.Context, ids []string) {
	pg.init()
	ctx = pg.pageCtx(ctx)
	if pg.cpuBusy {
		return
	}
	pg.cpuBusy, pg.cpuDone = true, 0
	for _, id := range ids {
		pg.cpu[id].running = true
	}
	checks := checksByID(ids)
	ctx.Async(func() {
		for _, c := range checks {
			yieldToPage()
			t0 := time.Now()
			errs, err := c.CPU()
			took := time.Since(t0)
			ctx.Dispatch(func(goapp.Context) {
				*pg.cpu[c.ID] = cpuCheckState{errs: errs, err: err, took: took}
				pg.cpuDone++
			})
		}
		ctx.Dispatch(func(goapp.Context) { pg.cpuBusy = false; pg.cpuSeq++ })
	})
}

// runGPU runs the GPU checks with these ids; it opens the device first.
func (pg *LayersPage) runGPU(ctx goapp.Context, ids []string) {
	pg.init()
	ctx = pg.pageCtx(ctx)
	if pg.gpuBusy {
		return
	}
	var checks []LayerCheck
	for _, c := range checksByID(ids) {
		if c.GPU != nil {
			checks = append(checks, c)
			pg.gpu[c.ID].running = true
		}
	}
	pg.gpuBusy, pg.gpuDone = true, 0
	ctx.Async(func() {
		yieldToPage()
		d, err := p5Device()
		if err != nil {
			why := DetectWebGPU()
			ctx.Dispatch(func(goapp.Context) {
				pg.gpuNote = "No GPU device: " + err.Error() + ". " + why.Text
				for _, c := range checks {
					*pg.gpu[c.ID] = gpuCheckState{err: err}
				}
				pg.gpuBusy = false
				pg.gpuSeq++
			})
			return
		}
		info := d.Info().String()
		ctx.Dispatch(func(goapp.Context) { pg.gpuNote = "Adapter: " + info })
		for _, c := range checks {
			t0 := time.Now()
			res, err := c.GPU(d)
			took := time.Since(t0)
			p5DeviceLost(err)
			ctx.Dispatch(func(goapp.Context) {
				*pg.gpu[c.ID] = gpuCheckState{res: res, err: err, took: took}
				pg.gpuDone++
			})
			yieldToPage()
		}
		ctx.Dispatch(func(goapp.Context) { pg.gpuBusy = false; pg.gpuSeq++ })
	})
}

func checksByID(ids []string) []LayerCheck {
	var out []LayerCheck
	for _, c := range LayerChecks() {
		for _, id := range ids {
			if c.ID == id {
				out = append(out, c)
			}
		}
	}
	return out
}

func allCheckIDs() []string {
	var ids []string
	for _, c := range LayerChecks() {
		ids = append(ids, c.ID)
	}
	return ids
}

func (pg *LayersPage) runSpeed(ctx goapp.Context) {
	ctx = pg.pageCtx(ctx)
	if pg.speedRunning {
		return
	}
	pg.speedRunning = true
	ctx.Async(func() {
		yieldToPage()
		s, err := MeasureBNSpeed(9, yieldToPage)
		ctx.Dispatch(func(goapp.Context) { pg.speed, pg.speedErr, pg.speedRunning = &s, err, false })
	})
}

// runExp runs one notebook experiment with progress.
func (pg *LayersPage) runExp(ctx goapp.Context, key string) {
	pg.init()
	ctx = pg.pageCtx(ctx)
	st := pg.exps[key]
	if st.running {
		return
	}
	*st = expState{running: true}
	runCtx := pg.expCtx
	ctx.Async(func() {
		yieldToPage()
		last := time.Now()
		progress := func(f float64) {
			// Hand progress to the page at most every 100 ms and yield
			// every time, so clicks and scrolling keep working.
			if time.Since(last) > 100*time.Millisecond {
				last = time.Now()
				ctx.Dispatch(func(goapp.Context) { st.frac = f })
			}
			yieldToPage()
		}
		t0 := time.Now()
		var hist []History
		var sweep []SweepPoint
		var err error
		switch key {
		case "deepbn":
			hist, err = RunDeepBN(runCtx, progress)
		case "sweep":
			sweep, err = RunScaleSweep(runCtx, progress)
		case "dropout":
			hist, err = RunDropoutReg(runCtx, progress)
		}
		took := time.Since(t0)
		ctx.Dispatch(func(goapp.Context) {
			*st = expState{hist: hist, sweep: sweep, err: err, took: took, frac: 1}
		})
	})
}

// Render draws the page.
func (pg *LayersPage) Render() goapp.UI {
	pg.init()
	return problemFrame(5,
		goapp.P().Class("convention").Text("Convention on this page: dropout p is the probability of DROPPING a unit (the course's dropout notebook passes the keep probability instead); kept units are scaled by 1/(1 − p). Batchnorm uses eps 1e-5 and momentum 0.9."),
		pg.checksSection(),
		pg.bnSection(),
		pg.expSection(),
		section("p5-cnn", "Training a CNN on the GPU",
			goapp.P().Text("The notebook's last part trains a CNN (conv, batchnorm, ReLU, pool, dropout) on a GPU, then a design of your own. That runs on its own page, on this browser's GPU:"),
			goapp.P().Body(goapp.A().ID("p5-train-link").Href(Href(TrainPath)).Text("Open the training page")),
		),
	)
}

func fmtErr(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprintf("%.2e", v)
}

func passMark(ok bool) goapp.UI {
	if ok {
		return goapp.Span().Class("mark", "pass").DataSet("pass", "yes").Style("white-space", "nowrap").Text("✓ pass")
	}
	return goapp.Span().Class("mark", "fail").DataSet("pass", "no").Style("white-space", "nowrap").Style("color", "#b00020").Text("✗ fail")
}

func (pg *LayersPage) checksSection() goapp.UI {
	checks := LayerChecks()
	nGPU := 0
	for _, c := range checks {
		if c.GPU != nil {
			nGPU++
		}
	}
	var progress []goapp.UI
	if pg.cpuBusy {
		progress = append(progress, ProgressBar{ID: "p5-cpu-progress", Label: "CPU checks", Value: float64(pg.cpuDone), Max: float64(len(pg.runningCPU()))}.UI())
	}
	if pg.gpuBusy {
		progress = append(progress, ProgressBar{ID: "p5-gpu-progress", Label: "GPU checks", Value: float64(pg.gpuDone), Max: float64(max(1, pg.runningGPU()))}.UI())
	}
	// Always present, so that the elements after it keep their places.
	note := goapp.P().ID("p5-gpu-note").Hidden(pg.gpuNote == "").Text(pg.gpuNote)
	if pg.gpuNote != "" {
		note = note.Class("notice")
	}
	return section("p5-checks", "Gradient checks, live",
		goapp.P().Text("CPU: each layer's analytic backward (core/nn, float64) against centred differences with h = 1e-5, compared with the course's rel_error(x, y) = max |x − y| / max(1e-8, |x| + |y|), on the notebooks' shapes; pass means the error is below the threshold the notebook quotes."),
		goapp.P().Text(fmt.Sprintf("GPU: the WGSL kernels (%d layers) run forward and backward in float32 on the inputs rounded to float32, and are compared element by element with the float64 layer on the same inputs. float32 cannot reach 1e-8, so each output has an error bound derived from f32 rounding (stated under each result); the ratio shown is the largest |gpu − ref| / bound, and pass means ≤ 1.", nGPU)),
		goapp.Div().Class("button-row").Body(
			goapp.Button().ID("p5-run-all-cpu").Disabled(pg.cpuBusy).Text("Run all CPU checks").
				OnClick(func(ctx goapp.Context, _ goapp.Event) { pg.runCPU(ctx, allCheckIDs()) }),
			goapp.Button().ID("p5-run-all-gpu").Disabled(pg.gpuBusy).Text("Run all GPU checks").
				OnClick(func(ctx goapp.Context, _ goapp.Event) { pg.runGPU(ctx, allCheckIDs()) }),
		),
		goapp.Div().Body(progress...),
		note,
		goapp.Div().ID("p5-check-list").DataSet("cpu-seq", pg.cpuSeq).DataSet("gpu-seq", pg.gpuSeq).Body(
			goapp.Range(checks).Slice(func(i int) goapp.UI { return pg.checkCard(checks[i]) }),
		),
	)
}

func (pg *LayersPage) runningCPU() []string {
	var ids []string
	for id, s := range pg.cpu {
		if s.running {
			ids = append(ids, id)
		}
	}
	return ids
}

func (pg *LayersPage) runningGPU() int {
	n := 0
	for _, s := range pg.gpu {
		if s.running {
			n++
		}
	}
	return n + pg.gpuDone
}

func (pg *LayersPage) checkCard(c LayerCheck) goapp.UI {
	cs, gs := pg.cpu[c.ID], pg.gpu[c.ID]
	var cpuBody goapp.UI
	switch {
	case cs.running:
		cpuBody = goapp.P().Class("pending").Text("Running…")
	case cs.err != nil:
		cpuBody = errorBox("p5-cpu-err-"+c.ID, cs.err)
	case cs.errs != nil:
		cpuBody = goapp.Table().Class("check-table").Body(
			goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("gradient"), goapp.Th().Text("rel error"), goapp.Th().Text("threshold"), goapp.Th().Text("result"))),
			goapp.TBody().Body(goapp.Range(cs.errs).Slice(func(i int) goapp.UI {
				e := cs.errs[i]
				return goapp.Tr().Body(goapp.Td().Text(e.Name), goapp.Td().Text(fmtErr(e.Err)), goapp.Td().Textf("%.0e", e.Threshold), goapp.Td().Body(passMark(e.Pass())))
			})),
			goapp.Caption().Textf("CPU, float64, %s", cs.took.Round(time.Millisecond)),
		)
	default:
		cpuBody = goapp.P().Class("pending").Text("CPU: not run yet.")
	}
	var gpuBody goapp.UI
	switch {
	case c.GPU == nil:
		gpuBody = goapp.P().Text("No separate GPU kernel: the GPU runs one batchnorm backward (the closed form), checked in the row above.")
	case gs.running:
		gpuBody = goapp.P().Class("pending").Text("Running…")
	case gs.err != nil:
		gpuBody = errorBox("p5-gpu-err-"+c.ID, gs.err)
	case gs.res.Errors != nil:
		gpuBody = goapp.Div().Body(
			goapp.Table().Class("check-table").Body(
				goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("output"), goapp.Th().Text("max |gpu − ref|"), goapp.Th().Text("max |ref|"), goapp.Th().Text("error / bound"), goapp.Th().Text("result"))),
				goapp.TBody().Body(goapp.Range(gs.res.Errors).Slice(func(i int) goapp.UI {
					e := gs.res.Errors[i]
					return goapp.Tr().Body(goapp.Td().Text(e.Name), goapp.Td().Text(fmtErr(e.MaxDiff)), goapp.Td().Text(FormatNum(e.Scale, 3)), goapp.Td().Text(FormatNum(e.Ratio, 3)), goapp.Td().Body(passMark(e.Pass())))
				})),
				goapp.Caption().Textf("GPU, float32, %s", gs.took.Round(time.Millisecond)),
			),
			goapp.P().Class("tolerance").Text("Tolerance: "+gs.res.Tolerance),
		)
	default:
		gpuBody = goapp.P().Class("pending").Text("GPU: not run yet.")
	}
	gpuButton := goapp.Button().ID("p5-gpu-" + c.ID).Disabled(pg.gpuBusy || c.GPU == nil).Text("Check on GPU").
		OnClick(func(ctx goapp.Context, _ goapp.Event) { pg.runGPU(ctx, []string{c.ID}) })
	return goapp.Article().ID("p5-check-"+c.ID).Class("check-card").
		Style("border-top", "1px solid #ccd").Style("margin-top", "1rem").Body(
		goapp.H3().Text(c.Name),
		goapp.P().Class("shapes").Textf("Shapes: %s. Notebook expects: %s.", c.Shapes, c.Expect),
		goapp.Div().Class("button-row").Body(
			goapp.Button().ID("p5-cpu-"+c.ID).Disabled(pg.cpuBusy).Text("Check on CPU").
				OnClick(func(ctx goapp.Context, _ goapp.Event) { pg.runCPU(ctx, []string{c.ID}) }),
			gpuButton,
		),
		// Side by side where there is room, stacked on a phone.
		goapp.Div().Class("check-results").Style("display", "flex").Style("flex-wrap", "wrap").Style("gap", "0 2rem").Body(
			goapp.Div().ID("p5-cpu-res-"+c.ID).Class("check-result").Style("flex", "1 1 16rem").Body(cpuBody),
			goapp.Div().ID("p5-gpu-res-"+c.ID).Class("check-result").Style("flex", "1 1 22rem").Body(gpuBody),
		),
	)
}

func (pg *LayersPage) bnSection() goapp.UI {
	var speed goapp.UI
	switch {
	case pg.speedRunning:
		speed = ProgressBar{ID: "p5-speed-progress", Label: "Timing both backward passes"}.UI()
	case pg.speedErr != nil:
		speed = errorBox("p5-speed-err", pg.speedErr)
	case pg.speed != nil:
		s := pg.speed
		speed = goapp.P().ID("p5-speed-result").Body(
			goapp.Textf("On (100, 500) in this browser, per call (median of %d samples of %d calls each): graph backward %s, closed form %s: ", s.Reps, s.Calls, s.Graph.Round(time.Microsecond), s.Alt.Round(time.Microsecond)),
			goapp.Strong().Textf("%.2f× faster", s.Ratio()),
			goapp.Textf(". Both give the same dx (largest difference %.1e).", s.MaxDiff),
		)
	default:
		speed = goapp.P().ID("p5-speed-result").Class("pending").Text("Not measured yet.")
	}
	return section("p5-bn", "Batchnorm as a computational graph",
		goapp.P().Text("Training-time batchnorm normalises each feature over the batch, then scales and shifts it. Each node below is a value core/nn/batchnorm.go keeps in its cache (the grey name under it); the backward pass walks the edges in reverse, one chain-rule step per node."),
		BatchnormGraph(),
		goapp.Div().Class("equation-columns").Body(
			goapp.Div().Body(goapp.H3().Text("Forward"), eqList("bn-forward-eqs", bnForwardEqs)),
			goapp.Div().Body(goapp.H3().Text("Backward (chain rule, last node first)"), eqList("bn-backward-eqs", bnBackwardEqs)),
		),
		subsection("p5-bn-alt", "The closed-form backward",
			goapp.P().Text("Collapsing the graph's steps into one expression (with r = 1/√(σ² + ε) and z the normalised input) gives dx without the intermediate gradients:"),
			formula(bnAltEq),
			goapp.P().Text("nn.BatchnormBackwardAlt computes this; nn.BatchnormBackward walks the graph. The notebook asks for the speed-up on N, D = 100, 500: measure it here (the ratio depends on this browser and machine)."),
			goapp.Button().ID("p5-speed-run").Disabled(pg.speedRunning).Text("Measure the speed-up").
				OnClick(func(ctx goapp.Context, _ goapp.Event) { pg.runSpeed(ctx) }),
			speed,
		),
	)
}

func (pg *LayersPage) expButton(key, label string) goapp.UI {
	st := pg.exps[key]
	var status goapp.UI
	switch {
	case st.running:
		status = ProgressBar{ID: "p5-" + key + "-progress", Label: "Training", Value: st.frac, Max: 1}.UI()
	case st.err != nil:
		status = errorBox("p5-"+key+"-err", st.err)
	case st.hist != nil || st.sweep != nil:
		status = goapp.P().Class("took").Textf("Finished in %s.", st.took.Round(100*time.Millisecond))
	}
	return goapp.Div().Class("button-row").Body(
		goapp.Button().ID("p5-"+key+"-run").Disabled(st.running).Text(label).
			OnClick(func(ctx goapp.Context, _ goapp.Event) { pg.runExp(ctx, key) }),
		status,
	)
}

func epochsX(n int) []float64 { return Steps(n) }

func (pg *LayersPage) expSection() goapp.UI {
	deep, sweep, drop := pg.exps["deepbn"], pg.exps["sweep"], pg.exps["dropout"]
	var deepPlots []goapp.UI
	if len(deep.hist) == 2 {
		var loss, acc []Series
		for _, h := range deep.hist {
			loss = append(loss, Series{Name: h.Name, X: Steps(len(h.Loss)), Y: h.Loss, Faint: false})
			acc = append(acc, Series{Name: h.Name + " (train)", X: epochsX(len(h.TrainAcc)), Y: h.TrainAcc},
				Series{Name: h.Name + " (val)", X: epochsX(len(h.ValAcc)), Y: h.ValAcc})
		}
		deepPlots = append(deepPlots,
			goapp.Div().Class("plot-pair").Body(
				LinePlot{ID: "p5-deepbn-loss", Title: "Training loss", XLabel: "iteration", YLabel: "loss", Series: loss}.UI(),
				LinePlot{ID: "p5-deepbn-acc", Title: "Accuracy", XLabel: "epoch", YLabel: "accuracy", Series: acc}.UI(),
			))
	}
	var sweepPlot goapp.UI
	if sweep.sweep != nil {
		var xs, bn, plain, bnT, plainT []float64
		for _, p := range sweep.sweep {
			xs = append(xs, math.Log10(p.Scale))
			bn, plain = append(bn, p.BNVal), append(plain, p.PlainVal)
			bnT, plainT = append(bnT, p.BNTrain), append(plainT, p.PlainTrain)
		}
		sweepPlot = LinePlot{ID: "p5-sweep-plot", Title: "Best validation and final training accuracy against the initial weight scale", XLabel: "log10(weight scale)", YLabel: "accuracy",
			Series: []Series{{Name: "batchnorm, validation", X: xs, Y: bn}, {Name: "no batchnorm, validation", X: xs, Y: plain},
				{Name: "batchnorm, train", X: xs, Y: bnT, Points: true}, {Name: "no batchnorm, train", X: xs, Y: plainT, Points: true}}}.UI()
	}
	var dropPlot goapp.UI
	if len(drop.hist) == 2 {
		var s []Series
		for _, h := range drop.hist {
			s = append(s, Series{Name: h.Name + ", train", X: epochsX(len(h.TrainAcc)), Y: h.TrainAcc},
				Series{Name: h.Name + ", validation", X: epochsX(len(h.ValAcc)), Y: h.ValAcc})
		}
		dropPlot = LinePlot{ID: "p5-dropout-plot", Title: "Train and validation accuracy, 500 training images", XLabel: "epoch", YLabel: "accuracy", Series: s}.UI()
	}
	return section("p5-exps", "The notebook experiments, live",
		goapp.P().ID("p5-exp-data").Text(ExpDataText),
		subsection("p5-deepbn", "Deep network with and without batchnorm",
			goapp.P().Class("question").Text("Question: does batchnorm make a deep network (5 hidden layers of 100) train faster?"),
			goapp.P().Textf("Both nets start from weights of scale 0.02 and train with Adam (learning rate 1e-3, batch 50) for %d epochs (the notebook: 10 on 1000 images). Batchnorm keeps every layer's inputs at zero mean and unit variance, so the signal neither shrinks nor explodes through the layers and the loss falls sooner.", DeepBNEpochs),
			pg.expButton("deepbn", "Train both nets"),
			goapp.Div().Body(deepPlots...),
		),
		subsection("p5-sweep", "Weight-initialisation scale sweep",
			goapp.P().Class("question").Text("Question: how sensitive is an 8-layer network (7 hidden layers of 50) to the scale of its initial weights, with and without batchnorm?"),
			goapp.P().Textf("Scales logspace(−4, 0, %d) (the notebook: 20 points), %d epochs each (the notebook: 10), Adam, learning rate 1e-3. Without batchnorm a small scale makes the activations vanish layer by layer and a large one makes them explode; batchnorm renormalises every layer, so a wide range of scales trains.", SweepPoints, SweepEpochs),
			pg.expButton("sweep", "Run the sweep"),
			sweepPlot,
			sweepDiverged(sweep.sweep),
		),
		subsection("p5-dropout", "Dropout as regularisation",
			goapp.P().Class("question").Text("Question: one hidden layer of 500 units trained on only 500 images, with and without dropout, and the gap between training and validation accuracy. What does it suggest about dropout?"),
			goapp.P().Textf("Dropout p = %.2f (probability of dropping; the notebook's keep probability 0.25), Adam, learning rate %g, batch 100, %d epochs (the notebook: 25, learning rate 5e-4).", DropoutP, DropoutLR, DropoutEpochs),
			pg.expButton("dropout", "Train both nets"),
			dropPlot,
			pg.dropoutAnswer(),
		),
	)
}

// dropoutAnswer reads the measured curves: the answer cites the run's own
// numbers, not a remembered result.
func (pg *LayersPage) dropoutAnswer() goapp.UI {
	drop := pg.exps["dropout"]
	if len(drop.hist) != 2 {
		return goapp.P().ID("p5-dropout-answer").Text("What it suggests: dropout is a regulariser. Run the experiment to measure it on these images: expect the net without dropout to fit its 500 training images almost perfectly, and the one with dropout to keep a smaller gap between training and validation accuracy.")
	}
	gap := func(h History) (float64, float64, float64) {
		tr := h.TrainAcc[len(h.TrainAcc)-1]
		va := h.ValAcc[len(h.ValAcc)-1]
		return tr, va, tr - va
	}
	t0, v0, g0 := gap(drop.hist[0])
	t1, v1, g1 := gap(drop.hist[1])
	var verdict string
	switch {
	case g1 < g0 && v1 >= v0:
		verdict = "Dropout narrowed the gap and validation accuracy held or improved: it regularises, trading fit to the training set for less overfitting."
	case g1 < g0:
		verdict = "Dropout narrowed the gap, so it regularises: the net memorises its 500 images less. Validation accuracy did not improve in this short run, though: p = 0.75 is strong regularisation, and the dropout net is still catching up (its training accuracy is lower too)."
	default:
		verdict = "In this run dropout did not narrow the gap; with so few epochs the dropout net may still be underfitting. Its effect is on the gap, not on the training accuracy."
	}
	return goapp.P().ID("p5-dropout-answer").Textf("Last epoch: without dropout train %.2f, validation %.2f (gap %.2f); with dropout train %.2f, validation %.2f (gap %.2f). %s",
		t0, v0, g0, t1, v1, g1, verdict)
}

// sweepDiverged names the runs whose loss stopped being finite: their
// accuracies are from before that point.
func sweepDiverged(pts []SweepPoint) goapp.UI {
	var names []string
	for _, p := range pts {
		if p.BNDiverged {
			names = append(names, "batchnorm at scale "+FormatNum(p.Scale, 2))
		}
		if p.PlainDiverged {
			names = append(names, "no batchnorm at scale "+FormatNum(p.Scale, 2))
		}
	}
	if len(names) == 0 {
		return nil
	}
	return goapp.P().ID("p5-sweep-diverged").Class("notice").Textf("Diverged (loss became infinite or NaN; accuracy from before): %s.", strings.Join(names, "; "))
}
