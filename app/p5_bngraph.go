package app

import (
	"fmt"
	"math"
	"time"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// bnNode is a value of training-time batchnorm. Field is the name of the
// nn.BatchnormCache field that holds it ("" for inputs and the output), so
// the drawing and core/nn/batchnorm.go use the same names.
type bnNode struct {
	ID, Label, Field string
	X, Y             float64
	Kind             string // "input", "inter", "output"
}

type bnEdge struct{ From, To, Op string }

var bnNodes = []bnNode{
	{"x", "X", "", 62, 200, "input"},
	{"mu", "μ", "Mu", 185, 80, "inter"},
	{"xmu", "X − μ", "Xmu", 300, 200, "inter"},
	{"var", "σ²", "Var", 400, 80, "inter"},
	{"sqrtvar", "√(σ²+ε)", "Sqrtvar", 545, 80, "inter"},
	{"ivar", "1/√(σ²+ε)", "Ivar", 700, 80, "inter"},
	{"xhat", "Z = x̂", "Xhat", 700, 200, "inter"},
	{"gamma", "γ", "Gamma", 480, 290, "input"},
	{"beta", "β", "", 480, 390, "input"},
	{"y", "Y", "", 700, 340, "output"},
}

var bnEdges = []bnEdge{
	{"x", "mu", "mean"},
	{"x", "xmu", "subtract"},
	{"mu", "xmu", "subtract"},
	{"xmu", "var", "mean of squares"},
	{"var", "sqrtvar", "+ε, √"},
	{"sqrtvar", "ivar", "1/·"},
	{"xmu", "xhat", "×"},
	{"ivar", "xhat", "×"},
	{"xhat", "y", "×"},
	{"gamma", "y", "×"},
	{"beta", "y", "+"},
}

func bnNodeByID(id string) bnNode {
	for _, n := range bnNodes {
		if n.ID == id {
			return n
		}
	}
	return bnNode{}
}

// BatchnormGraph draws the training-time batchnorm graph as SVG.
func BatchnormGraph() goapp.UI {
	const w, h, rx, ry = 800.0, 430.0, 56.0, 24.0
	parts := []goapp.UI{
		svgEl("defs").Body(
			svgEl("marker").ID("bn-arrow").Attr("viewBox", "0 0 10 10").Attr("refX", "10").Attr("refY", "5").
				Attr("markerWidth", "7").Attr("markerHeight", "7").Attr("orient", "auto-start-reverse").Body(
				svgEl("path").Attr("d", "M 0 0 L 10 5 L 0 10 z").Attr("fill", "#444"),
			),
		),
	}
	for _, e := range bnEdges {
		a, b := bnNodeByID(e.From), bnNodeByID(e.To)
		// Stop the arrow at the target ellipse's rim along the line.
		dx, dy := b.X-a.X, b.Y-a.Y
		t := ellipseExit(dx, dy, rx, ry)
		x1, y1 := a.X+dx*t, a.Y+dy*t
		x2, y2 := b.X-dx*t, b.Y-dy*t
		// Labels sit beside the line: above a horizontal or slanted one,
		// to the right of a vertical one.
		lx, ly, anchor := 0.0, -7.0, "middle"
		if math.Abs(dx) < 1 {
			lx, ly, anchor = 8, 5, "start"
		}
		parts = append(parts,
			svgEl("line").Class("bn-edge").DataSet("from", e.From).DataSet("to", e.To).
				Attr("x1", f1(x1)).Attr("y1", f1(y1)).Attr("x2", f1(x2)).Attr("y2", f1(y2)).
				Attr("stroke", "#444").Attr("stroke-width", "1.5").Attr("marker-end", "url(#bn-arrow)"),
			svgEl("text").Class("bn-op").Attr("x", f1((x1+x2)/2+lx)).Attr("y", f1((y1+y2)/2+ly)).
				Attr("text-anchor", anchor).Attr("font-size", "15").Attr("fill", "#7a2e00").Text(e.Op),
		)
	}
	fill := map[string]string{"input": "#e7f0fb", "inter": "#fff4e0", "output": "#e6f4ea"}
	for _, n := range bnNodes {
		label := n.Label
		parts = append(parts, svgEl("g").Class("bn-node").ID("bn-node-"+n.ID).DataSet("field", n.Field).Body(
			svgEl("ellipse").Attr("cx", f1(n.X)).Attr("cy", f1(n.Y)).Attr("rx", f1(rx)).Attr("ry", f1(ry)).
				Attr("fill", fill[n.Kind]).Attr("stroke", "#1d4e89").Attr("stroke-width", "1.5"),
			svgEl("text").Attr("x", f1(n.X)).Attr("y", f1(n.Y+6)).Attr("text-anchor", "middle").Attr("font-size", "17").Text(label),
		))
		if n.Field != "" {
			parts = append(parts, svgEl("text").Class("bn-field").Attr("x", f1(n.X)).Attr("y", f1(n.Y+ry+16)).
				Attr("text-anchor", "middle").Attr("font-size", "13").Attr("fill", "#555").Text("cache."+n.Field))
		}
	}
	return goapp.Figure().ID("bn-graph").Class("plot").Body(
		goapp.FigCaption().Class("plot-title").Text("Training-time batchnorm as a computational graph (per feature, over the N rows of the batch)"),
		svgEl("svg").Class("plot-svg").Attr("viewBox", fmt.Sprintf("0 0 %g %g", w, h)).
			Attr("role", "img").
			Aria("label", "Graph: inputs X, gamma, beta; X gives the mean mu; X minus mu gives the variance sigma squared, then the square root of sigma squared plus eps and its inverse; X minus mu times the inverse gives Z (x hat); Y is gamma times Z plus beta.").
			Body(parts...),
	)
}

// ellipseExit returns the fraction of the vector (dx, dy) that lies inside
// an ellipse of radii rx, ry centred at its start (or, by symmetry, its end).
func ellipseExit(dx, dy, rx, ry float64) float64 {
	q := (dx*dx)/(rx*rx) + (dy*dy)/(ry*ry)
	if q == 0 {
		return 0
	}
	return 1 / math.Sqrt(q)
}

// bnForwardEqs and bnBackwardEqs are the graph's forward pass and its
// reverse-mode chain rule, node by node, with the cache names.
var bnForwardEqs = []string{
	`\mu = \frac{1}{N}\sum_i x_i \quad (\mathrm{Mu})`,
	`x_i - \mu \quad (\mathrm{Xmu})`,
	`\sigma^2 = \frac{1}{N}\sum_i (x_i-\mu)^2 \quad (\mathrm{Var})`,
	`s = \sqrt{\sigma^2+\epsilon} \quad (\mathrm{Sqrtvar}), \quad r = 1/s \quad (\mathrm{Ivar})`,
	`z_i = (x_i-\mu)\, r \quad (\mathrm{Xhat})`,
	`y_i = \gamma z_i + \beta`,
}

var bnBackwardEqs = []string{
	`\partial\beta = \sum_i \partial y_i, \quad \partial\gamma = \sum_i \partial y_i\, z_i`,
	`\partial z_i = \gamma\, \partial y_i`,
	`\partial r = \sum_i \partial z_i (x_i-\mu), \quad \partial(x_i-\mu) {+}{=} \partial z_i\, r`,
	`\partial s = -\partial r / s^2, \quad \partial\sigma^2 = \partial s / (2s)`,
	`\partial(x_i-\mu) {+}{=} \frac{2}{N}(x_i-\mu)\,\partial\sigma^2`,
	`\partial\mu = -\sum_i \partial(x_i-\mu), \quad \partial x_i = \partial(x_i-\mu) + \frac{1}{N}\partial\mu`,
}

var bnAltEq = `\partial x_i = \frac{\gamma\, r}{N}\Big(N\,\partial y_i - \sum_j \partial y_j - z_i \sum_j \partial y_j\, z_j\Big)`

func eqList(id string, eqs []string) goapp.UI {
	return goapp.Ol().ID(id).Class("equations").Body(
		goapp.Range(eqs).Slice(func(i int) goapp.UI { return goapp.Li().Body(formula(eqs[i])) }),
	)
}

// BNSpeed is a measured comparison of the graph and closed-form backward.
type BNSpeed struct {
	Graph, Alt time.Duration // per call: median over Reps samples
	Reps       int           // samples of each
	Calls      int           // calls timed together in one sample
	MaxDiff    float64       // max |dx_graph - dx_alt|: they must agree
}

// Ratio is how many times faster the closed form is.
func (s BNSpeed) Ratio() float64 { return float64(s.Graph) / float64(s.Alt) }

// bnSpeedCalls are timed together in each sample: browsers coarsen their
// clocks (to 0.1 ms or worse), about the length of one call on (100, 500).
const bnSpeedCalls = 5

// MeasureBNSpeed times nn.BatchnormBackward and nn.BatchnormBackwardAlt on
// (100, 500), alternating them so that both see the same machine state,
// and takes each one's median. pause runs between samples (in the browser
// it yields to the page).
func MeasureBNSpeed(reps int, pause func()) (BNSpeed, error) {
	const n, d = 100, 500
	x, err := randn(520, 5, 12, n, d)
	if err != nil {
		return BNSpeed{}, err
	}
	in, err := randnAll(521, []int{d}, []int{d}, []int{n, d})
	if err != nil {
		return BNSpeed{}, err
	}
	_, cache, err := nn.BatchnormForward(x, in[0], in[1], nn.NewBatchnormParam())
	if err != nil {
		return BNSpeed{}, err
	}
	var tg, ta []time.Duration
	var dxG, dxA *tensor.Tensor
	timed := func(back bnBackward) (*tensor.Tensor, time.Duration, error) {
		var dx *tensor.Tensor
		var err error
		t0 := time.Now()
		for range bnSpeedCalls {
			if dx, _, _, err = back(in[2], cache); err != nil {
				return nil, 0, err
			}
		}
		return dx, time.Since(t0) / bnSpeedCalls, nil
	}
	for r := 0; r < reps; r++ {
		var g, a time.Duration
		if dxG, g, err = timed(nn.BatchnormBackward); err != nil {
			return BNSpeed{}, err
		}
		if dxA, a, err = timed(nn.BatchnormBackwardAlt); err != nil {
			return BNSpeed{}, err
		}
		tg, ta = append(tg, g), append(ta, a)
		if pause != nil {
			pause()
		}
	}
	s := BNSpeed{Graph: median(tg), Alt: median(ta), Reps: reps, Calls: bnSpeedCalls}
	for i := range dxG.Data {
		s.MaxDiff = max(s.MaxDiff, math.Abs(dxG.Data[i]-dxA.Data[i]))
	}
	return s, nil
}

func median(ds []time.Duration) time.Duration {
	c := append([]time.Duration(nil), ds...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}
