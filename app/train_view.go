package app

import (
	"fmt"
	"strconv"

	"gradlab/core/data"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Render draws the page.
// The page's layout rules are inline styles: the shared stylesheet is not
// this page's to change.
func (p *TrainPage) Render() goapp.UI {
	p.init()
	return Shell(TrainPath,
		goapp.Div().ID("train-page").DataSet("phase", p.phase).DataSet("device", cmpOr(p.device, "checking")).Body(
			goapp.H1().Text("Train a CNN in the browser"),
			goapp.P().Class("lead").Body(
				goapp.Text("The homework's last step, on this device: a network built from the layers of "),
				goapp.A().Href(Href("/p5")).Text("problem 5"),
				goapp.Text(" trained on Fashion-MNIST with WebGPU compute kernels, or on the float64 CPU reference when there is no GPU."),
			),
			p.deviceLine(),
			p.setupSection(),
			p.progressSection(),
			p.curvesSection(),
			p.modelSection(),
		),
	)
}

func (p *TrainPage) deviceLine() goapp.UI {
	switch p.device {
	case "":
		return goapp.P().ID("train-device").Class("muted").Aria("live", "polite").Text("Looking for a WebGPU adapter…")
	case "cpu":
		return goapp.Div().ID("train-cpu-banner").Class("notice").Role("status").Body(
			goapp.Strong().Text(cpuBanner),
			goapp.Text(" ("+p.devNote+")"),
		)
	}
	return goapp.P().ID("train-device").Aria("live", "polite").Body(goapp.Strong().Text("GPU: "), goapp.Text(p.devNote))
}

// choice is a labelled select over keys with their labels.
func choice(id, label string, keys, labels []string, sel string, set func(string)) goapp.UI {
	return goapp.Div().Class("field").Body(
		goapp.Label().For(id).Body(goapp.Span().Class("field-label").Text(label)),
		goapp.Select().ID(id).OnChange(func(ctx goapp.Context, _ goapp.Event) {
			set(ctx.JSSrc().Get("value").String())
		}).Body(
			goapp.Range(keys).Slice(func(i int) goapp.UI {
				return goapp.Option().Value(keys[i]).Selected(keys[i] == sel).Text(labels[i])
			}),
		),
	)
}

func (p *TrainPage) setupSection() goapp.UI {
	o := &p.opts
	var mk, ml, dk, dl []string
	for _, m := range trainModels {
		mk, ml = append(mk, m.Key), append(ml, m.Label)
	}
	for _, d := range trainDatasets {
		dk, dl = append(dk, d.Key), append(dl, d.Label)
	}
	busy := p.phase == phaseLoading || p.phase == phaseTraining
	spec, specErr := o.spec()
	// Every element is always there (hidden when not needed): go-app
	// matches elements by position, and a field appearing in the middle
	// would shift the selects below it onto each other's handlers.
	archText := ""
	if specErr == nil {
		n, _ := spec.NumParams()
		archText = fmt.Sprintf("%s · %d parameters · %s", spec.Name, n, spec)
	}
	arch := goapp.P().ID("train-arch").Class("muted").Text(archText)
	msg := ""
	if specErr != nil {
		msg = specErr.Error()
	}
	cls := "field"
	if msg != "" {
		cls += " invalid"
	}
	custom := goapp.Div().ID("train-custom-field").Class(cls).Hidden(o.Model != "custom").Body(
		goapp.Label().For("train-custom").Body(
			goapp.Span().Class("field-label").Text("Layers"),
			goapp.Span().Class("field-hint").Text(" (conv F K [stride= pad= nobias], bn, relu, pool K, dropout P, sdrop P, affine N; comma separated; the last must be affine with one output per class)"),
		),
		goapp.Textarea().ID("train-custom").Rows(3).Cols(60).Attr("spellcheck", "false").
			Aria("invalid", strconv.FormatBool(msg != "")).Aria("describedby", "train-custom-msg").
			Text(o.Custom).
			OnInput(func(ctx goapp.Context, _ goapp.Event) { o.Custom = ctx.JSSrc().Get("value").String() }),
		goapp.Span().ID("train-custom-msg").Class("field-msg").Aria("live", "polite").Text(msg),
	)
	// A refusal stays until the form is fixed, then goes without a click.
	shownErr := p.formErr
	if shownErr != "" && p.formError() == "" {
		shownErr = ""
	}
	formErr := goapp.P().ID("train-form-error").Class("error").Role("alert").Hidden(shownErr == "").Text(shownErr)
	f := p.fields
	return section("train-setup", "Model, data and training",
		choice("train-model", "Model", mk, ml, o.Model, func(v string) { o.Model = v }),
		custom,
		choice("train-dataset", "Dataset", dk, dl, o.Dataset, func(v string) { o.Dataset = v }),
		arch,
		choice("train-optimizer", "Optimizer (the GPU runs sgd_momentum, adam, adamw and sgd; the CPU all five)", trainOptimizers, trainOptimizers, o.Optimizer, func(v string) { o.Optimizer = v }),
		choice("train-schedule", "Learning-rate schedule", []string{"constant", "step", "cosine"},
			[]string{"constant", "step (× decay after each epoch)", "cosine (down to 0)"}, o.Schedule, func(v string) { o.Schedule = v }),
		f["lr"], f["decay"], f["epochs"], f["batch"], f["dropout"],
		goapp.Div().Class("field").Body(
			goapp.Label().Body(
				goapp.Input().Type("checkbox").ID("train-bn").Checked(o.BN).OnChange(func(ctx goapp.Context, _ goapp.Event) {
					o.BN = ctx.JSSrc().Get("checked").Bool()
				}),
				goapp.Text(" Batchnorm (reference CNN and fully-connected net)"),
			),
		),
		f["seed"], f["subset"],
		formErr,
		goapp.Div().Class("buttons").Body(
			goapp.Button().ID("train-start").Disabled(busy).Text("Train").OnClick(p.start),
			goapp.Button().ID("train-stop").Disabled(!busy).Text("Stop").OnClick(p.stop),
		),
	)
}

func (p *TrainPage) progressSection() goapp.UI {
	var dl goapp.UI
	if p.phase == phaseLoading && p.dlLoaded > 0 {
		dl = ProgressBar{ID: "train-download", Label: fmt.Sprintf("Downloading the dataset (%.1f MB)", float64(p.dlLoaded)/1e6), Value: float64(p.dlLoaded), Max: float64(p.dlTotal)}.UI()
	} else if p.phase == phaseLoading {
		dl = ProgressBar{ID: "train-download", Label: "Loading the dataset"}.UI()
	}
	var bar goapp.UI
	if p.steps > 0 {
		bar = ProgressBar{ID: "train-progress", Label: "Training", Value: float64(p.step), Max: float64(p.steps)}.UI()
	}
	var runErr goapp.UI
	if p.runErr != "" {
		runErr = goapp.P().ID("train-error").Class("error").Role("alert").Text(p.runErr)
	}
	var stats goapp.UI
	if p.steps > 0 || p.ips > 0 {
		stats = kv("Step", fmt.Sprintf("%d of %d", p.step, p.steps), "Loss", FormatNum(p.loss, 4), "Device", p.runDevice)
	}
	return section("train-run", "Progress",
		goapp.P().ID("train-status").Aria("live", "polite").Text(p.status),
		dl, bar, stats,
		goapp.P().ID("train-ips").DataSet("ips", strconv.FormatFloat(p.ips, 'g', 6, 64)).Text(ipsText(p.ips)),
		runErr,
		goapp.P().ID("train-save").Class("muted").Text(p.saveNote),
	)
}

func ipsText(ips float64) string {
	if ips <= 0 {
		return ""
	}
	return fmt.Sprintf("%s images/s", FormatNum(ips, 3))
}

func (p *TrainPage) curvesSection() goapp.UI {
	var lx, ly []float64
	for _, l := range p.losses {
		lx, ly = append(lx, float64(l.Step)), append(ly, l.Loss)
	}
	var ex, tr, va []float64
	for _, e := range p.epochs {
		ex, tr, va = append(ex, float64(e.Epoch)), append(tr, e.TrainAcc), append(va, e.ValAcc)
	}
	body := []goapp.UI{}
	if len(lx) == 0 {
		body = append(body, goapp.P().Class("muted").Text("The loss and accuracy curves appear here during training."))
	} else {
		body = append(body, LinePlot{ID: "train-loss-plot", Title: "Training loss", XLabel: "step", YLabel: "loss",
			Series: []Series{{Name: "loss", X: lx, Y: ly}}}.UI())
	}
	if len(ex) > 0 {
		body = append(body, LinePlot{ID: "train-acc-plot", Title: "Accuracy per epoch", XLabel: "epoch", YLabel: "accuracy",
			Series: []Series{{Name: "train", X: ex, Y: tr, Points: len(ex) == 1}, {Name: "validation", X: ex, Y: va, Points: len(ex) == 1}}}.UI())
	}
	return goapp.Div().ID("train-curves").
		DataSet("losses", lossJSON(p.losses)).
		DataSet("epochs", strconv.Itoa(len(p.epochs))).
		DataSet("restored", strconv.FormatBool(p.restored)).
		Body(section("train-curves-s", "Curves", body...))
}

func (p *TrainPage) modelSection() goapp.UI {
	io := goapp.Div().ID("train-io").Body(
		goapp.Button().ID("train-export").Disabled(p.weights == nil).Text("Export weights").OnClick(p.export),
		goapp.Label().Body(goapp.Text(" Import weights for the model chosen above: "),
			goapp.Input().ID("train-import").Type("file").Accept(".weights,application/octet-stream").OnChange(p.importFile)),
		goapp.P().ID("train-io-msg").Aria("live", "polite").Text(p.ioMsg),
		errorBox("train-io-error", errorOrNil(p.ioErr)),
	)
	if p.model == nil {
		return section("train-model-s", "The trained model", goapp.P().Class("muted").Text("Train a model (or import weights) to see its filters, activations and predictions."), io)
	}
	v := p.views
	var filters goapp.UI
	if len(v.filters) == 0 {
		filters = goapp.P().Class("muted").Text("This network has no conv layer, so there are no filters to draw.")
	} else {
		filters = goapp.Div().ID("train-filters").Style("display", "flex").Style("flex-wrap", "wrap").Style("gap", "0.4rem").Body(goapp.Range(v.filters).Slice(func(i int) goapp.UI {
			return goapp.Img().Src(v.filters[i]).Alt(fmt.Sprintf("filter %d", i)).Width(36).Height(36).Style("image-rendering", "pixelated").Style("border", "1px solid #888")
		}))
	}
	var acts goapp.UI
	if v.actErr != "" {
		acts = goapp.P().ID("train-act-error").Class("muted").Text(v.actErr)
	} else {
		acts = goapp.Div().ID("train-activations").Style("display", "flex").Style("flex-wrap", "wrap").Style("gap", "0.4rem").Body(
			goapp.Range(v.activations).Slice(func(i int) goapp.UI {
				return goapp.Img().Src(v.activations[i]).Alt(fmt.Sprintf("feature map %d", i)).Width(56).Height(56).Style("image-rendering", "pixelated")
			}))
	}
	var input goapp.UI
	if v.image != "" {
		input = goapp.Img().ID("train-testimg-view").Src(v.image).Alt("the chosen test image").Width(84).Height(84).Style("image-rendering", "pixelated")
	}
	classes := p.classNames()
	preds := goapp.Div().ID("train-preds").Style("display", "flex").Style("flex-wrap", "wrap").Style("gap", "0.6rem").Body(
		goapp.Range(v.preds).Slice(func(i int) goapp.UI {
			pr := v.preds[i]
			ok := pr.True == pr.Guess
			mark := "✓"
			if !ok {
				mark = "✗"
			}
			return goapp.Figure().Class("pred").DataSet("correct", strconv.FormatBool(ok)).Style("margin", "0").Body(
				goapp.Img().Src(pr.Image).Alt("test image "+strconv.Itoa(pr.Index)).Width(56).Height(56).Style("image-rendering", "pixelated"),
				goapp.FigCaption().Style("font-size", "0.8rem").Textf("%s %s (true: %s)", mark, className(classes, pr.Guess), className(classes, pr.True)),
			)
		}))
	correct := 0
	for _, pr := range v.preds {
		if pr.True == pr.Guess {
			correct++
		}
	}
	return section("train-model-s", "The trained model",
		goapp.P().Class("muted").Text("Trained: "+p.model.Spec.String()),
		subsection("train-filters-s", "First-layer filters", goapp.P().Class("muted").Text("Each filter on its own grey (or colour) scale, from its smallest weight to its largest."), filters),
		subsection("train-act-s", "Activations of the first conv layer",
			p.fields["testimg"], input, acts),
		subsection("train-preds-s", "Predictions on test images",
			goapp.P().ID("train-preds-summary").Textf("%d of %d right.", correct, len(v.preds)),
			errorBox("train-preds-error", errorOrNil(v.predErr)),
			preds),
		subsection("train-io-s", "Export and import", io),
	)
}

func (p *TrainPage) classNames() []string {
	if ds, err := datasetByKey(p.modelOpt.Dataset); err == nil {
		return ds.Classes
	}
	return data.FashionMNISTClasses
}

func className(classes []string, i int) string {
	if i >= 0 && i < len(classes) {
		return classes[i]
	}
	return strconv.Itoa(i)
}

func errorOrNil(msg string) error {
	if msg == "" {
		return nil
	}
	return fmt.Errorf("%s", msg)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// TrainLink is the paragraph other pages (problem 5's) use to point at the
// training page.
func TrainLink() goapp.UI {
	return goapp.P().Class("train-link").Body(
		goapp.A().Href(Href(TrainPath)).Text("Train these layers as a CNN in the browser"),
		goapp.Text(": the reference CNN, the three-layer conv net or your own stack, on Fashion-MNIST, on this device's GPU."),
	)
}
