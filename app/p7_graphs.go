package app

import (
	"fmt"
	"math"
	"math/cmplx"
	"strconv"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// GraphsPage is problem 7: an editable graph with every matrix the
// homework names, and the directed road network with flow estimation.
type GraphsPage struct {
	goapp.Compo
	g        *hw.Graph
	source   string // what the editor holds: "example", "roads" or "edited"
	newLabel string
	from, to int
	rmNode   int
	editMsg  string
	editErr  error

	measured map[int]float64
	reset    int // bumps the flow fields when the form is filled or cleared
}

// maxEditorNodes keeps the matrices readable on a page.
const maxEditorNodes = 16

// OnPreRender titles the pre-rendered page.
func (pg *GraphsPage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 7) }

// OnNav titles the page after an in-app navigation.
func (pg *GraphsPage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 7) }

func (pg *GraphsPage) defaults() {
	if pg.g == nil {
		pg.g, pg.source = hw.ExampleUndirected(), "example"
		pg.from, pg.to = 0, 1
	}
	if pg.measured == nil {
		pg.measured = hw.BerkeleyMeasured()
	}
}

// Render draws the page.
func (pg *GraphsPage) Render() goapp.UI {
	pg.defaults()
	return problemFrame(7,
		pg.editor(),
		pg.matrices(),
		section("p7-eq14", "Why eq. (14) holds",
			goapp.P().Text("L_sym = I − D^(−1/2) A D^(−1/2). Where every degree is positive, D^(−1/2) D D^(−1/2) = I, so"),
			formula(`D^{-1/2}LD^{-1/2}=D^{-1/2}(D-A)D^{-1/2}=I-D^{-1/2}AD^{-1/2}=L^{SymNorm}`),
			goapp.P().Text("A node of degree zero has no 1/√deg. gradlab puts 0 there (the pseudo-inverse of D), so its row and column of D^(−1/2) A D^(−1/2) are zero: L_sym has a 1 on that diagonal entry while D^(−1/2) L D^(−1/2) has a 0, and eq. (14) fails exactly at isolated nodes. Remove every edge of a node above to see it."),
		),
		pg.roads(),
	)
}

// --- the editor ---

func (pg *GraphsPage) setGraph(g *hw.Graph, source, msg string) {
	pg.g, pg.source, pg.editMsg, pg.editErr = g, source, msg, nil
	pg.from, pg.to, pg.rmNode = 0, min(1, max(0, g.N()-1)), 0
}

// clone copies the graph so a failed edit leaves the shown one unchanged.
func clone(g *hw.Graph) *hw.Graph {
	return &hw.Graph{Directed: g.Directed, Labels: append([]string(nil), g.Labels...), Edges: append([]hw.Edge(nil), g.Edges...)}
}

func (pg *GraphsPage) edit(f func(g *hw.Graph) (string, error)) {
	g := clone(pg.g)
	msg, err := f(g)
	if err != nil {
		pg.editErr, pg.editMsg = err, ""
		return
	}
	pg.g, pg.source, pg.editErr, pg.editMsg = g, "edited", nil, msg
	pg.from, pg.to = min(pg.from, max(0, g.N()-1)), min(pg.to, max(0, g.N()-1))
	pg.rmNode = min(pg.rmNode, max(0, g.N()-1))
}

// AddNode adds a node with the given label.
func (pg *GraphsPage) AddNode(label string) {
	pg.edit(func(g *hw.Graph) (string, error) {
		if g.N() >= maxEditorNodes {
			return "", fmt.Errorf("the editor holds at most %d nodes, so every matrix stays readable", maxEditorNodes)
		}
		if _, err := g.AddNode(strings.TrimSpace(label)); err != nil {
			return "", err
		}
		return fmt.Sprintf("Added node %q.", strings.TrimSpace(label)), nil
	})
	if pg.editErr == nil {
		pg.newLabel = ""
	}
}

// RemoveNode deletes node i.
func (pg *GraphsPage) RemoveNode(i int) {
	pg.edit(func(g *hw.Graph) (string, error) {
		if i < 0 || i >= g.N() {
			return "", fmt.Errorf("no node to remove")
		}
		l := g.Labels[i]
		return fmt.Sprintf("Removed node %q and its edges.", l), g.RemoveNode(i)
	})
}

// AddEdge adds an unweighted edge.
func (pg *GraphsPage) AddEdge(from, to int) {
	pg.edit(func(g *hw.Graph) (string, error) {
		if err := g.AddEdge(from, to, 1); err != nil {
			return "", err
		}
		return fmt.Sprintf("Added edge %s.", edgeName(g, hw.Edge{From: from, To: to})), nil
	})
}

// RemoveEdge deletes the k-th edge.
func (pg *GraphsPage) RemoveEdge(k int) {
	pg.edit(func(g *hw.Graph) (string, error) {
		if k < 0 || k >= len(g.Edges) {
			return "", fmt.Errorf("no edge to remove")
		}
		e := g.Edges[k]
		return fmt.Sprintf("Removed edge %s.", edgeName(g, e)), g.RemoveEdge(e.From, e.To)
	})
}

// SetDirected converts the graph. Going undirected merges a pair of
// opposite edges into one edge (the first one's weight).
func (pg *GraphsPage) SetDirected(directed bool) {
	if directed == pg.g.Directed {
		return
	}
	pg.edit(func(old *hw.Graph) (string, error) {
		g, err := hw.NewGraph(directed, old.Labels...)
		if err != nil {
			return "", err
		}
		merged := 0
		for _, e := range old.Edges {
			if !directed && g.HasEdge(e.From, e.To) {
				merged++
				continue
			}
			if err := g.AddEdge(e.From, e.To, e.Weight); err != nil {
				return "", err
			}
		}
		*old = *g
		if directed {
			return "Now directed: each edge points from its first node to its second.", nil
		}
		return fmt.Sprintf("Now undirected; %d pair(s) of opposite edges became single edges.", merged), nil
	})
}

func edgeName(g *hw.Graph, e hw.Edge) string {
	sep := "–"
	if g.Directed {
		sep = "→"
	}
	s := g.Labels[e.From] + sep + g.Labels[e.To]
	if e.Weight != 1 {
		s += fmt.Sprintf(" (weight %s)", FormatNum(e.Weight, 4))
	}
	return s
}

func nodeSelect(id, label string, labels []string, sel int, set func(int)) goapp.UI {
	return goapp.Div().Class("field").Body(
		goapp.Label().For(id).Text(label),
		goapp.Select().ID(id).OnChange(func(ctx goapp.Context, _ goapp.Event) {
			if i, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
				set(i)
			}
		}).Body(
			goapp.Range(labels).Slice(func(i int) goapp.UI {
				return goapp.Option().Value(strconv.Itoa(i)).Selected(i == sel).Text(labels[i])
			}),
		),
	)
}

func (pg *GraphsPage) editor() goapp.UI {
	g := pg.g
	var status goapp.UI
	switch {
	case pg.editErr != nil:
		status = errorBox("p7-edit-error", pg.editErr)
	case pg.editMsg != "":
		status = goapp.P().ID("p7-edit-msg").Class("muted").Aria("live", "polite").Text(pg.editMsg)
	}
	var nodeOps, edgeOps goapp.UI
	if g.N() > 0 {
		nodeOps = goapp.Div().Class("edit-row").Body(
			nodeSelect("p7-rm-node", "Node", g.Labels, pg.rmNode, func(i int) { pg.rmNode = i }),
			goapp.Button().ID("p7-remove-node").Text("Remove node").OnClick(func(goapp.Context, goapp.Event) { pg.RemoveNode(pg.rmNode) }),
		)
		edgeOps = goapp.Div().Class("edit-row").Body(
			nodeSelect("p7-from", "From", g.Labels, pg.from, func(i int) { pg.from = i }),
			nodeSelect("p7-to", "To", g.Labels, pg.to, func(i int) { pg.to = i }),
			goapp.Button().ID("p7-add-edge").Text("Add edge").OnClick(func(goapp.Context, goapp.Event) { pg.AddEdge(pg.from, pg.to) }),
		)
	}
	return section("p7-editor", "The graph",
		goapp.Div().Class("edit-row").Body(
			goapp.Button().ID("p7-load-example").Text("Example undirected graph").OnClick(func(goapp.Context, goapp.Event) {
				pg.setGraph(hw.ExampleUndirected(), "example", "Loaded the example undirected graph.")
			}),
			goapp.Button().ID("p7-load-roads").Text("Road network (directed)").OnClick(func(goapp.Context, goapp.Event) { pg.loadRoads() }),
			goapp.Label().Class("toggle").For("p7-directed").Body(
				goapp.Input().Type("checkbox").ID("p7-directed").Checked(g.Directed).OnChange(func(ctx goapp.Context, _ goapp.Event) {
					pg.SetDirected(ctx.JSSrc().Get("checked").Bool())
				}),
				goapp.Text(" Directed"),
			),
		),
		goapp.P().Class("muted").Text("The homework's Figure 5 is not in the text, so the example is a stand-in: a triangle 1-2-3 sharing the edge 2-3 with the square 2-3-5-4. Edit it freely; every matrix below follows."),
		graphSVG(g),
		goapp.Div().Class("edit-row").Body(
			goapp.Div().Class("field").Body(
				goapp.Label().For("p7-new-label").Text("New node label"),
				goapp.Input().Type("text").ID("p7-new-label").Value(pg.newLabel).Attr("maxlength", "12").
					OnInput(func(ctx goapp.Context, _ goapp.Event) { pg.newLabel = ctx.JSSrc().Get("value").String() }),
			),
			goapp.Button().ID("p7-add-node").Text("Add node").OnClick(func(goapp.Context, goapp.Event) { pg.AddNode(pg.newLabel) }),
		),
		nodeOps,
		edgeOps,
		status,
		goapp.Ul().ID("p7-edges").Class("edge-list").Aria("label", "Edges").Body(
			goapp.Range(g.Edges).Slice(func(k int) goapp.UI {
				return goapp.Li().Body(
					goapp.Span().Text(edgeName(g, g.Edges[k])),
					goapp.Button().Class("small").Aria("label", "Remove edge "+edgeName(g, g.Edges[k])).Text("remove").
						OnClick(func(goapp.Context, goapp.Event) { pg.RemoveEdge(k) }),
				)
			}),
		),
	)
}

func (pg *GraphsPage) loadRoads() {
	g, err := hw.BerkeleyRoads().Graph()
	if err != nil {
		pg.editErr = err
		return
	}
	pg.setGraph(g, "roads", "Loaded the road network's intersections; parallel segments became one edge of weight 2, and segments to or from outside have no node, so they are left out.")
}

// graphSVG draws the nodes on a circle; directed edges get arrows, and a
// pair of opposite edges is drawn as two arcs so both stay visible.
func graphSVG(g *hw.Graph) goapp.UI {
	n := g.N()
	const size, c, r, nodeR = 360.0, 180.0, 130.0, 17.0
	if n == 0 {
		return goapp.P().ID("p7-graph-empty").Class("notice").Text("The graph has no nodes: add one to start.")
	}
	pos := func(i int) (float64, float64) {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		return c + r*math.Cos(a), c + r*math.Sin(a)
	}
	parts := []goapp.UI{svgEl("defs").Body(svgEl("marker").ID("p7-arrow").Attr("viewBox", "0 0 10 10").Attr("refX", "10").Attr("refY", "5").
		Attr("markerWidth", "7").Attr("markerHeight", "7").Attr("orient", "auto-start-reverse").Body(
		svgEl("path").Attr("d", "M0,0 L10,5 L0,10 z").Class("arrow-head")))}
	for _, e := range g.Edges {
		x1, y1 := pos(e.From)
		x2, y2 := pos(e.To)
		bend := 0.0
		if g.Directed && g.HasEdge(e.To, e.From) {
			bend = 0.18
		}
		parts = append(parts, edgePath(x1, y1, x2, y2, nodeR, bend, g.Directed, e.Weight, "p7-arrow")...)
	}
	for i, l := range g.Labels {
		x, y := pos(i)
		parts = append(parts, svgEl("g").Class("node").Body(
			svgEl("circle").Attr("cx", f1(x)).Attr("cy", f1(y)).Attr("r", f1(nodeR)),
			svgEl("text").Attr("x", f1(x)).Attr("y", f1(y+5)).Attr("text-anchor", "middle").Text(l),
		))
	}
	kind := "undirected"
	if g.Directed {
		kind = "directed"
	}
	return svgEl("svg").ID("p7-graph").Class("graph-svg").Attr("viewBox", fmt.Sprintf("0 0 %g %g", size, size)).
		Attr("role", "img").Aria("label", fmt.Sprintf("A %s graph with %d nodes and %d edges", kind, n, len(g.Edges))).Body(parts...)
}

// edgePath draws an edge between two circles of radius rad: straight, or
// bent sideways by bend (a fraction of its length), with an arrow when
// directed and the weight when it is not 1.
func edgePath(x1, y1, x2, y2, rad, bend float64, directed bool, weight float64, marker string) []goapp.UI {
	dx, dy := x2-x1, y2-y1
	l := math.Max(1e-9, math.Hypot(dx, dy))
	ux, uy := dx/l, dy/l
	nx, ny := -uy, ux
	// Control point of the curve, then both ends pulled back to the circles.
	mx, my := (x1+x2)/2+nx*bend*l, (y1+y2)/2+ny*bend*l
	sx, sy := pullToward(x1, y1, mx, my, rad)
	ex, ey := pullToward(x2, y2, mx, my, rad+2)
	d := fmt.Sprintf("M%s,%s Q%s,%s %s,%s", f1(sx), f1(sy), f1(mx), f1(my), f1(ex), f1(ey))
	path := svgEl("path").Class("edge").Attr("d", d).Attr("fill", "none")
	if directed {
		path = path.Attr("marker-end", "url(#"+marker+")")
	}
	out := []goapp.UI{path}
	if weight != 1 {
		lx, ly := (sx+2*mx+ex)/4+nx*10, (sy+2*my+ey)/4+ny*10
		out = append(out, svgEl("text").Class("edge-label").Attr("x", f1(lx)).Attr("y", f1(ly)).Attr("text-anchor", "middle").Text(FormatNum(weight, 3)))
	}
	return out
}

func pullToward(x, y, tx, ty, d float64) (float64, float64) {
	dx, dy := tx-x, ty-y
	l := math.Max(1e-9, math.Hypot(dx, dy))
	return x + dx/l*d, y + dy/l*d
}

// --- the matrices ---

func (pg *GraphsPage) matrices() goapp.UI {
	m, err := pg.g.Matrices()
	if err != nil {
		return section("p7-matrices", "Matrices", errorBox("p7-matrices-error", err))
	}
	lbl := m.Labels
	mv := func(id, caption string, rows [][]float64, hl func(int, int, float64) bool) goapp.UI {
		return MatrixView{ID: id, Caption: caption, Rows: rows, RowLabels: lbl, ColLabels: lbl, Highlight: hl, Digits: 3}.UI()
	}
	walks := "(A^k)ᵢⱼ counts the walks of length k from node i to node j: a walk i→…→j is a choice of k edges in a row, and the matrix product sums over every intermediate node."
	if !m.Directed {
		walks += " For an undirected graph the diagonal of A² is each node's degree, and the diagonal of A³ is twice the number of triangles through the node (each triangle can be walked round in two directions)."
	}
	if m.Weighted {
		walks = "This graph has weighted edges, so (A^k)ᵢⱼ sums the products of the weights along each walk of length k rather than counting walks."
	}
	body := []goapp.UI{
		goapp.P().Text("A[i][j] is 1 when there is an edge from i to j (both ways for an undirected graph)."),
		mv("p7-A", "A (adjacency)", m.A, NonZero),
		goapp.P().Text(walks),
		goapp.Div().Class("matrix-pair").Body(
			mv("p7-A2", "A²", m.A2, nil),
			mv("p7-A3", "A³", m.A3, nil),
		),
	}
	for vi, v := range m.Views {
		id := fmt.Sprintf("p7-v%d", vi)
		var zero goapp.UI
		if len(v.ZeroDegree) > 0 {
			names := make([]string, len(v.ZeroDegree))
			for k, i := range v.ZeroDegree {
				names[k] = lbl[i]
			}
			zero = goapp.P().ID(id+"-zero").Class("notice").Textf("Node(s) %s have %s 0. 1/deg and 1/√deg do not exist there; D^(−1) and D^(−1/2) get 0 on that diagonal entry (the pseudo-inverse), so those rows and columns of the normalised matrices are 0, nothing is divided by zero, and eq. (14) does not hold at those nodes.", strings.Join(names, ", "), v.Name)
		}
		eq := fmt.Sprintf("Eq. (14) holds: I − D^(−1/2) A D^(−1/2) and D^(−1/2) L D^(−1/2) agree to %s.", FormatNum(v.Eq14MaxDiff, 2))
		eqCls := "verdict ok"
		if !v.Eq14Holds {
			eq = fmt.Sprintf("Eq. (14) does not hold here: the two sides differ by up to %s, at the zero-degree nodes.", FormatNum(v.Eq14MaxDiff, 3))
			eqCls = "verdict warn"
		}
		title := "Degree matrix and normalisations"
		if m.Directed {
			title = fmt.Sprintf("With the %s matrix", v.Name)
		}
		body = append(body, goapp.Details().Open(true).ID(id).Body(
			goapp.Summary().Text(title),
			zero,
			goapp.Div().Class("matrix-pair").Body(
				mv(id+"-D", "D ("+v.Name+")", v.D, Diagonal),
				mv(id+"-Dis", "D^(−1/2)", v.DInvSqrt, Diagonal),
			),
			goapp.Div().Class("matrix-pair").Body(
				mv(id+"-ADinv", "A D^(−1), eq. (9)", v.ADInv, nil),
				mv(id+"-Asym", "D^(−1/2) A D^(−1/2), eq. (10)", v.ASym, nil),
			),
			goapp.Div().Class("matrix-pair").Body(
				mv(id+"-L", "L = D − A, eq. (12)", v.L, nil),
				mv(id+"-Lsym", "L_sym = I − D^(−1/2) A D^(−1/2), eq. (13)", v.LSym, nil),
			),
			mv(id+"-Leq14", "D^(−1/2) L D^(−1/2), eq. (14)", v.LSymEq14, func(i, j int, x float64) bool {
				return math.Abs(x-v.LSym[i][j]) > 1e-9
			}),
			goapp.P().ID(id+"-eq14").Class(eqCls).DataSet("holds", v.Eq14Holds).Text(eq),
			goapp.P().ID(id+"-eig").Body(goapp.Strong().Text("Eigenvalues of L_sym: "), goapp.Text(eigenText(v))),
		))
	}
	return section("p7-matrices", "Matrices", body...)
}

func eigenText(v hw.DegreeView) string {
	parts := make([]string, len(v.Eigenvalues))
	real := true
	for i, e := range v.Eigenvalues {
		if math.Abs(imag(e)) > 1e-12*math.Max(1, cmplx.Abs(e)) {
			real = false
			parts[i] = fmt.Sprintf("%s %s %si", FormatNum(realPart(e), 4), sign(imag(e)), FormatNum(math.Abs(imag(e)), 4))
		} else {
			parts[i] = FormatNum(cleanZero(realPart(e)), 4)
		}
	}
	s := strings.Join(parts, ", ")
	switch {
	case v.Symmetric:
		s += ". L_sym is symmetric, so they are real; they lie in [0, 2], and the number of zeros is the number of connected components without an isolated node."
	case real:
		s += ". This L_sym is not symmetric (directed graph), but its eigenvalues happen to be real."
	default:
		s += ". This L_sym is not symmetric (directed graph), so some eigenvalues are complex."
	}
	return s
}

func realPart(e complex128) float64 { return real(e) }

func sign(x float64) string {
	if x < 0 {
		return "−"
	}
	return "+"
}

// cleanZero shows an eigenvalue that is zero up to rounding as 0.
func cleanZero(x float64) float64 {
	if math.Abs(x) < 1e-12 {
		return 0
	}
	return x
}
