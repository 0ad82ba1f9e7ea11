package app

import (
	"fmt"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Href turns a route ("/p1") into the link the page should carry. The
// pre-rendering server already prefixes links with the site's base path
// (-base), but the browser side of go-app only rewrites /web/ URLs, so in the
// browser the prefix go-app exports as GOAPP_ROOT_PREFIX is added here.
func Href(route string) string {
	if goapp.IsServer {
		return route
	}
	return strings.TrimRight(goapp.Getenv("GOAPP_ROOT_PREFIX"), "/") + route
}

// runtimeName marks which side rendered the page: browser tests wait for
// "wasm", because the pre-rendered HTML already shows the same text.
func runtimeName() string {
	if goapp.IsClient {
		return "wasm"
	}
	return "server"
}

// Shell is the frame every page shares: a skip link, the site header with
// one link per problem, the page's content, and a footer with the
// conventions. current is the route being shown ("/" for home).
func Shell(current string, content ...goapp.UI) goapp.UI {
	return goapp.Div().Class("shell").Body(
		goapp.A().Class("skip-link").Href("#main").Text("Skip to content"),
		goapp.Header().Class("site-header").Body(
			goapp.A().Class("brand").Href(Href("/")).Aria("current", ariaCurrent(current, "/")).Text("gradlab"),
			goapp.Nav().Aria("label", "Homework problems").Body(
				goapp.Ul().Class("nav-list").Body(
					goapp.Range(Problems).Slice(func(i int) goapp.UI {
						p := Problems[i]
						return goapp.Li().Body(
							goapp.A().
								Href(Href(p.Path)).
								Title(p.Title).
								Aria("current", ariaCurrent(current, p.Path)).
								Body(
									goapp.Span().Class("nav-num").Text(p.Number),
									goapp.Span().Class("nav-label").Text(p.Short),
								),
						)
					}),
				),
			),
		),
		goapp.Main().ID("main").TabIndex(-1).DataSet("runtime", runtimeName()).Body(content...),
		goapp.Footer().Class("site-footer").Body(
			goapp.P().Text(Conventions),
		),
	)
}

// Conventions is the sentence every page repeats, because sources disagree
// on both points and the numbers on these pages depend on them.
const Conventions = "Conventions: dropout p is the probability of dropping a unit (kept units are scaled by 1/(1-p)); batchnorm uses momentum 0.9 (running = 0.9·running + 0.1·batch) and eps 1e-5."

func ariaCurrent(current, route string) string {
	if current == route {
		return "page"
	}
	return ""
}

func problemHeading(p Problem) string {
	return fmt.Sprintf("Problem %d · %s", p.Number, p.Title)
}
