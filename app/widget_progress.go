package app

import (
	"fmt"
	"math"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ProgressBar shows how far a long computation is. It carries the ARIA
// progressbar role and values so assistive technology reads it; with
// Max <= 0 it is indeterminate (no aria-valuenow, as ARIA specifies).
type ProgressBar struct {
	ID    string
	Label string
	Value float64
	Max   float64
}

// Fraction is Value/Max clamped to [0, 1]; NaN counts as no progress.
func (p ProgressBar) Fraction() float64 {
	if !(p.Max > 0) || math.IsNaN(p.Value) {
		return 0
	}
	return math.Min(1, math.Max(0, p.Value/p.Max))
}

// UI draws the bar.
func (p ProgressBar) UI() goapp.UI {
	bar := goapp.Div().Class("progress").Role("progressbar").Aria("label", p.Label)
	if p.ID != "" {
		bar = bar.ID(p.ID)
	}
	if !(p.Max > 0) {
		return bar.DataSet("state", "indeterminate").Body(
			goapp.Div().Class("progress-fill", "indeterminate"),
			goapp.Span().Class("progress-text").Text(p.Label+"…"),
		)
	}
	f := p.Fraction()
	now := math.Min(p.Max, math.Max(0, p.Value))
	if math.IsNaN(now) {
		now = 0
	}
	return bar.
		Aria("valuemin", "0").
		Aria("valuemax", FormatNum(p.Max, 6)).
		Aria("valuenow", FormatNum(now, 6)).
		Aria("valuetext", fmt.Sprintf("%.0f%%", 100*f)).
		Body(
			goapp.Div().Class("progress-fill").Style("width", fmt.Sprintf("%.1f%%", 100*f)),
			goapp.Span().Class("progress-text").Textf("%s: %.0f%%", p.Label, 100*f),
		)
}
