package app

import (
	"fmt"
	"math"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// The road-network half of problem 7: the learner enters measured flows
// and conservation at every intersection gives the rest.

// roadGrid places intersections a-h on the 2 x 4 grid hw.BerkeleyRoads
// describes (a b c d over e f g h).
var roadGrid = map[string][2]float64{
	"a": {0, 0}, "b": {1, 0}, "c": {2, 0}, "d": {3, 0},
	"e": {0, 1}, "f": {1, 1}, "g": {2, 1}, "h": {3, 1},
}

// SetFlow records a measured flow (ok) or clears it (!ok).
func (pg *GraphsPage) SetFlow(id int, v float64, ok bool) {
	if ok {
		pg.measured[id] = v
	} else {
		delete(pg.measured, id)
	}
}

func (pg *GraphsPage) roads() goapp.UI {
	net := hw.BerkeleyRoads()
	sol, err := net.SolveFlows(pg.measured)
	fields := goapp.Table().Class("results flows").ID("p7-flows").Body(
		goapp.Caption().Text("Segments: enter the flows you measured (vehicles per hour); leave the others empty"),
		goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Segment"), goapp.Th().Text("From → to"), goapp.Th().Text("Measured"), goapp.Th().Text("Flow"), goapp.Th().Text("Status"))),
		goapp.TBody().Body(goapp.Range(net.Segments).Slice(func(k int) goapp.UI {
			s := net.Segments[k]
			v, has := pg.measured[s.ID]
			id := s.ID
			in := &NumberInput{ID: fmt.Sprintf("p7-flow-%d", s.ID), Label: fmt.Sprintf("Segment %d", s.ID), Hint: "≥ 0, or empty",
				Min: 0, Max: 1e6, Optional: true, Empty: !has, Value: v, Reset: pg.reset,
				OnChange: func(_ goapp.Context, v float64) { pg.SetFlow(id, v, true) },
				OnEmpty:  func(goapp.Context) { pg.SetFlow(id, 0, false) }}
			flow, status := goapp.Td().Class("muted").Text("—"), goapp.Td().Text("")
			if err == nil {
				flow = goapp.Td().Class("num-cell").Text(FormatNum(sol.Flows[k], 5))
				switch {
				case sol.Measured[k]:
					status = goapp.Td().Text("measured")
				case sol.Status == hw.FlowInconsistent:
					status = goapp.Td().Class("warn").Text("least squares")
				case sol.Determined[k]:
					status = goapp.Td().Class("ok").Text("solved")
				default:
					status = goapp.Td().Class("warn").Text("free (one choice shown)")
				}
			}
			return goapp.Tr().DataSet("segment", s.ID).Body(
				goapp.Th().Scope("row").Text(fmt.Sprint(s.ID)),
				goapp.Td().Text(endName(s.From)+" → "+endName(s.To)),
				goapp.Td().Class("flow-input").Body(in),
				flow, status,
			)
		})),
	)
	var result goapp.UI
	if err != nil {
		result = errorBox("p7-flow-error", err)
	} else {
		cls := map[hw.FlowStatus]string{hw.FlowUnique: "verdict ok", hw.FlowUnderdetermined: "verdict warn", hw.FlowInconsistent: "verdict warn"}[sol.Status]
		var neg goapp.UI
		if len(sol.Negative) > 0 {
			neg = goapp.P().Class("verdict warn").Textf("Segments %s come out negative: conservation allows it, one-way traffic does not, so some measurement is probably wrong.", joinIDs(sol.Negative))
		}
		result = goapp.Div().Body(
			goapp.P().ID("p7-flow-status").Class(cls).DataSet("status", sol.Status.String()).Role("status").Text(flowSentence(sol)),
			neg,
			MatrixView{ID: "p7-residual", Caption: "Inflow − outflow at each intersection (0 = conserved)", Rows: RowVector(roundOff(sol.Residual, sol.Flows)), RowLabels: []string{"imbalance"}, ColLabels: net.Intersections,
				Highlight: func(_, _ int, v float64) bool { return math.Abs(v) > 1e-6 }}.UI(),
		)
	}
	return section("p7-roads", "The road network: flows from conservation",
		goapp.P().Text("Figure 6 is not in the text either, so gradlab ships a stand-in with the same labels: intersections a–h on a 2×4 grid, one-way segments 1–22 (a two-way street is two segments), four entries from outside (1, 15, 17, 21) and three exits (5, 14, 18). "+
			"Conservation says that at each intersection the flows in equal the flows out: B f = 0, with B the intersections × segments incidence matrix (+1 where a segment enters, −1 where it leaves). "+
			"With 8 equations (one of them redundant when the outside is balanced) a measured set of 14 flows can fix the other 8."),
		roadSVG(net, sol),
		goapp.Div().Class("edit-row").Body(
			goapp.Button().ID("p7-fill").Text("Fill in the 14 example measurements").OnClick(func(goapp.Context, goapp.Event) {
				pg.measured, pg.reset = hw.BerkeleyMeasured(), pg.reset+1
			}),
			goapp.Button().ID("p7-clear").Text("Clear all measurements").OnClick(func(goapp.Context, goapp.Event) {
				pg.measured, pg.reset = map[int]float64{}, pg.reset+1
			}),
			goapp.Button().ID("p7-roads-editor").Text("Show the intersections in the graph editor").OnClick(func(goapp.Context, goapp.Event) { pg.loadRoads() }),
		),
		result,
		fields,
		goapp.P().Text("Parts (e)–(g): load the intersections into the editor above (the button) to see the road network's A, its in- and out-degree matrices and both symmetrically normalised Laplacians."),
	)
}

func endName(s string) string {
	if s == hw.Outside {
		return "outside"
	}
	return s
}

func joinIDs(ids []int) string {
	s := make([]string, len(ids))
	for i, v := range ids {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

func flowSentence(sol *hw.FlowSolution) string {
	switch sol.Status {
	case hw.FlowUnique:
		return "Unique solution: " + strings.TrimPrefix(sol.Message, "unique: ") + "."
	case hw.FlowUnderdetermined:
		return fmt.Sprintf("Under-determined: %d unknown flows but only %d independent equations, so %d of them can be chosen freely (for example segments %s). The flows shown are the minimum-norm choice; measure one more segment per free direction.",
			sol.Unknowns, sol.Rank, sol.Unknowns-sol.Rank, joinIDs(sol.Free))
	default:
		return "Over-determined and inconsistent: " + strings.TrimPrefix(sol.Message, "inconsistent: ") + ". The flows shown are the least-squares compromise."
	}
}

// roadSVG draws the network on its grid, each segment labelled with its
// number and, when known, its flow.
func roadSVG(net *hw.RoadNetwork, sol *hw.FlowSolution) goapp.UI {
	const w, h, x0, y0, dx, dy, rad = 560.0, 300.0, 90.0, 80.0, 127.0, 150.0, 16.0
	pos := func(l string) (float64, float64) {
		p := roadGrid[l]
		return x0 + p[0]*dx, y0 + p[1]*dy
	}
	cx, cy := x0+1.5*dx, y0+0.5*dy
	parts := []goapp.UI{svgEl("defs").Body(svgEl("marker").ID("p7-road-arrow").Attr("viewBox", "0 0 10 10").Attr("refX", "10").Attr("refY", "5").
		Attr("markerWidth", "6").Attr("markerHeight", "6").Attr("orient", "auto-start-reverse").Body(
		svgEl("path").Attr("d", "M0,0 L10,5 L0,10 z").Class("arrow-head")))}
	// Segments to or from outside fan out around their intersection.
	outsideN, outsideAt := map[string]int{}, map[string]int{}
	for _, s := range net.Segments {
		if s.From == hw.Outside {
			outsideN[s.To]++
		} else if s.To == hw.Outside {
			outsideN[s.From]++
		}
	}
	for k, s := range net.Segments {
		var x1, y1, x2, y2, bend float64
		label := fmt.Sprint(s.ID)
		if sol != nil && k < len(sol.Flows) && (sol.Measured[k] || sol.Determined[k]) {
			label += ": " + FormatNum(sol.Flows[k], 4)
		}
		if s.From == hw.Outside || s.To == hw.Outside {
			node := s.To
			if s.To == hw.Outside {
				node = s.From
			}
			nx, ny := pos(node)
			// Point away from the grid's centre, fanned out when a node
			// has several outside segments.
			a := math.Atan2(ny-cy, nx-cx) + 1.1*(float64(outsideAt[node])-float64(outsideN[node]-1)/2)
			outsideAt[node]++
			ox, oy := nx+60*math.Cos(a), ny+60*math.Sin(a)
			if s.From == hw.Outside {
				x1, y1, x2, y2 = ox, oy, nx, ny
			} else {
				x1, y1, x2, y2 = nx, ny, ox, oy
			}
			parts = append(parts, roadSegment(x1, y1, x2, y2, s.From != hw.Outside, s.To != hw.Outside, 0, label, s.ID)...)
			continue
		}
		x1, y1 = pos(s.From)
		x2, y2 = pos(s.To)
		for _, o := range net.Segments {
			if o.From == s.To && o.To == s.From {
				bend = 0.12
			}
		}
		parts = append(parts, roadSegment(x1, y1, x2, y2, true, true, bend, label, s.ID)...)
	}
	for _, l := range net.Intersections {
		x, y := pos(l)
		parts = append(parts, svgEl("g").Class("node").Body(
			svgEl("circle").Attr("cx", f1(x)).Attr("cy", f1(y)).Attr("r", f1(rad)),
			svgEl("text").Attr("x", f1(x)).Attr("y", f1(y+5)).Attr("text-anchor", "middle").Text(l),
		))
	}
	return svgEl("svg").ID("p7-roads-svg").Class("roads-svg").Attr("viewBox", fmt.Sprintf("0 0 %g %g", w, h)).
		Attr("role", "img").Aria("label", "Road network: intersections a to h and road segments 1 to 22 with their flows").Body(parts...)
}

func roadSegment(x1, y1, x2, y2 float64, startAtNode, endAtNode bool, bend float64, label string, id int) []goapp.UI {
	const rad = 16.0
	ddx, ddy := x2-x1, y2-y1
	l := math.Max(1e-9, math.Hypot(ddx, ddy))
	nx, ny := -ddy/l, ddx/l
	mx, my := (x1+x2)/2+nx*bend*l, (y1+y2)/2+ny*bend*l
	sx, sy, ex, ey := x1, y1, x2, y2
	if startAtNode {
		sx, sy = pullToward(x1, y1, mx, my, rad)
	}
	if endAtNode {
		ex, ey = pullToward(x2, y2, mx, my, rad+2)
	}
	lx, ly := (sx+2*mx+ex)/4+nx*11, (sy+2*my+ey)/4+ny*11
	return []goapp.UI{
		svgEl("path").Class("edge", "road").DataSet("segment", id).Attr("d", fmt.Sprintf("M%s,%s Q%s,%s %s,%s", f1(sx), f1(sy), f1(mx), f1(my), f1(ex), f1(ey))).
			Attr("fill", "none").Attr("marker-end", "url(#p7-road-arrow)"),
		svgEl("text").Class("edge-label").Attr("x", f1(lx)).Attr("y", f1(ly+4)).Attr("text-anchor", "middle").Text(label),
	}
}

// roundOff shows imbalances that are rounding error (far below the flows'
// size) as 0, so a conserved network reads as all zeros.
func roundOff(res, flows []float64) []float64 {
	scale := 1.0
	for _, f := range flows {
		scale = math.Max(scale, math.Abs(f))
	}
	out := make([]float64, len(res))
	for i, v := range res {
		if math.Abs(v) > 1e-9*scale {
			out[i] = v
		}
	}
	return out
}
