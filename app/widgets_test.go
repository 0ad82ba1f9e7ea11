package app

import (
	"math"
	"regexp"
	"strings"
	"testing"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

func TestParseNumberRejectsWhatIsNotAValidValue(t *testing.T) {
	cases := []struct {
		raw      string
		integer  bool
		optional bool
		want     float64
		empty    bool
		msg      string // substring; "" = valid
	}{
		{"3", true, false, 3, false, ""},
		{" 2.5 ", false, false, 2.5, false, ""},
		{"−1", false, false, -1, false, ""},
		{"1e1", true, false, 10, false, ""},
		{"", false, false, 0, false, "Enter a number"},
		{"", false, true, 0, true, ""},
		{"abc", false, false, 0, false, "not a number"},
		{"3x", false, false, 0, false, "not a number"},
		{"NaN", false, false, 0, false, "finite"},
		{"Inf", false, false, 0, false, "finite"},
		{"1e400", false, false, 0, false, "too large"},
		{"2.5", true, false, 0, false, "whole number"},
		{"-11", false, false, 0, false, "at least −10"},
		{"11", false, false, 0, false, "at most 10"},
	}
	for _, c := range cases {
		v, empty, msg := ParseNumber(c.raw, -10, 10, c.integer, c.optional)
		if c.msg == "" && (msg != "" || v != c.want || empty != c.empty) {
			t.Errorf("ParseNumber(%q) = %v, %v, %q; want %v, %v, valid", c.raw, v, empty, msg, c.want, c.empty)
		}
		if c.msg != "" && !strings.Contains(msg, c.msg) {
			t.Errorf("ParseNumber(%q) message %q, want it to contain %q", c.raw, msg, c.msg)
		}
	}
}

func TestNumberInputNeverPassesInvalidValuesOn(t *testing.T) {
	var got []float64
	n := &NumberInput{ID: "k", Label: "Kernel size", Min: 1, Max: 9, Integer: true, Value: 3,
		OnChange: func(_ goapp.Context, v float64) { got = append(got, v) }}
	html := render(t, n)
	for _, want := range []string{`id="k"`, `for="k"`, "Kernel size", `value="3"`, `aria-invalid="false"`, `aria-describedby="k-msg"`} {
		if !strings.Contains(html, want) {
			t.Errorf("field lacks %q: %s", want, html)
		}
	}
	var ctx goapp.Context
	for _, raw := range []string{"abc", "0", "10", "2.5", ""} {
		if msg := n.SetRaw(ctx, raw); msg == "" {
			t.Errorf("SetRaw(%q) accepted an invalid value", raw)
		}
		html = goapp.HTMLString(n.Render())
		if !ariaInvalid.MatchString(html) || !strings.Contains(html, escape(n.Message())) {
			t.Errorf("after %q the field does not show its message %q: %s", raw, n.Message(), html)
		}
		// The learner's text stays in the field so it can be corrected.
		if raw != "" && !strings.Contains(html, `value="`+escape(raw)+`"`) {
			t.Errorf("after %q the field does not keep the typed text: %s", raw, html)
		}
	}
	if len(got) != 0 || n.Value != 3 {
		t.Fatalf("invalid input reached OnChange %v or changed Value to %v", got, n.Value)
	}
	if msg := n.SetRaw(ctx, "5"); msg != "" || n.Value != 5 || len(got) != 1 || got[0] != 5 {
		t.Fatalf("valid 5: msg %q, Value %v, OnChange got %v", msg, n.Value, got)
	}
	if html = goapp.HTMLString(n.Render()); !strings.Contains(html, `aria-invalid="false"`) || strings.Contains(html, "Must be") {
		t.Errorf("valid value still marked invalid: %s", html)
	}
	// A parent that sets a new Value (a reset) is reflected in the field.
	n.Value = 7
	if html = goapp.HTMLString(n.Render()); !strings.Contains(html, `value="7"`) {
		t.Errorf("field does not follow a new Value: %s", html)
	}
}

func TestNumberInputOptionalAndSlider(t *testing.T) {
	emptied := 0
	n := &NumberInput{ID: "f", Label: "Flow", Min: 0, Max: 100, Optional: true, Empty: true, Slider: true,
		OnEmpty: func(goapp.Context) { emptied++ }}
	html := render(t, n)
	text := regexp.MustCompile(`<input[^>]*class="num"[^>]*>`).FindString(html)
	if !strings.Contains(html, `type="range"`) || text == "" || strings.Contains(text, "value=") || !strings.Contains(html, "or empty") {
		t.Errorf("optional slider field: %s", html)
	}
	var ctx goapp.Context
	if msg := n.SetRaw(ctx, "40"); msg != "" || n.Empty || n.Value != 40 {
		t.Errorf("40: %q %v %v", msg, n.Empty, n.Value)
	}
	if msg := n.SetRaw(ctx, " "); msg != "" || !n.Empty || emptied != 1 {
		t.Errorf("clearing: %q %v %d", msg, n.Empty, emptied)
	}
	if msg := n.SetRaw(ctx, "-1"); msg == "" {
		t.Error("a negative flow was accepted")
	}
}

func TestProgressBarIsAccessible(t *testing.T) {
	html := goapp.HTMLString(ProgressBar{ID: "pb", Label: "Training", Value: 3, Max: 12}.UI())
	for _, want := range []string{`role="progressbar"`, `aria-valuenow="3"`, `aria-valuemax="12"`, `aria-valuemin="0"`, "width:25.0%", "Training: 25%"} {
		if !strings.Contains(html, want) {
			t.Errorf("progress bar lacks %q: %s", want, html)
		}
	}
	// Out-of-range and NaN values are clamped, never shown as nonsense.
	for _, c := range []struct{ v, want float64 }{{-1, 0}, {20, 1}, {math.NaN(), 0}} {
		if f := (ProgressBar{Value: c.v, Max: 12}).Fraction(); f != c.want {
			t.Errorf("Fraction(%v/12) = %v, want %v", c.v, f, c.want)
		}
	}
	html = goapp.HTMLString(ProgressBar{Label: "Waiting"}.UI())
	if strings.Contains(html, "aria-valuenow") || !strings.Contains(html, "indeterminate") {
		t.Errorf("indeterminate bar: %s", html)
	}
}

// go-app writes an attribute whose value is "true" as a bare name.
var ariaInvalid = regexp.MustCompile(`aria-invalid(="true")?[ >]`)

var pointsAttr = regexp.MustCompile(`points="([^"]*)"`)

func TestLinePlotDrawsSeriesAxesAndLegend(t *testing.T) {
	p := LinePlot{ID: "pl", Title: "Loss", XLabel: "step", YLabel: "loss", Series: []Series{
		{Name: "batch 1", X: []float64{0, 1, 2, 3}, Y: []float64{4, 3, math.NaN(), 1}},
		{Name: "analytic", X: []float64{0, 3}, Y: []float64{2, 2}, Points: true},
	}}
	html := goapp.HTMLString(p.UI())
	for _, want := range []string{"<svg", "<polyline", "<circle", `role="img"`, "batch 1", "analytic", ">step<", ">loss<", `class="legend"`, "Loss"} {
		if !strings.Contains(html, want) {
			t.Errorf("plot lacks %q", want)
		}
	}
	// The NaN breaks the first series into two pieces: (0,1) and (3).
	lines := pointsAttr.FindAllStringSubmatch(html, -1)
	if len(lines) != 1 || strings.Count(lines[0][1], ",") != 2 {
		t.Errorf("polylines %v; want one with the two points before the NaN", lines)
	}
	// The lone point after the NaN is a small dot; the two analytic
	// points are markers.
	if n := strings.Count(html, `class="marker"`); n != 2 {
		t.Errorf("%d markers, want 2", n)
	}
	if n := strings.Count(html, `class="dot"`); n != 1 {
		t.Errorf("%d dots, want 1", n)
	}
	// The first point (x=0, y=4) is the top-left of the data area.
	if !strings.HasPrefix(lines[0][1], f1(plotLeft)+","+f1(plotTop)) {
		t.Errorf("first point %q is not at the top-left corner", lines[0][1])
	}
	for _, s := range []string{"NaN", "Inf"} {
		if strings.Contains(lines[0][1], s) {
			t.Errorf("non-finite coordinate in %q", lines[0][1])
		}
	}
}

func TestLinePlotLogAndEmpty(t *testing.T) {
	p := LinePlot{LogY: true, XLabel: "x", YLabel: "y", Series: []Series{{Name: "s", X: []float64{0, 1, 2, 3}, Y: []float64{1000, 10, 0, 0.1}}}}
	html := goapp.HTMLString(p.UI())
	for _, want := range []string{">1000<", ">10<", ">0.1<", "(log scale)"} {
		if !strings.Contains(html, want) {
			t.Errorf("log plot lacks tick %q: %s", want, html)
		}
	}
	for _, empty := range []LinePlot{{}, {Series: []Series{{Name: "nan", X: []float64{1}, Y: []float64{math.NaN()}}}}, {LogY: true, Series: []Series{{X: []float64{1}, Y: []float64{-1}}}}} {
		html := goapp.HTMLString(empty.UI())
		if !strings.Contains(html, "No data to plot") || strings.Contains(html, "<polyline") {
			t.Errorf("empty plot: %s", html)
		}
	}
	// Points that cannot be drawn still extend the x axis to the run's end.
	html = goapp.HTMLString(LinePlot{LogY: true, Series: []Series{{X: []float64{0, 50, 100}, Y: []float64{1, 0.1, 0}}}}.UI())
	if !strings.Contains(html, ">100<") {
		t.Errorf("x axis does not reach 100: %s", html)
	}
	// A constant series still gets a finite range.
	html = goapp.HTMLString(LinePlot{Series: []Series{{X: []float64{1, 1}, Y: []float64{5, 5}}}}.UI())
	if strings.Contains(html, "NaN") || !strings.Contains(html, "<polyline") {
		t.Errorf("constant series: %s", html)
	}
}

func TestNiceTicks(t *testing.T) {
	got := niceTicks(0, 1000, 6)
	want := []float64{0, 200, 400, 600, 800, 1000}
	if len(got) != len(want) {
		t.Fatalf("niceTicks(0, 1000) = %v", got)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("niceTicks(0, 1000) = %v, want %v", got, want)
		}
	}
	for _, v := range niceTicks(0, 0.98, 6) {
		if s := FormatTick(v); len(s) > 4 {
			t.Errorf("tick %v printed as %q", v, s)
		}
	}
	if got := niceTicks(-0.3, 0.3, 6); got[0] < -0.3 || got[len(got)-1] > 0.3 || len(got) < 3 {
		t.Errorf("niceTicks(-0.3, 0.3) = %v", got)
	}
}

func TestMatrixViewFormatsAndLabels(t *testing.T) {
	m := MatrixView{ID: "mv", Caption: "A", Rows: [][]float64{{1, -0.5}, {math.Copysign(0, -1), 1.0 / 3}},
		RowLabels: []string{"a", "b"}, ColLabels: []string{"a", "b"}, Highlight: Diagonal}
	html := goapp.HTMLString(m.UI())
	for _, want := range []string{"<caption>A</caption>", `scope="col">a<`, `scope="row">b<`, ">1<", ">−0.5<", ">0.3333<", `class="hl"`, `tabindex="0"`} {
		if !strings.Contains(html, want) {
			t.Errorf("matrix lacks %q: %s", want, html)
		}
	}
	if strings.Contains(html, "-0") {
		t.Errorf("negative zero shown: %s", html)
	}
	if n := strings.Count(html, `class="hl"`); n != 2 {
		t.Errorf("%d highlighted cells, want the 2 diagonal ones", n)
	}
	for v, want := range map[float64]string{108: "108", 1e-7: "1e-07", 1.23456e-7: "1.235e-07", 2.5e6: "2500000", 2.5e15: "2.5e+15", 1234.5678: "1235", math.NaN(): "NaN", math.Inf(1): "∞", -3: "−3"} {
		if got := FormatNum(v, 4); got != want {
			t.Errorf("FormatNum(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[int64]string{0: "0", 108: "108", 1000: "1,000", 5419008: "5,419,008", -1234: "−1,234"} {
		if got := Count(v); got != want {
			t.Errorf("Count(%d) = %q, want %q", v, got, want)
		}
	}
	if html := goapp.HTMLString(MatrixView{Caption: "E"}.UI()); !strings.Contains(html, "empty matrix") {
		t.Errorf("empty matrix: %s", html)
	}
}

func TestDerivationTypesetsEveryCommandCoreUses(t *testing.T) {
	steps := append(hw.DropoutDerivation(), hw.GaussNoiseDerivation()...)
	html := render(t, &derivationHost{steps: steps})
	if n := strings.Count(html, `class="step"`); n != len(steps) {
		t.Errorf("%d steps rendered, want %d", n, len(steps))
	}
	// Every command is known: none survives as a backslash in the visible
	// text (the LaTeX source is only in title attributes).
	visible := regexp.MustCompile(`title="[^"]*"`).ReplaceAllString(html, "")
	if strings.Contains(visible, `\`) {
		i := strings.Index(visible, `\`)
		t.Errorf("untypeset command near %q", visible[max(0, i-40):min(len(visible), i+40)])
	}
	for _, want := range []string{"𝔼", "‖", "⊙", "∑", "Γ̃", "<sub>", "<sup>", `class="m-frac"`, `class="m-op">Var<`, `role="math"`} {
		if !strings.Contains(html, want) {
			t.Errorf("derivation lacks %q", want)
		}
	}
}

func TestLatexPlain(t *testing.T) {
	for in, want := range map[string]string{
		`\|y-pX\tilde w\|^2`:            "‖y − pXw̃‖²",
		`X^{-1}=(-a)`:                   "X⁻¹ = (−a)",
		`\sum_j X_{ij}^2`:               "∑_jX_(ij)²",
		`\tfrac{1-p}{p}`:                "(1 − p)/(p)",
		`\operatorname{Var}Z`:           "VarZ",
		`\mathbb{E}[Z^2]`:               "𝔼[Z²]",
		`\sqrt{x}\,\Gamma^{-1}\unknown`: "√(x) Γ⁻¹\\unknown",
		`a}`:                            "a}",
		`x_`:                            "x_",
	} {
		if got := LatexPlain(in); got != want {
			t.Errorf("LatexPlain(%q) = %q, want %q", in, got, want)
		}
	}
}

type derivationHost struct {
	goapp.Compo
	steps []hw.Step
}

func (d *derivationHost) Render() goapp.UI { return Derivation("d", d.steps) }

func TestNumberInputResetDropsTypedText(t *testing.T) {
	n := &NumberInput{ID: "r", Label: "R", Min: 0, Max: 10, Value: 2}
	render(t, n)
	n.SetRaw(goapp.Context{}, "abc")
	n.Value, n.Reset = 4, 1
	n.OnUpdate(goapp.Context{})
	html := goapp.HTMLString(n.Render())
	if n.Message() != "" || !strings.Contains(html, `value="4"`) {
		t.Errorf("after a reset the field shows %q with message %q: %s", n.raw, n.Message(), html)
	}
}
