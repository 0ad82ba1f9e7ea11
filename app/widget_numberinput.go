package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// NumberInput is a labelled numeric field that checks type and range on
// every keystroke, shows what is wrong next to the field, and calls
// OnChange only with values that passed. It is a text field with a decimal
// keyboard rather than type=number, because browsers turn a type=number
// field's non-numbers into "" before a program can see (and explain) them.
type NumberInput struct {
	goapp.Compo
	ID    string
	Label string
	// Min, Max bound the value (inclusive); Step is the slider's step.
	Min, Max, Step float64
	Integer        bool
	// Slider adds a range control bound to the same value.
	Slider bool
	// Optional accepts an empty field; OnEmpty is then called instead.
	Optional bool
	// Empty: the field starts (or was reset) empty; only with Optional.
	Empty bool
	Value float64
	Hint  string
	// Unit is shown after the field (e.g. "µs").
	Unit     string
	OnChange func(ctx goapp.Context, v float64)
	OnEmpty  func(ctx goapp.Context)
	// Reset: a parent that sets the value from elsewhere (an example, a
	// clear button) bumps it to drop whatever the learner had typed.
	Reset int

	raw       string // what the learner typed, kept while it is invalid
	msg       string // why raw is invalid; "" when it is valid
	edited    bool
	lastReset int
}

// OnUpdate runs when the parent re-renders with changed fields.
func (n *NumberInput) OnUpdate(goapp.Context) { n.applyReset() }

func (n *NumberInput) applyReset() {
	if n.Reset != n.lastReset {
		n.raw, n.msg, n.edited, n.lastReset = "", "", false, n.Reset
	}
}

// ParseNumber validates raw against the field's rules and returns the value
// or the message to show. An empty field is valid only when optional
// (empty = true then).
func ParseNumber(raw string, min, max float64, integer, optional bool) (v float64, empty bool, msg string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		if optional {
			return 0, true, ""
		}
		return 0, false, "Enter a number."
	}
	s = strings.ReplaceAll(s, "−", "-") // a pasted typographic minus
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, false, fmt.Sprintf("%q is too large to be a number here.", raw)
		}
		return 0, false, fmt.Sprintf("%q is not a number.", strings.TrimSpace(raw))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, "Enter a finite number."
	}
	if integer && v != math.Trunc(v) {
		return 0, false, "Enter a whole number."
	}
	if v < min {
		return 0, false, fmt.Sprintf("Must be at least %s.", FormatNum(min, 6))
	}
	if v > max {
		return 0, false, fmt.Sprintf("Must be at most %s.", FormatNum(max, 6))
	}
	return v, false, ""
}

// SetRaw is what the input handlers do with the field's new text: keep it,
// validate it, and pass a valid value on. It returns the message (or "").
func (n *NumberInput) SetRaw(ctx goapp.Context, raw string) string {
	n.raw, n.edited = raw, true
	v, empty, msg := ParseNumber(raw, n.Min, n.Max, n.Integer, n.Optional)
	n.msg = msg
	if msg != "" {
		return msg
	}
	if empty {
		n.Empty = true
		if n.OnEmpty != nil {
			n.OnEmpty(ctx)
		}
		return ""
	}
	n.Value, n.Empty = v, false
	if n.OnChange != nil {
		n.OnChange(ctx, v)
	}
	return ""
}

func (n *NumberInput) onInput(ctx goapp.Context, e goapp.Event) {
	n.SetRaw(ctx, ctx.JSSrc().Get("value").String())
}

// shown is the field's text: the learner's own text while it is invalid or
// still means the current value ("1." for 1), else the value itself, so a
// parent that changes Value (a reset, a loaded example) is reflected.
func (n *NumberInput) shown() string {
	if n.edited && n.msg != "" {
		return n.raw
	}
	if n.Optional && n.Empty {
		if n.edited && strings.TrimSpace(n.raw) == "" {
			return n.raw
		}
		return ""
	}
	if n.edited {
		if v, empty, msg := ParseNumber(n.raw, n.Min, n.Max, n.Integer, n.Optional); msg == "" && !empty && v == n.Value {
			return n.raw
		}
	}
	return strconv.FormatFloat(n.Value, 'g', -1, 64)
}

// Message is the current validation message ("" when valid).
func (n *NumberInput) Message() string { return n.msg }

// Render draws the field.
func (n *NumberInput) Render() goapp.UI {
	msgID := n.ID + "-msg"
	mode := "decimal"
	if n.Integer && n.Min >= 0 {
		mode = "numeric"
	}
	invalid := n.msg != ""
	input := goapp.Input().Type("text").ID(n.ID).Class("num").
		Attr("inputmode", mode).
		Attr("autocomplete", "off").
		Attr("spellcheck", "false").
		Value(n.shown()).
		Aria("invalid", strconv.FormatBool(invalid)).
		Aria("describedby", msgID).
		OnInput(n.onInput)
	var slider goapp.UI
	if n.Slider {
		step := n.Step
		if step <= 0 {
			step = (n.Max - n.Min) / 100
			if n.Integer {
				step = 1
			}
		}
		slider = goapp.Input().Type("range").Class("slider").ID(n.ID+"-slider").
			Min(n.Min).Max(n.Max).Step(step).
			Value(strconv.FormatFloat(n.Value, 'g', -1, 64)).
			Aria("label", n.Label+" (slider)").
			OnInput(n.onInput)
	}
	hint := n.Hint
	if hint == "" {
		hint = fmt.Sprintf("%s to %s", FormatNum(n.Min, 6), FormatNum(n.Max, 6))
		if n.Integer {
			hint = "whole number, " + hint
		}
		if n.Optional {
			hint += ", or empty"
		}
	}
	var unit goapp.UI
	if n.Unit != "" {
		unit = goapp.Span().Class("unit").Text(n.Unit)
	}
	cls := "field"
	if invalid {
		cls += " invalid"
	}
	return goapp.Div().Class(cls).Body(
		goapp.Label().For(n.ID).Body(
			goapp.Span().Class("field-label").Text(n.Label),
			goapp.Span().Class("field-hint").Text(" ("+hint+")"),
		),
		goapp.Div().Class("field-row").Body(input, unit, slider),
		goapp.Span().ID(msgID).Class("field-msg").Aria("live", "polite").Text(n.msg),
	)
}
