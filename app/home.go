package app

import (
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Home is the landing page: what gradlab is, whether this browser has
// WebGPU, and the list of homework problems.
type Home struct {
	goapp.Compo
	gpu GPUStatus
}

// OnMount starts the WebGPU check. It runs only in the browser; natively the
// page keeps its "checking" line.
func (h *Home) OnMount(ctx goapp.Context) {
	ctx.Async(func() {
		s := DetectWebGPU()
		ctx.Dispatch(func(goapp.Context) { h.gpu = s })
	})
}

// Render draws the page.
func (h *Home) Render() goapp.UI {
	return Shell("/",
		goapp.H1().Text("gradlab"),
		goapp.P().Class("lead").Text("A deep-learning homework on batchnorm, dropout and convolutions, as live pages. "+
			"Every layer has a float64 reference on the CPU and a WGSL compute kernel that runs on this device's GPU through WebGPU."),
		gpuLine(h.gpu),
		goapp.H2().ID("problems-heading").Text("Problems"),
		goapp.Ol().Class("problems").Aria("labelledby", "problems-heading").Body(
			goapp.Range(Problems).Slice(func(i int) goapp.UI {
				p := Problems[i]
				return goapp.Li().Class("problem").Body(
					goapp.A().Href(Href(p.Path)).Body(
						goapp.Span().Class("problem-num").Text(p.Number),
						goapp.Span().Class("problem-title").Text(p.Title),
					),
					goapp.P().Class("problem-summary").Text(p.Summary),
				)
			}),
		),
		goapp.H2().Text("Exercises"),
		goapp.P().Body(
			goapp.A().ID("exercises-link").Href(Href(ExercisesPath)).Text("Write the layer kernels yourself"),
			goapp.Text(": ReLU, dropout, batchnorm, convolution and max pooling in WGSL, checked on your GPU against the float64 reference."),
		),
		goapp.H2().Text("Training"),
		goapp.P().Body(
			goapp.A().ID("train-link").Href(Href(TrainPath)).Text("Train a CNN in the browser"),
			goapp.Text(": the reference CNN, the three-layer conv net or your own stack of layers on Fashion-MNIST, with live curves, filters and predictions."),
		),
	)
}

// gpuLine shows the WebGPU status; aria-live makes screen readers announce
// the result when the asynchronous check finishes.
func gpuLine(s GPUStatus) goapp.UI {
	if s.State == "" {
		s = checkingStatus()
	}
	return goapp.P().
		ID("gpu-status").
		Class("gpu-status", "gpu-"+string(s.State)).
		DataSet("state", string(s.State)).
		Aria("live", "polite").
		Body(
			goapp.Strong().Text("Compute: "),
			goapp.Text(s.Text),
		)
}

// OnNav restores the site title when coming back from a problem page.
func (h *Home) OnNav(ctx goapp.Context) { ctx.Page().SetTitle("gradlab") }
