package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

const svgNS = "http://www.w3.org/2000/svg"

// svgEl makes an SVG element: go-app creates it with createElementNS only
// when the namespace is set on the element itself.
func svgEl(tag string) goapp.HTMLElem { return goapp.Elem(tag).XMLNS(svgNS) }

// Series is one curve of a LinePlot. X and Y pair up; points with a NaN or
// infinite coordinate (or y <= 0 on a log axis) are skipped and break the
// line there, so a diverging run shows as a gap, not as a spike to nowhere.
type Series struct {
	Name string
	X, Y []float64
	// Points draws markers instead of a line (e.g. empirical measurements
	// on top of an analytic curve).
	Points bool
	// Faint draws a thin, translucent line, for a noisy series that would
	// otherwise hide the others.
	Faint bool
}

// LinePlot is a line chart drawn as inline SVG with axes, ticks, labels and
// a legend. The legend is HTML below the drawing so it wraps on a phone.
type LinePlot struct {
	ID             string
	Title          string
	XLabel, YLabel string
	LogY           bool
	Series         []Series
}

// plotPalette pairs colours with dash patterns so curves stay apart for
// readers who do not see the colours.
var plotPalette = []struct{ color, dash string }{
	{"#1d4e89", ""}, {"#d9480f", "6 3"}, {"#2b8a3e", "2 3"}, {"#862e9c", "8 3 2 3"}, {"#c2255c", "1 2"}, {"#5f3dc4", "10 4"},
}

// Plot geometry in SVG user units; the SVG scales to its container width.
const (
	plotW, plotH                           = 640.0, 360.0
	plotLeft, plotRight, plotTop, plotBott = 70.0, 16.0, 16.0, 50.0
)

type plotPoint struct{ x, y float64 }

// usable reports whether a point can be drawn on these axes.
func (p LinePlot) usable(x, y float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
		return false
	}
	return !p.LogY || y > 0
}

// bounds returns the data ranges (y in log10 when LogY), or ok = false
// when no point can be drawn. The x range covers every finite x, even where
// y cannot be drawn (a loss of exactly 0 on a log axis), so the axis still
// spans the whole run.
func (p LinePlot) bounds() (x0, x1, y0, y1 float64, ok bool) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range p.Series {
		for i := 0; i < min(len(s.X), len(s.Y)); i++ {
			x, y := s.X[i], s.Y[i]
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				x0, x1 = math.Min(x0, x), math.Max(x1, x)
			}
			if !p.usable(x, y) {
				continue
			}
			if p.LogY {
				y = math.Log10(y)
			}
			y0, y1 = math.Min(y0, y), math.Max(y1, y)
			ok = true
		}
	}
	if !ok {
		return 0, 0, 0, 0, false
	}
	x0, x1 = widen(x0, x1)
	y0, y1 = widen(y0, y1)
	return x0, x1, y0, y1, true
}

// widen gives a flat range some height so a constant series sits in the
// middle of the plot instead of dividing by zero.
func widen(a, b float64) (float64, float64) {
	if b > a {
		return a, b
	}
	d := math.Abs(a) * 0.1
	if d == 0 {
		d = 1
	}
	return a - d, b + d
}

// niceTicks returns about n round tick values (1, 2 or 5 times a power of
// ten apart) covering [a, b].
func niceTicks(a, b float64, n int) []float64 {
	if !(b > a) || n < 2 {
		return []float64{a}
	}
	raw := (b - a) / float64(n-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(a/step-1e-9) * step; v <= b+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
	}
	return out
}

// logTicks returns the exponents of powers of ten within [a, b] (log10
// units), thinned to at most about 8 labels; within less than a decade it
// falls back to round values of the exponent.
func logTicks(a, b float64) []float64 {
	lo, hi := math.Ceil(a-1e-9), math.Floor(b+1e-9)
	if hi < lo {
		return niceTicks(a, b, 4)
	}
	stride := math.Max(1, math.Ceil((hi-lo+1)/8))
	var out []float64
	for e := lo; e <= hi; e += stride {
		out = append(out, e)
	}
	return out
}

// FormatTick prints an axis value compactly: 0.001, 250, 1.5e+06.
func FormatTick(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e5 || a < 1e-3 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	// Six significant digits hide the float error of summed tick steps
	// (0.6000000000000001).
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// UI draws the plot.
func (p LinePlot) UI() goapp.UI {
	fig := goapp.Figure().Class("plot")
	if p.ID != "" {
		fig = fig.ID(p.ID)
	}
	var caption goapp.UI
	if p.Title != "" {
		caption = goapp.FigCaption().Class("plot-title").Text(p.Title)
	}
	x0, x1, y0, y1, ok := p.bounds()
	if !ok {
		return fig.DataSet("empty", "true").Body(caption,
			goapp.P().Class("plot-empty").Text("No data to plot (every value is missing or not a finite number)."))
	}
	iw, ih := plotW-plotLeft-plotRight, plotH-plotTop-plotBott
	sx := func(x float64) float64 { return plotLeft + (x-x0)/(x1-x0)*iw }
	sy := func(y float64) float64 { return plotTop + (1-(y-y0)/(y1-y0))*ih }

	var parts []goapp.UI
	// Axes and grid.
	xt := niceTicks(x0, x1, 6)
	var yt []float64
	if p.LogY {
		yt = logTicks(y0, y1)
	} else {
		yt = niceTicks(y0, y1, 6)
	}
	tolX, tolY := (x1-x0)*1e-9, (y1-y0)*1e-9
	for _, v := range xt {
		if v < x0-tolX || v > x1+tolX {
			continue
		}
		x := sx(v)
		parts = append(parts,
			svgEl("line").Class("grid").Attr("x1", f1(x)).Attr("x2", f1(x)).Attr("y1", f1(plotTop)).Attr("y2", f1(plotTop+ih)),
			svgEl("text").Class("tick", "tick-x").Attr("x", f1(x)).Attr("y", f1(plotTop+ih+18)).Attr("text-anchor", "middle").Text(FormatTick(v)),
		)
	}
	for _, v := range yt {
		if v < y0-tolY || v > y1+tolY {
			continue
		}
		y := sy(v)
		label := FormatTick(v)
		if p.LogY {
			label = FormatTick(pow10(v))
		}
		parts = append(parts,
			svgEl("line").Class("grid").Attr("x1", f1(plotLeft)).Attr("x2", f1(plotLeft+iw)).Attr("y1", f1(y)).Attr("y2", f1(y)),
			svgEl("text").Class("tick", "tick-y").Attr("x", f1(plotLeft-6)).Attr("y", f1(y+4)).Attr("text-anchor", "end").Text(label),
		)
	}
	parts = append(parts,
		svgEl("rect").Class("frame").Attr("x", f1(plotLeft)).Attr("y", f1(plotTop)).Attr("width", f1(iw)).Attr("height", f1(ih)),
		svgEl("text").Class("axis-label").Attr("x", f1(plotLeft+iw/2)).Attr("y", f1(plotH-8)).Attr("text-anchor", "middle").Text(p.XLabel),
		svgEl("text").Class("axis-label").Attr("transform", fmt.Sprintf("translate(16 %s) rotate(-90)", f1(plotTop+ih/2))).Attr("text-anchor", "middle").Text(p.yLabel()),
	)
	// Data.
	for k, s := range p.Series {
		st := plotPalette[k%len(plotPalette)]
		var segs [][]plotPoint
		var cur []plotPoint
		for i := 0; i < min(len(s.X), len(s.Y)); i++ {
			x, y := s.X[i], s.Y[i]
			if !p.usable(x, y) {
				if len(cur) > 0 {
					segs = append(segs, cur)
					cur = nil
				}
				continue
			}
			if p.LogY {
				y = math.Log10(y)
			}
			cur = append(cur, plotPoint{sx(x), sy(y)})
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
		}
		for _, seg := range segs {
			if s.Points || len(seg) == 1 {
				// A lone point of a line series is a small dot, not a
				// marker that reads as a measurement.
				r, cls := "4.5", "marker"
				if !s.Points {
					r, cls = "2", "dot"
				}
				for _, pt := range seg {
					parts = append(parts, svgEl("circle").Class(cls).DataSet("series", k).
						Attr("cx", f1(pt.x)).Attr("cy", f1(pt.y)).Attr("r", r).
						Attr("fill", st.color).Attr("stroke", st.color))
				}
				continue
			}
			var b strings.Builder
			for i, pt := range thin(seg, 1200) {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(f1(pt.x) + "," + f1(pt.y))
			}
			line := svgEl("polyline").Class("series").DataSet("series", k).Attr("points", b.String()).
				Attr("fill", "none").Attr("stroke", st.color).Attr("stroke-width", "2")
			if s.Faint {
				line = line.Attr("stroke-width", "1").Attr("stroke-opacity", "0.45")
			}
			if st.dash != "" {
				line = line.Attr("stroke-dasharray", st.dash)
			}
			parts = append(parts, line)
		}
	}

	svg := svgEl("svg").Class("plot-svg").
		Attr("viewBox", fmt.Sprintf("0 0 %g %g", plotW, plotH)).
		Attr("preserveAspectRatio", "xMidYMid meet").
		Attr("role", "img").
		Aria("label", p.description()).
		Body(parts...)
	return fig.Body(caption, svg, p.legend())
}

func (p LinePlot) yLabel() string {
	if p.LogY && p.YLabel != "" {
		return p.YLabel + " (log scale)"
	}
	return p.YLabel
}

// description is the text alternative of the drawing.
func (p LinePlot) description() string {
	names := make([]string, 0, len(p.Series))
	for _, s := range p.Series {
		names = append(names, s.Name)
	}
	d := "Plot"
	if p.Title != "" {
		d += " of " + p.Title
	}
	return fmt.Sprintf("%s: %s against %s; series: %s.", d, p.yLabel(), p.XLabel, strings.Join(names, ", "))
}

func (p LinePlot) legend() goapp.UI {
	if len(p.Series) == 0 {
		return nil
	}
	return goapp.Ul().Class("legend").Body(
		goapp.Range(p.Series).Slice(func(k int) goapp.UI {
			st := plotPalette[k%len(plotPalette)]
			var swatch goapp.UI
			if p.Series[k].Points {
				swatch = svgEl("circle").Attr("cx", "14").Attr("cy", "6").Attr("r", "4.5").Attr("fill", st.color)
			} else {
				l := svgEl("line").Attr("x1", "0").Attr("x2", "28").Attr("y1", "6").Attr("y2", "6").Attr("stroke", st.color).Attr("stroke-width", "3")
				if st.dash != "" {
					l = l.Attr("stroke-dasharray", st.dash)
				}
				swatch = l
			}
			return goapp.Li().Body(
				svgEl("svg").Class("swatch").Attr("viewBox", "0 0 28 12").Attr("width", "28").Attr("height", "12").Aria("hidden", "true").Body(swatch),
				goapp.Span().Text(p.Series[k].Name),
			)
		}),
	)
}

// thin keeps at most n points (every k-th, plus the last) so a
// million-step curve does not become a million-vertex polyline.
func thin(pts []plotPoint, n int) []plotPoint {
	if len(pts) <= n {
		return pts
	}
	k := (len(pts) + n - 1) / n
	var out []plotPoint
	for i := 0; i < len(pts); i += k {
		out = append(out, pts[i])
	}
	if out[len(out)-1] != pts[len(pts)-1] {
		out = append(out, pts[len(pts)-1])
	}
	return out
}

// Steps returns 0, 1, ..., n-1 as float64: the x values of a curve over
// training steps.
func Steps(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// pow10 is 10^e, exact for whole e (math.Pow(10, -1) is not 0.1).
func pow10(e float64) float64 {
	if e == math.Trunc(e) && math.Abs(e) < 300 {
		v, err := strconv.ParseFloat("1e"+strconv.Itoa(int(e)), 64)
		if err == nil {
			return v
		}
	}
	return math.Pow(10, e)
}
