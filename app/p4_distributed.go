package app

import (
	"fmt"
	"math"
	"time"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// DistributedPage is problem 4: message counts and sizes of all-to-all, a
// parameter server and ring all-reduce, from the formulas and from a
// simulation that counts every message, plus an animation of the ring.
type DistributedPage struct {
	goapp.Compo
	n, p                   float64
	latencyUS, bandwidthGB float64
	bytesPerParam          float64
	animN                  float64
	animStep               int
	playing                bool
	playGen                int
	init                   bool
	sims                   memo[map[hw.Scheme]*hw.SimResult]
	ring                   memo[[]hw.RingStep]
}

// Simulation limits: one goroutine per worker in a single-threaded wasm
// program, so the page simulates small cases and says so for larger ones.
const (
	simMaxN    = 64
	simMaxWork = 1 << 16
	animMaxN   = 8
	animPeriod = 900 * time.Millisecond
)

func (pg *DistributedPage) defaults() {
	if !pg.init {
		pg.n, pg.p = 4, 1200
		pg.latencyUS, pg.bandwidthGB, pg.bytesPerParam = 10, 10, 4
		pg.animN = 3
		pg.init = true
	}
}

// OnPreRender titles the pre-rendered page.
func (pg *DistributedPage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 4) }

// OnNav titles the page after an in-app navigation.
func (pg *DistributedPage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 4) }

// OnDismount stops the animation's timer chain.
func (pg *DistributedPage) OnDismount() { pg.playing = false; pg.playGen++ }

func (pg *DistributedPage) net() hw.NetModel {
	return hw.NetModel{Latency: pg.latencyUS * 1e-6, Bandwidth: pg.bandwidthGB * 1e9, BytesPerParam: int(pg.bytesPerParam)}
}

// Render draws the page.
func (pg *DistributedPage) Render() goapp.UI {
	pg.defaults()
	return problemFrame(4,
		section("p4-answer", "The answer",
			goapp.Table().Class("results").ID("p4-answer-table").Body(
				goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Scheme"), goapp.Th().Text("Number of messages sent"), goapp.Th().Text("Size of each message"))),
				goapp.TBody().Body(
					answerRow("All-to-All", "n(n − 1)", "p"),
					answerRow("Parameter Server", "2n", "p"),
					answerRow("Ring All-Reduce", "2n(n − 1)", "p/n"),
				),
			),
			goapp.P().Text("All-to-all: each of n workers sends its whole gradient to the n − 1 others. Parameter server: n gradients up, n averaged copies down. "+
				"Ring all-reduce: n − 1 reduce-scatter steps and n − 1 all-gather steps, in each of which every worker sends one chunk of p/n parameters to its neighbour. "+
				"The ring sends the most messages but each worker sends only 2(n − 1)·p/n ≈ 2p parameters, whatever n is, while the server must send n·p."),
		),
		section("p4-try", "Your n and p",
			goapp.Div().Class("inputs").Body(
				intField("p4-n", "Workers n", 1, 1<<20, pg.n, func(v float64) { pg.n = v }),
				intField("p4-p", "Parameters p", 1, 1<<40, pg.p, func(v float64) { pg.p = v }),
				&NumberInput{ID: "p4-lat", Label: "Latency per message", Unit: "µs", Min: 0, Max: 1e6, Value: pg.latencyUS,
					OnChange: func(_ goapp.Context, v float64) { pg.latencyUS = v }},
				&NumberInput{ID: "p4-bw", Label: "Bandwidth per link", Unit: "GB/s", Min: 0.001, Max: 1e4, Value: pg.bandwidthGB,
					OnChange: func(_ goapp.Context, v float64) { pg.bandwidthGB = v }},
				intField("p4-bpp", "Bytes per parameter", 1, 8, pg.bytesPerParam, func(v float64) { pg.bytesPerParam = v }),
			),
			pg.table(),
		),
		pg.animation(),
	)
}

func answerRow(s, msgs, size string) goapp.UI {
	return goapp.Tr().Body(goapp.Th().Scope("row").Text(s), goapp.Td().Text(msgs), goapp.Td().Text(size))
}

var (
	msgFormula  = map[hw.Scheme]string{hw.AllToAll: "n(n−1)", hw.ParameterServer: "2n", hw.RingAllReduce: "2n(n−1)"}
	sizeFormula = map[hw.Scheme]string{hw.AllToAll: "p", hw.ParameterServer: "p", hw.RingAllReduce: "p/n"}
	sentFormula = map[hw.Scheme]string{hw.AllToAll: "(n−1)·p", hw.ParameterServer: "n·p (the server)", hw.RingAllReduce: "2(n−1)·p/n"}
)

func (pg *DistributedPage) table() goapp.UI {
	n, p := int(pg.n), int(pg.p)
	net := pg.net()
	rows, err := hw.CommFormulas(n, p, net)
	if err != nil {
		return errorBox("p4-error", err)
	}
	sims := map[hw.Scheme]*hw.SimResult{}
	var simNote goapp.UI
	var simErr error
	if n <= simMaxN && n*p <= simMaxWork {
		sims, simErr = pg.sims.get(fmt.Sprint(n, p, net), func() (map[hw.Scheme]*hw.SimResult, error) {
			grads, err := hw.RandomGradients(n, p, 1)
			if err != nil {
				return nil, err
			}
			out := map[hw.Scheme]*hw.SimResult{}
			for _, s := range hw.Schemes {
				if out[s], err = hw.Simulate(s, grads, net); err != nil {
					return nil, err
				}
			}
			return out, nil
		})
		simNote = goapp.P().Textf("The simulation ran one goroutine per worker (and one for the server), sent real gradient slices over channels and counted every message.")
	} else {
		simNote = goapp.P().Class("notice").ID("p4-sim-skipped").Textf("Simulation skipped: it runs in this page for n ≤ %d and n·p ≤ %d; the formulas above hold for any n and p.", simMaxN, simMaxWork)
	}
	if simErr != nil {
		return goapp.Div().Body(errorBox("p4-sim-error", simErr))
	}
	simCell := func(s hw.Scheme, f func(*hw.SimResult) string) goapp.UI {
		r, ok := sims[s]
		if !ok {
			return goapp.Td().Class("muted").Text("—")
		}
		return goapp.Td().Class("num-cell", "sim").Text(f(r))
	}
	bytes := float64(net.BytesPerParam)
	return goapp.Div().Body(
		goapp.Div().Class("table-wrap").TabIndex(0).Role("region").Aria("label", "Message counts").Body(
			goapp.Table().Class("results").ID("p4-table").Body(
				goapp.Caption().Textf("n = %d workers, p = %d parameters", n, p),
				goapp.THead().Body(goapp.Tr().Body(
					goapp.Th().Text("Scheme"), goapp.Th().Text("Messages (formula)"), goapp.Th().Text("Messages (simulated)"),
					goapp.Th().Text("Size (formula)"), goapp.Th().Text("Sizes seen"), goapp.Th().Text("Most sent by one node"),
					goapp.Th().Text("Bytes sent per worker"), goapp.Th().Text("Rounds"), goapp.Th().Text("Time (model)"),
				)),
				goapp.TBody().Body(goapp.Range(rows).Slice(func(i int) goapp.UI {
					r := rows[i]
					perWorker := float64(r.MessageSize) * bytes * float64(r.Messages) / float64(n)
					if r.Scheme == hw.ParameterServer {
						perWorker = float64(r.MessageSize) * bytes // one push each; the server sends the rest
					}
					return goapp.Tr().DataSet("scheme", r.Scheme.String()).Body(
						goapp.Th().Scope("row").Text(r.Scheme.String()),
						goapp.Td().Class("num-cell").Textf("%s = %s", msgFormula[r.Scheme], Count(r.Messages)),
						simCell(r.Scheme, func(s *hw.SimResult) string { return fmt.Sprint(s.Messages) }),
						goapp.Td().Class("num-cell").Textf("%s = %s", sizeFormula[r.Scheme], Count(r.MessageSize)),
						simCell(r.Scheme, func(s *hw.SimResult) string { return fmt.Sprint(s.MessageSizes) }),
						goapp.Td().Class("num-cell").Textf("%s = %s", sentFormula[r.Scheme], Count(r.MaxSent)),
						goapp.Td().Class("num-cell").Text(Sci(perWorker, "B")),
						goapp.Td().Class("num-cell").Text(fmt.Sprint(r.Rounds)),
						goapp.Td().Class("num-cell").Text(Sci(r.Time, "s")),
					)
				})),
			),
		),
		goapp.P().Textf("Time model: a message of b bytes takes latency + b/bandwidth (%s + b/(%s/s)); within a round each node sends and receives one message after another, and rounds run in sequence. "+
			"The parameter server's link carries n·p parameters each way, which is why its time grows with n while the ring's stays near 2p·bytes/bandwidth.", Sci(net.Latency, "s"), Sci(net.Bandwidth, "B")),
		simNote,
		pg.simChecks(sims),
	)
}

func (pg *DistributedPage) simChecks(sims map[hw.Scheme]*hw.SimResult) goapp.UI {
	if len(sims) == 0 {
		return nil
	}
	var rows []goapp.UI
	for _, s := range hw.Schemes {
		r := sims[s]
		verdict := "equals the true mean"
		cls := "ok"
		if !r.WithinBound {
			verdict, cls = "DIFFERS from the true mean", "warn"
		}
		same := "bit-identical on every worker"
		if !r.Identical {
			same = "workers differ in the last bits (summation order)"
		}
		simTime := Sci(r.Time, "s")
		rows = append(rows, goapp.Tr().Body(
			goapp.Th().Scope("row").Text(s.String()),
			goapp.Td().Class(cls).Textf("%s (largest error %s, allowed by rounding %s)", verdict, FormatNum(r.MaxAbsErr, 3), FormatNum(r.ErrBound, 3)),
			goapp.Td().Text(same),
			goapp.Td().Class("num-cell").Text(simTime),
		))
	}
	return goapp.Table().Class("results").ID("p4-checks").Body(
		goapp.Caption().Text("Does every worker end with the average gradient?"),
		goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Scheme"), goapp.Th().Text("Averaged gradient"), goapp.Th().Text("Across workers"), goapp.Th().Text("Time from the message log"))),
		goapp.TBody().Body(rows...),
	)
}

// ringSteps simulates ring all-reduce for the animation.
func (pg *DistributedPage) ringSteps() ([]hw.RingStep, error) {
	n := int(pg.animN)
	return pg.ring.get(fmt.Sprint(n), func() ([]hw.RingStep, error) {
		grads, err := hw.RandomGradients(n, n, 2)
		if err != nil {
			return nil, err
		}
		r, err := hw.Simulate(hw.RingAllReduce, grads, hw.DefaultNet)
		if err != nil {
			return nil, err
		}
		return r.Ring, nil
	})
}

func (pg *DistributedPage) animation() goapp.UI {
	n := int(pg.animN)
	input := intField("p4-anim-n", "Workers in the animation", 2, animMaxN, pg.animN, func(v float64) {
		pg.animN, pg.animStep, pg.playing = v, 0, false
		pg.playGen++
	})
	steps, err := pg.ringSteps()
	if err != nil {
		return section("p4-ring", "Ring all-reduce, step by step", input, errorBox("p4-ring-error", err))
	}
	last := len(steps)
	if pg.animStep > last {
		pg.animStep = last
	}
	s := pg.animStep
	var caption string
	var sends []hw.RingSend
	summed := make([][]int, n)
	if s == 0 {
		caption = fmt.Sprintf("Start: each worker holds its own gradient, split into %d chunks (each chunk holds 1 of %d gradients).", n, n)
		for w := range summed {
			summed[w] = make([]int, n)
			for c := range summed[w] {
				summed[w][c] = 1
			}
		}
	} else {
		st := steps[s-1]
		sends, summed = st.Sends, st.Summed
		if st.Phase == "reduce-scatter" {
			caption = fmt.Sprintf("Reduce-scatter step %d of %d: each worker sends one chunk to its right neighbour, which adds it to its own copy.", st.Step+1, n-1)
		} else {
			caption = fmt.Sprintf("All-gather step %d of %d: each worker passes a finished chunk on; the receiver overwrites its copy.", st.Step+1, n-1)
		}
		if s == last {
			caption += fmt.Sprintf(" Done: every worker holds all %d chunks summed over all %d workers, after %d messages.", n, n, 2*n*(n-1))
		}
	}
	playLabel := "▶ Play"
	if pg.playing {
		playLabel = "⏸ Pause"
	}
	return section("p4-ring", "Ring all-reduce, step by step",
		input,
		goapp.Div().Class("anim-controls").Role("group").Aria("label", "Animation controls").Body(
			goapp.Button().ID("p4-first").Text("⇤ Start").Disabled(s == 0).OnClick(func(goapp.Context, goapp.Event) { pg.stop(); pg.animStep = 0 }),
			goapp.Button().ID("p4-prev").Text("◀ Back").Disabled(s == 0).OnClick(func(goapp.Context, goapp.Event) { pg.stop(); pg.animStep-- }),
			goapp.Button().ID("p4-next").Text("Next ▶").Disabled(s == last).OnClick(func(goapp.Context, goapp.Event) { pg.stop(); pg.animStep++ }),
			goapp.Button().ID("p4-play").Text(playLabel).Aria("pressed", fmt.Sprint(pg.playing)).OnClick(pg.togglePlay),
		),
		goapp.P().ID("p4-step").Aria("live", "polite").Body(
			goapp.Strong().Textf("Step %d of %d. ", s, last), goapp.Text(caption)),
		ringSVG(n, sends, summed),
		goapp.P().Class("muted").Text("Each box is a worker; its cells are the chunks, labelled with how many workers' gradients they already contain (darker = more). Arrows show this step's messages and the chunk each carries."),
	)
}

func (pg *DistributedPage) stop() { pg.playing = false; pg.playGen++ }

func (pg *DistributedPage) togglePlay(ctx goapp.Context, _ goapp.Event) {
	if pg.playing {
		pg.stop()
		return
	}
	steps, err := pg.ringSteps()
	if err != nil {
		return
	}
	if pg.animStep >= len(steps) {
		pg.animStep = 0
	}
	pg.playing = true
	pg.playGen++
	pg.tick(ctx, pg.playGen, len(steps))
}

// tick advances the animation one step per period until the end, a pause
// or a newer play (gen) cancels it.
func (pg *DistributedPage) tick(ctx goapp.Context, gen, last int) {
	ctx.After(animPeriod, func(ctx goapp.Context) {
		if !pg.playing || gen != pg.playGen {
			return
		}
		pg.animStep++
		if pg.animStep >= last {
			pg.animStep = last
			pg.playing = false
			return
		}
		pg.tick(ctx, gen, last)
	})
}

// ringSVG draws the workers on a circle with their chunks and this step's
// sends.
func ringSVG(n int, sends []hw.RingSend, summed [][]int) goapp.UI {
	const size, cx, cy, r = 440.0, 220.0, 220.0, 160.0
	// Cells as large as fit between neighbours on the ring.
	chord := 2 * r * math.Sin(math.Pi/float64(n))
	if n == 2 {
		chord = 2 * r
	}
	cell := math.Max(12, math.Min(26, 0.85*chord/float64(n)))
	boxW := float64(n)*cell + 12
	boxH := cell + 32
	pos := func(i int) (float64, float64) {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		return cx + r*math.Cos(a), cy + r*math.Sin(a)
	}
	parts := []goapp.UI{
		svgEl("defs").Body(svgEl("marker").ID("p4-arrow").Attr("viewBox", "0 0 10 10").Attr("refX", "9").Attr("refY", "5").
			Attr("markerWidth", "7").Attr("markerHeight", "7").Attr("orient", "auto-start-reverse").Body(
			svgEl("path").Attr("d", "M0,0 L10,5 L0,10 z").Class("arrow-head"))),
		svgEl("circle").Class("ring-track").Attr("cx", f1(cx)).Attr("cy", f1(cy)).Attr("r", f1(r)),
	}
	for _, snd := range sends {
		x1, y1 := pos(snd.From)
		x2, y2 := pos(snd.To)
		// Shorten the chord so the arrow starts and ends at the boxes.
		dx, dy := x2-x1, y2-y1
		l := math.Hypot(dx, dy)
		cut := math.Min(0.35, (boxW/2+8)/l)
		ax, ay := x1+dx*cut, y1+dy*cut
		bx, by := x2-dx*cut, y2-dy*cut
		// Label outside the chord, away from the centre.
		mx, my := (ax+bx)/2, (ay+by)/2
		ox, oy := mx-cx, my-cy
		ol := math.Max(1, math.Hypot(ox, oy))
		lx, ly := mx+ox/ol*14, my+oy/ol*14
		if n == 2 {
			lx, ly = mx+18, my
		}
		parts = append(parts,
			svgEl("line").Class("send").Attr("x1", f1(ax)).Attr("y1", f1(ay)).Attr("x2", f1(bx)).Attr("y2", f1(by)).Attr("marker-end", "url(#p4-arrow)"),
			svgEl("text").Class("send-label").Attr("x", f1(lx)).Attr("y", f1(ly)).Attr("text-anchor", "middle").Textf("chunk %d", snd.Chunk+1),
		)
	}
	for w := 0; w < n; w++ {
		x, y := pos(w)
		x0, y0 := x-boxW/2, y-boxH/2
		cells := []goapp.UI{
			svgEl("rect").Class("worker").Attr("x", f1(x0)).Attr("y", f1(y0)).Attr("width", f1(boxW)).Attr("height", f1(boxH)).Attr("rx", "6"),
			svgEl("text").Class("worker-label").Attr("x", f1(x)).Attr("y", f1(y0+14)).Attr("text-anchor", "middle").Textf("worker %d", w+1),
		}
		for c := 0; c < n; c++ {
			k := 0
			if w < len(summed) && c < len(summed[w]) {
				k = summed[w][c]
			}
			frac := float64(k) / float64(n)
			cxl := x0 + 6 + float64(c)*cell
			cells = append(cells,
				svgEl("rect").Class("chunk").Attr("x", f1(cxl)).Attr("y", f1(y0+22)).Attr("width", f1(cell-2)).Attr("height", f1(cell)).
					Attr("fill-opacity", fmt.Sprintf("%.2f", 0.15+0.85*frac)),
				svgEl("text").Class("chunk-label").Attr("x", f1(cxl+(cell-2)/2)).Attr("y", f1(y0+22+cell/2+4)).Attr("text-anchor", "middle").
					Style("font-size", "%spx", f1(math.Min(14, cell*0.6))).Text(fmt.Sprint(k)),
			)
		}
		parts = append(parts, svgEl("g").DataSet("worker", w).Body(cells...))
	}
	return svgEl("svg").ID("p4-ring-svg").Class("ring-svg").Attr("viewBox", fmt.Sprintf("0 0 %g %g", size, size)).
		Attr("role", "img").Aria("label", fmt.Sprintf("Ring of %d workers; %d messages in this step", n, len(sends))).Body(parts...)
}
