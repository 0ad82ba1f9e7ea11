package app

import (
	"sync"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// pages maps a problem number to the component that replaces its
// placeholder once that page is built.
var pages = map[int]func() goapp.Composer{}

var routesOnce sync.Once

// Routes registers the home page and one route per problem with go-app. It
// is safe to call more than once (the site generator and tests both do).
func Routes() {
	routesOnce.Do(func() {
		goapp.Route("/", func() goapp.Composer { return &Home{} })
		for _, p := range Problems {
			n := p.Number
			if newPage, ok := pages[n]; ok {
				goapp.Route(p.Path, newPage)
				continue
			}
			goapp.Route(p.Path, func() goapp.Composer { return &ProblemPage{Number: n} })
		}
	})
}

// RoutePaths lists every route the site serves, home first.
func RoutePaths() []string {
	paths := []string{"/"}
	for _, p := range Problems {
		paths = append(paths, p.Path)
	}
	return paths
}
