package hw

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Problem 7: adjacency, degree and Laplacian matrices of an editable graph.
//
// Policies, chosen so that every matrix the homework names is well defined:
//   - Self-loops are rejected. The homework's Laplacian (11) is defined for
//     simple graphs, and a loop's contribution to the degree (1 or 2) is a
//     convention the homework does not fix.
//   - A second edge between the same nodes (either direction, for an
//     undirected graph) is rejected; use a weight instead.
//   - Weights must be finite and positive; unweighted edges have weight 1.
//     Degrees are weighted (row or column sums of A). Walk counts, A^k as
//     "number of walks", only mean that for weight-1 graphs.
//   - A node of degree zero gets 0, not infinity, on the diagonal of D^-1 and
//     D^-1/2: the pseudo-inverse of a diagonal matrix. Its rows and columns
//     of A D^-1 and D^-1/2 A D^-1/2 are then zero, so L_sym = I - A_sym has
//     a 1 on its diagonal, while D^-1/2 L D^-1/2 has a 0 there: eq. (14)
//     holds exactly when no node has degree zero, and Eq14Holds says so.

// Edge is a graph edge between node indices. For an undirected graph the
// order of From and To does not matter.
type Edge struct {
	From, To int
	Weight   float64
}

// Graph is a graph with labelled nodes 0..N-1.
type Graph struct {
	Directed bool
	Labels   []string
	Edges    []Edge
}

const maxGraphNodes = 2000

// NewGraph returns a graph with the given node labels and no edges.
func NewGraph(directed bool, labels ...string) (*Graph, error) {
	g := &Graph{Directed: directed}
	for _, l := range labels {
		if _, err := g.AddNode(l); err != nil {
			return nil, errf("hw.NewGraph", "%v", err)
		}
	}
	return g, nil
}

// N is the number of nodes.
func (g *Graph) N() int { return len(g.Labels) }

// Index returns the index of the node with this label.
func (g *Graph) Index(label string) (int, error) {
	if i := slices.Index(g.Labels, label); i >= 0 {
		return i, nil
	}
	return -1, errf("hw.Graph.Index", "no node labelled %q", label)
}

// AddNode appends a node and returns its index. Labels must be non-empty and unique.
func (g *Graph) AddNode(label string) (int, error) {
	const op = "hw.Graph.AddNode"
	if label == "" {
		return -1, errf(op, "node label is empty")
	}
	if slices.Contains(g.Labels, label) {
		return -1, errf(op, "a node labelled %q already exists", label)
	}
	if len(g.Labels) >= maxGraphNodes {
		return -1, errf(op, "graph already has the maximum %d nodes", maxGraphNodes)
	}
	g.Labels = append(g.Labels, label)
	return len(g.Labels) - 1, nil
}

func (g *Graph) checkNode(op string, i int) error {
	if i < 0 || i >= len(g.Labels) {
		return errf(op, "node %d does not exist (graph has %d nodes)", i, len(g.Labels))
	}
	return nil
}

// RemoveNode deletes node i and its edges; later nodes move down one index.
func (g *Graph) RemoveNode(i int) error {
	const op = "hw.Graph.RemoveNode"
	if err := g.checkNode(op, i); err != nil {
		return err
	}
	g.Labels = slices.Delete(g.Labels, i, i+1)
	edges := g.Edges[:0]
	for _, e := range g.Edges {
		if e.From == i || e.To == i {
			continue
		}
		if e.From > i {
			e.From--
		}
		if e.To > i {
			e.To--
		}
		edges = append(edges, e)
	}
	g.Edges = edges
	return nil
}

func (g *Graph) edgeIndex(from, to int) int {
	return slices.IndexFunc(g.Edges, func(e Edge) bool {
		return (e.From == from && e.To == to) || (!g.Directed && e.From == to && e.To == from)
	})
}

// HasEdge reports whether the edge exists (either direction if undirected).
func (g *Graph) HasEdge(from, to int) bool { return g.edgeIndex(from, to) >= 0 }

// AddEdge adds an edge of the given weight (1 for an unweighted graph).
func (g *Graph) AddEdge(from, to int, weight float64) error {
	const op = "hw.Graph.AddEdge"
	if err := g.checkNode(op, from); err != nil {
		return err
	}
	if err := g.checkNode(op, to); err != nil {
		return err
	}
	if from == to {
		return errf(op, "self-loop at %q: the homework's graphs are simple, so loops are not allowed", g.Labels[from])
	}
	if !finite(weight) || weight <= 0 || weight > maxAbsInput {
		return errf(op, "edge weight %v must be positive and finite", weight)
	}
	if g.HasEdge(from, to) {
		return errf(op, "edge %q-%q already exists", g.Labels[from], g.Labels[to])
	}
	g.Edges = append(g.Edges, Edge{From: from, To: to, Weight: weight})
	return nil
}

// RemoveEdge deletes an edge (either direction if undirected).
func (g *Graph) RemoveEdge(from, to int) error {
	const op = "hw.Graph.RemoveEdge"
	if err := g.checkNode(op, from); err != nil {
		return err
	}
	if err := g.checkNode(op, to); err != nil {
		return err
	}
	k := g.edgeIndex(from, to)
	if k < 0 {
		return errf(op, "no edge %q-%q", g.Labels[from], g.Labels[to])
	}
	g.Edges = slices.Delete(g.Edges, k, k+1)
	return nil
}

// Weighted reports whether any edge has a weight other than 1.
func (g *Graph) Weighted() bool {
	return slices.ContainsFunc(g.Edges, func(e Edge) bool { return e.Weight != 1 })
}

func (g *Graph) adjacency(op string) (*mat.Dense, error) {
	n := g.N()
	if n == 0 {
		return nil, errf(op, "graph has no nodes")
	}
	a := mat.NewDense(n, n, nil)
	for _, e := range g.Edges {
		if e.From < 0 || e.From >= n || e.To < 0 || e.To >= n || e.From == e.To || !(e.Weight > 0) || !finite(e.Weight) {
			return nil, errf(op, "invalid edge %+v (edit the graph through AddEdge)", e)
		}
		if a.At(e.From, e.To) != 0 {
			return nil, errf(op, "duplicate edge %+v", e)
		}
		a.Set(e.From, e.To, e.Weight)
		if !g.Directed {
			a.Set(e.To, e.From, e.Weight)
		}
	}
	return a, nil
}

// Adjacency is A of eq. (6)/(7): A[i][j] is the weight of the edge i -> j.
func (g *Graph) Adjacency() ([][]float64, error) {
	a, err := g.adjacency("hw.Graph.Adjacency")
	if err != nil {
		return nil, err
	}
	return rowsOf(a), nil
}

// DegreeView is every degree-normalised matrix for one choice of D.
type DegreeView struct {
	// Name is "degree" (undirected), "in-degree" or "out-degree". With A[i][j]
	// the edge i -> j, out-degrees are row sums and in-degrees column sums.
	Name   string
	Degree []float64
	D      [][]float64
	// DInv and DInvSqrt put 0 where the degree is 0 (pseudo-inverse).
	DInv, DInvSqrt [][]float64
	// ADInv is A D^-1, eq. (9): column j divided by node j's degree. For an
	// undirected graph or the in-degree view it is column-stochastic (the
	// random walk's transition matrix, transposed); with out-degrees it is
	// only that when every node's in- and out-degree agree.
	ADInv    [][]float64
	ASym     [][]float64 // D^-1/2 A D^-1/2, eq. (10)
	L        [][]float64 // D - A, eq. (12)
	LSym     [][]float64 // I - D^-1/2 A D^-1/2, eq. (13)
	LSymEq14 [][]float64 // D^-1/2 L D^-1/2, eq. (14)
	// Eq14MaxDiff is max |LSym - LSymEq14|; Eq14Holds is whether it is
	// within rounding. It fails exactly at zero-degree nodes (see the
	// package note on the pseudo-inverse convention).
	Eq14MaxDiff float64
	Eq14Holds   bool
	ZeroDegree  []int
	// Eigenvalues of LSym, sorted by real then imaginary part. When LSym
	// is symmetric (undirected graphs) they come from a symmetric
	// eigensolver and are real; a directed graph's LSym is in general not
	// symmetric, and mat.Eigen's complex eigenvalues are reported.
	Eigenvalues []complex128
	Symmetric   bool
}

// GraphMatrices holds A, its powers and one DegreeView per degree notion.
type GraphMatrices struct {
	Labels   []string
	Directed bool
	// Weighted: when false, (A^k)[i][j] counts the walks of length k from i to j.
	Weighted  bool
	A, A2, A3 [][]float64
	// Views has one entry ("degree") for an undirected graph and two
	// ("in-degree", "out-degree") for a directed one.
	Views []DegreeView
}

// Matrices computes everything problem 7 asks for.
func (g *Graph) Matrices() (*GraphMatrices, error) {
	const op = "hw.Graph.Matrices"
	a, err := g.adjacency(op)
	if err != nil {
		return nil, err
	}
	n := g.N()
	var a2, a3 mat.Dense
	a2.Mul(a, a)
	a3.Mul(&a2, a)
	gm := &GraphMatrices{Labels: slices.Clone(g.Labels), Directed: g.Directed, Weighted: g.Weighted(),
		A: rowsOf(a), A2: rowsOf(&a2), A3: rowsOf(&a3)}
	rowSums := make([]float64, n)
	colSums := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			rowSums[i] += a.At(i, j)
			colSums[j] += a.At(i, j)
		}
	}
	names, degs := []string{"degree"}, [][]float64{rowSums}
	if g.Directed {
		names, degs = []string{"in-degree", "out-degree"}, [][]float64{colSums, rowSums}
	}
	for k, deg := range degs {
		v, err := degreeView(op, names[k], a, deg, !g.Directed)
		if err != nil {
			return nil, err
		}
		gm.Views = append(gm.Views, *v)
	}
	return gm, nil
}

func degreeView(op, name string, a *mat.Dense, deg []float64, symmetric bool) (*DegreeView, error) {
	n := len(deg)
	d := mat.NewDiagDense(n, slices.Clone(deg))
	inv := make([]float64, n)
	isq := make([]float64, n)
	v := &DegreeView{Name: name, Degree: slices.Clone(deg), Symmetric: symmetric}
	for i, x := range deg {
		if x == 0 {
			v.ZeroDegree = append(v.ZeroDegree, i)
			continue
		}
		inv[i], isq[i] = 1/x, 1/math.Sqrt(x)
	}
	dInv, dIsq := mat.NewDiagDense(n, inv), mat.NewDiagDense(n, isq)
	var adinv, asym, l, lsym, leq, tmp mat.Dense
	adinv.Mul(a, dInv)
	tmp.Mul(dIsq, a)
	asym.Mul(&tmp, dIsq)
	l.Sub(d, a)
	lsym.Sub(eye(n), &asym)
	tmp.Mul(dIsq, &l)
	leq.Mul(&tmp, dIsq)
	v.D, v.DInv, v.DInvSqrt = rowsOf(d), rowsOf(dInv), rowsOf(dIsq)
	v.ADInv, v.ASym, v.L, v.LSym, v.LSymEq14 = rowsOf(&adinv), rowsOf(&asym), rowsOf(&l), rowsOf(&lsym), rowsOf(&leq)
	v.Eq14Holds = true
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x, y := lsym.At(i, j), leq.At(i, j)
			diff := math.Abs(x - y)
			v.Eq14MaxDiff = max(v.Eq14MaxDiff, diff)
			// Each side is a few roundings from the exact value.
			if diff > 16*eps*max(1, math.Abs(x), math.Abs(y)) {
				v.Eq14Holds = false
			}
		}
	}

	if symmetric {
		s := mat.NewSymDense(n, nil)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				// Average the two triangles: they agree up to rounding, and
				// EigenSym must be given an exactly symmetric matrix.
				s.SetSym(i, j, (lsym.At(i, j)+lsym.At(j, i))/2)
			}
		}
		var es mat.EigenSym
		if !es.Factorize(s, false) {
			return nil, errf(op, "symmetric eigensolver did not converge")
		}
		for _, x := range es.Values(nil) {
			v.Eigenvalues = append(v.Eigenvalues, complex(x, 0))
		}
	} else {
		var e mat.Eigen
		if !e.Factorize(&lsym, mat.EigenNone) {
			return nil, errf(op, "eigensolver did not converge")
		}
		v.Eigenvalues = e.Values(nil)
	}
	slices.SortFunc(v.Eigenvalues, func(x, y complex128) int {
		if c := cmp.Compare(real(x), real(y)); c != 0 {
			return c
		}
		return cmp.Compare(imag(x), imag(y))
	})
	return v, nil
}

func eye(n int) *mat.DiagDense {
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	return mat.NewDiagDense(n, ones)
}

// ExampleUndirected stands in for the homework's Figure 5, which is not in
// the text: five nodes, a triangle 1-2-3 sharing the edge 2-3 with the
// square 2-3-5-4, so A^3 has non-zero diagonal (closed walks round the
// triangle) and the degrees differ.
func ExampleUndirected() *Graph {
	g, _ := NewGraph(false, "1", "2", "3", "4", "5")
	for _, e := range [][2]int{{0, 1}, {0, 2}, {1, 2}, {1, 3}, {2, 4}, {3, 4}} {
		_ = g.AddEdge(e[0], e[1], 1)
	}
	return g
}
