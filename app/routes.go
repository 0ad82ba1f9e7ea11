package app

import (
	"sync"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// pages maps a problem number to the component that replaces its
// placeholder once that page is built.
var pages = map[int]func() goapp.Composer{
	1: func() goapp.Composer { return &SeparablePage{} },
	2: func() goapp.Composer { return &TikhonovPage{} },
	3: func() goapp.Composer { return &GaussNoisePage{} },
	4: func() goapp.Composer { return &DistributedPage{} },
	5: func() goapp.Composer { return &LayersPage{} },
	6: func() goapp.Composer { return &DropoutNotebookPage{} },
	7: func() goapp.Composer { return &GraphsPage{} },
	8: func() goapp.Composer { return &NotesPage{} },
}

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
		registerExerciseRoutes()
		goapp.Route(TrainPath, func() goapp.Composer { return &TrainPage{} })
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
