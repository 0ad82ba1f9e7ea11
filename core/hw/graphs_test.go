package hw

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// walks counts walks of length k from i to j by enumerating them.
func walks(g *Graph, i, j, k int) int {
	if k == 0 {
		if i == j {
			return 1
		}
		return 0
	}
	c := 0
	for _, e := range g.Edges {
		if e.From == i {
			c += walks(g, e.To, j, k-1)
		}
		if !g.Directed && e.To == i {
			c += walks(g, e.From, j, k-1)
		}
	}
	return c
}

func randomGraph(seed uint64, n int, directed bool, density float64) *Graph {
	r := rand.New(rand.NewPCG(seed, 3))
	g, _ := NewGraph(directed)
	for i := 0; i < n; i++ {
		_, _ = g.AddNode(string(rune('a' + i)))
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j && r.Float64() < density && !g.HasEdge(i, j) {
				_ = g.AddEdge(i, j, 1)
			}
		}
	}
	return g
}

func TestWalkCounts(t *testing.T) {
	for _, g := range []*Graph{ExampleUndirected(), randomGraph(1, 6, false, 0.4), randomGraph(2, 6, true, 0.3)} {
		m, err := g.Matrices()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < g.N(); i++ {
			for j := 0; j < g.N(); j++ {
				for k, ak := range [][][]float64{m.A, m.A2, m.A3} {
					if want := walks(g, i, j, k+1); ak[i][j] != float64(want) {
						t.Errorf("directed=%v: (A^%d)[%d][%d] = %v, %d walks", g.Directed, k+1, i, j, ak[i][j], want)
					}
				}
			}
		}
	}
}

func TestDegreesAndNormalisation(t *testing.T) {
	for _, g := range []*Graph{ExampleUndirected(), randomGraph(4, 7, true, 0.4), BerkeleyRoads().mustGraph(t)} {
		m, err := g.Matrices()
		if err != nil {
			t.Fatal(err)
		}
		in, out := make([]float64, g.N()), make([]float64, g.N())
		for _, e := range g.Edges {
			out[e.From]++
			in[e.To]++
			if !g.Directed {
				out[e.To]++
				in[e.From]++
			}
		}
		want := [][]float64{out}
		if g.Directed {
			want = [][]float64{in, out}
		}
		if len(m.Views) != len(want) {
			t.Fatalf("%d views", len(m.Views))
		}
		for k, v := range m.Views {
			for i := range v.Degree {
				if v.Degree[i] != want[k][i] || v.D[i][i] != want[k][i] {
					t.Errorf("%s of node %d: %v, counted %v", v.Name, i, v.Degree[i], want[k][i])
				}
			}
			if len(v.ZeroDegree) == 0 && !v.Eq14Holds {
				t.Errorf("%s: eq. (14) fails by %v with no zero-degree node", v.Name, v.Eq14MaxDiff)
			}
			// L = D - A: rows (out-degree) or columns (in-degree) sum to zero.
			for i := range v.L {
				rs, cs := 0.0, 0.0
				for j := range v.L {
					rs += v.L[i][j]
					cs += v.L[j][i]
				}
				if (v.Name != "in-degree" && rs != 0) || (v.Name == "in-degree" && cs != 0) {
					t.Errorf("%s: L row %d sums to %v, column to %v", v.Name, i, rs, cs)
				}
			}
		}
		if !g.Directed {
			// A D^-1 is column-stochastic, and A^2's diagonal is the degree.
			v := m.Views[0]
			for j := range v.ADInv {
				s := 0.0
				for i := range v.ADInv {
					s += v.ADInv[i][j]
				}
				if math.Abs(s-1) > 1e-15 || m.A2[j][j] != v.Degree[j] {
					t.Errorf("column %d of A D^-1 sums to %v; A^2 diagonal %v vs degree %v", j, s, m.A2[j][j], v.Degree[j])
				}
			}
		}
	}
}

func TestTrianglesFromA3(t *testing.T) {
	g := randomGraph(6, 8, false, 0.5)
	m, _ := g.Matrices()
	tri := 0
	for i := 0; i < g.N(); i++ {
		for j := i + 1; j < g.N(); j++ {
			for k := j + 1; k < g.N(); k++ {
				if g.HasEdge(i, j) && g.HasEdge(j, k) && g.HasEdge(i, k) {
					tri++
				}
			}
		}
	}
	tr := 0.0
	for i := range m.A3 {
		tr += m.A3[i][i]
	}
	if tr != float64(6*tri) {
		t.Fatalf("trace(A^3) = %v, 6 * %d triangles", tr, tri)
	}
}

// components counts connected components with at least one edge (BFS) and
// whether each is bipartite.
func components(g *Graph) (withEdges, bipartite int) {
	color := make([]int, g.N())
	for s := range color {
		if color[s] != 0 {
			continue
		}
		color[s] = 1
		queue, edges, bip := []int{s}, 0, true
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			for _, e := range g.Edges {
				v := -1
				if e.From == u {
					v = e.To
				} else if e.To == u {
					v = e.From
				}
				if v < 0 {
					continue
				}
				edges++
				if color[v] == 0 {
					color[v] = -color[u]
					queue = append(queue, v)
				} else if color[v] == color[u] {
					bip = false
				}
			}
		}
		if edges > 0 {
			withEdges++
			if bip {
				bipartite++
			}
		}
	}
	return
}

func TestLSymEigenvalues(t *testing.T) {
	square, _ := NewGraph(false, "p", "q", "r", "s")
	for _, e := range [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 0}} {
		_ = square.AddEdge(e[0], e[1], 1)
	}
	two := ExampleUndirected()
	base := two.N()
	for _, l := range []string{"x", "y", "z"} {
		_, _ = two.AddNode(l)
	}
	_ = two.AddEdge(base, base+1, 1) // a second component; z is isolated
	for _, g := range []*Graph{ExampleUndirected(), square, two, randomGraph(8, 9, false, 0.3), randomGraph(9, 6, true, 0.4)} {
		m, err := g.Matrices()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range m.Views {
			// Trace identities, independent of the eigensolver.
			var s1, s2 complex128
			for _, e := range v.Eigenvalues {
				s1 += e
				s2 += e * e
			}
			tr1, tr2 := 0.0, 0.0
			for i := range v.LSym {
				tr1 += v.LSym[i][i]
				for j := range v.LSym {
					tr2 += v.LSym[i][j] * v.LSym[j][i]
				}
			}
			if cmplx.Abs(s1-complex(tr1, 0)) > 1e-12 || cmplx.Abs(s2-complex(tr2, 0)) > 1e-12 {
				t.Errorf("%s: sum %v vs trace %v, sum sq %v vs %v", v.Name, s1, tr1, s2, tr2)
			}
			if g.Directed {
				continue
			}
			zeros, twos := 0, 0
			for _, e := range v.Eigenvalues {
				if imag(e) != 0 || real(e) < -1e-12 || real(e) > 2+1e-12 {
					t.Errorf("eigenvalue %v outside [0, 2]", e)
				}
				if math.Abs(real(e)) < 1e-12 {
					zeros++
				}
				if math.Abs(real(e)-2) < 1e-12 {
					twos++
				}
			}
			comps, bip := components(g)
			if zeros != comps || twos != bip {
				t.Errorf("%v: %d zero and %d two eigenvalues; %d components, %d bipartite", v.Eigenvalues, zeros, twos, comps, bip)
			}
		}
	}
}

func TestZeroDegreeConvention(t *testing.T) {
	g := ExampleUndirected()
	iso, _ := g.AddNode("lonely")
	m, err := g.Matrices()
	if err != nil {
		t.Fatal(err)
	}
	v := m.Views[0]
	if len(v.ZeroDegree) != 1 || v.ZeroDegree[0] != iso || v.DInv[iso][iso] != 0 || v.DInvSqrt[iso][iso] != 0 {
		t.Fatalf("zero degree %v, D^-1 %v, D^-1/2 %v", v.ZeroDegree, v.DInv[iso][iso], v.DInvSqrt[iso][iso])
	}
	for _, mm := range [][][]float64{v.DInv, v.DInvSqrt, v.ADInv, v.ASym, v.LSym, v.LSymEq14} {
		for _, row := range mm {
			for _, x := range row {
				if !finite(x) {
					t.Fatal("non-finite entry")
				}
			}
		}
	}
	// (14) fails exactly at the isolated node's diagonal: 1 vs 0.
	if v.Eq14Holds || v.Eq14MaxDiff != 1 || v.LSym[iso][iso] != 1 || v.LSymEq14[iso][iso] != 0 {
		t.Errorf("holds %v diff %v, LSym %v, eq14 %v", v.Eq14Holds, v.Eq14MaxDiff, v.LSym[iso][iso], v.LSymEq14[iso][iso])
	}
	// Directed: a source has in-degree 0, a sink out-degree 0.
	d, _ := NewGraph(true, "s", "t")
	_ = d.AddEdge(0, 1, 1)
	m, _ = d.Matrices()
	if m.Views[0].ZeroDegree[0] != 0 || m.Views[1].ZeroDegree[0] != 1 {
		t.Errorf("in-degree zeros %v, out-degree zeros %v", m.Views[0].ZeroDegree, m.Views[1].ZeroDegree)
	}
}

func TestWeightedEq14(t *testing.T) {
	g, _ := NewGraph(true, "a", "b", "c")
	_ = g.AddEdge(0, 1, 5)
	_ = g.AddEdge(1, 2, 0.25)
	_ = g.AddEdge(2, 0, 3)
	_ = g.AddEdge(2, 1, 7)
	m, err := g.Matrices()
	if err != nil {
		t.Fatal(err)
	}
	if !m.Weighted || m.A[2][1] != 7 || m.A[1][2] != 0.25 {
		t.Fatalf("A %v weighted %v", m.A, m.Weighted)
	}
	for _, v := range m.Views {
		if !v.Eq14Holds {
			t.Errorf("%s: (14) off by %v", v.Name, v.Eq14MaxDiff)
		}
	}
}

func TestGraphEditing(t *testing.T) {
	g := ExampleUndirected()
	if err := g.RemoveNode(0); err != nil {
		t.Fatal(err)
	}
	// Node "2" is now index 0; its edges to old 3 and 4 moved to 1 and 2.
	if g.N() != 4 || len(g.Edges) != 4 || !g.HasEdge(0, 1) || !g.HasEdge(2, 0) || g.HasEdge(0, 3) {
		t.Fatalf("after removal: %v %v", g.Labels, g.Edges)
	}
	if err := g.RemoveEdge(1, 0); err != nil { // reversed order is the same undirected edge
		t.Fatal(err)
	}
	if g.HasEdge(0, 1) {
		t.Error("edge still there")
	}
	i, err := g.Index("5")
	if err != nil || i != 3 {
		t.Errorf("index of 5: %d %v", i, err)
	}
	d, _ := NewGraph(true, "a", "b")
	if err := d.AddEdge(0, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := d.AddEdge(1, 0, 1); err != nil {
		t.Errorf("directed reverse edge rejected: %v", err)
	}

	empty, _ := NewGraph(false)
	bad := []func() error{
		func() error { _, err := empty.Matrices(); return err },
		func() error { _, err := empty.Adjacency(); return err },
		func() error { _, err := NewGraph(false, "a", "a"); return err },
		func() error { _, err := g.AddNode(""); return err },
		func() error { _, err := g.AddNode("3"); return err },
		func() error { return g.AddEdge(0, 0, 1) },
		func() error { return g.AddEdge(0, 9, 1) },
		func() error { return g.AddEdge(-1, 0, 1) },
		func() error { return g.AddEdge(0, 2, 1) }, // exists
		func() error { return g.AddEdge(2, 0, 1) }, // exists, other direction
		func() error { return g.AddEdge(1, 3, 0) },
		func() error { return g.AddEdge(1, 3, math.Inf(1)) },
		func() error { return g.AddEdge(1, 3, -2) },
		func() error { return g.RemoveEdge(0, 3) },
		func() error { return g.RemoveEdge(7, 3) },
		func() error { return g.RemoveNode(4) },
		func() error { return g.RemoveNode(-1) },
		func() error { _, err := g.Index("nope"); return err },
		func() error {
			bogus := &Graph{Labels: []string{"a"}, Edges: []Edge{{0, 3, 1}}}
			_, err := bogus.Matrices()
			return err
		},
	}
	for k, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", k)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
}
