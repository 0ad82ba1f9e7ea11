package app

import (
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// problemFrame is the layout every computed problem page shares: the shell,
// the heading the browser tests and screen readers rely on, the question in
// short, the page's own sections, and the previous/next links.
func problemFrame(n int, sections ...goapp.UI) goapp.UI {
	p, err := ProblemByNumber(n)
	if err != nil {
		return Shell("", goapp.H1().Text("No such problem"), goapp.P().Text(err.Error()))
	}
	body := []goapp.UI{
		goapp.H1().Text(problemHeading(p)),
		goapp.Section().Class("question").Aria("labelledby", "asks").Body(
			goapp.H2().ID("asks").Text("What the homework asks"),
			goapp.P().Text(p.Statement),
		),
	}
	body = append(body, sections...)
	body = append(body, pager(p.Number))
	return Shell(p.Path, body...)
}

// section is a titled part of a page, labelled by its heading.
func section(id, title string, body ...goapp.UI) goapp.UI {
	return goapp.Section().ID(id).Aria("labelledby", id+"-h").Body(
		append([]goapp.UI{goapp.H2().ID(id + "-h").Text(title)}, body...)...,
	)
}

// subsection is a titled part inside a section.
func subsection(id, title string, body ...goapp.UI) goapp.UI {
	return goapp.Div().ID(id).Class("subsection").Body(
		append([]goapp.UI{goapp.H3().Text(title)}, body...)...,
	)
}

// errorBox shows an error from core next to the experiment it belongs to.
// role=alert makes screen readers announce it when it appears.
func errorBox(id string, err error) goapp.UI {
	if err == nil {
		return nil
	}
	return goapp.P().ID(id).Class("error").Role("alert").Text(err.Error())
}

// formula is one displayed equation written directly (not from core).
func formula(latex string) goapp.UI { return MathUI(latex) }

// kv is a small definition list of labelled results.
func kv(pairs ...string) goapp.UI {
	var items []goapp.UI
	for i := 0; i+1 < len(pairs); i += 2 {
		items = append(items, goapp.Dt().Text(pairs[i]), goapp.Dd().Text(pairs[i+1]))
	}
	return goapp.Dl().Class("kv").Body(items...)
}

// titled sets the document title for problem n, before rendering on the
// server and after an in-app navigation in the browser.
func setProblemTitle(ctx goapp.Context, n int) {
	if p, err := ProblemByNumber(n); err == nil {
		ctx.Page().SetTitle("%s · gradlab", problemHeading(p))
	}
}

// intField and numField wire a page's field to a NumberInput: set runs only
// with a validated value, and the page re-renders after it (go-app updates
// every component above the one that handled the event).
func intField(id, label string, lo, hi, v float64, set func(float64)) *NumberInput {
	return &NumberInput{ID: id, Label: label, Min: lo, Max: hi, Integer: true, Value: v,
		OnChange: func(_ goapp.Context, v float64) { set(v) }}
}

func numField(id, label string, lo, hi, step, v float64, set func(float64)) *NumberInput {
	return &NumberInput{ID: id, Label: label, Min: lo, Max: hi, Step: step, Value: v,
		OnChange: func(_ goapp.Context, v float64) { set(v) }}
}

// memo keeps the last result of an expensive computation, so a re-render
// that changed nothing it depends on (an animation tick, a radio button)
// does not redo it. key must capture every input.
type memo[T any] struct {
	key   string
	ok    bool
	value T
	err   error
}

func (m *memo[T]) get(key string, f func() (T, error)) (T, error) {
	if !m.ok || m.key != key {
		m.value, m.err = f()
		m.key, m.ok = key, true
	}
	return m.value, m.err
}
