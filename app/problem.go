package app

import (
	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ProblemPage stands in for a problem's page until that page is built: it
// states the problem and what gradlab will compute for it, and says plainly
// that nothing is computed yet.
type ProblemPage struct {
	goapp.Compo
	Number int
}

// Render draws the page.
func (pp *ProblemPage) Render() goapp.UI {
	p, err := ProblemByNumber(pp.Number)
	if err != nil {
		return Shell("", goapp.H1().Text("No such problem"), goapp.P().Text(err.Error()))
	}
	return Shell(p.Path,
		goapp.H1().Text(problemHeading(p)),
		goapp.Section().Aria("labelledby", "asks").Body(
			goapp.H2().ID("asks").Text("What the homework asks"),
			goapp.P().Text(p.Statement),
		),
		goapp.Section().Aria("labelledby", "computes").Body(
			goapp.H2().ID("computes").Text("What gradlab computes here"),
			goapp.P().Text(p.Computes),
			goapp.P().Class("notice").DataSet("placeholder", "true").Text(
				"This page is not built yet: the computation above is planned, and no result is shown until it runs in your browser."),
		),
		pager(p.Number),
	)
}

// pager links to the previous and next problems, so a keyboard user can walk
// the homework in order.
func pager(n int) goapp.UI {
	var prev, next goapp.UI
	if p, err := ProblemByNumber(n - 1); err == nil {
		prev = goapp.A().Class("prev").Href(Href(p.Path)).Text("← " + problemHeading(p))
	}
	if p, err := ProblemByNumber(n + 1); err == nil {
		next = goapp.A().Class("next").Href(Href(p.Path)).Text(problemHeading(p) + " →")
	}
	return goapp.Nav().Class("pager").Aria("label", "Previous and next problem").Body(prev, next)
}

// OnPreRender titles the pre-rendered HTML; OnNav does it in the browser.
// Distinct titles tell screen-reader users and tab bars which page is open.
func (pp *ProblemPage) OnPreRender(ctx goapp.Context) { pp.setTitle(ctx) }

// OnNav sets the title after a navigation in the browser.
func (pp *ProblemPage) OnNav(ctx goapp.Context) { pp.setTitle(ctx) }

func (pp *ProblemPage) setTitle(ctx goapp.Context) {
	if p, err := ProblemByNumber(pp.Number); err == nil {
		ctx.Page().SetTitle("%s · gradlab", problemHeading(p))
	}
}
