package hw

import (
	"math"
	"testing"
)

func (r *RoadNetwork) mustGraph(t *testing.T) *Graph {
	g, err := r.Graph()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// berkeleyTruth is a hand-balanced flow for every segment (checked below
// against the incidence matrix, not against the solver).
var berkeleyTruth = map[int]float64{
	1: 300, 2: 250, 3: 200, 4: 280, 5: 330, 6: 100, 7: 130, 8: 80, 9: 150, 10: 90, 11: 250,
	12: 210, 13: 230, 14: 240, 15: 200, 16: 60, 17: 120, 18: 150, 19: 50, 20: 40, 21: 100, 22: 70,
}

func TestBerkeleyNetwork(t *testing.T) {
	r := BerkeleyRoads()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(r.Intersections) != 8 || len(r.Segments) != 22 {
		t.Fatalf("%d intersections, %d segments", len(r.Intersections), len(r.Segments))
	}
	b, _ := r.Incidence()
	for i, row := range b {
		bal := 0.0
		for k, v := range row {
			bal += v * berkeleyTruth[r.Segments[k].ID]
		}
		if bal != 0 {
			t.Errorf("truth does not balance at %s: %v", r.Intersections[i], bal)
		}
	}
	g := r.mustGraph(t)
	m, _ := g.Matrices()
	if len(g.Edges) != 15 {
		t.Errorf("%d internal segments, want 15", len(g.Edges))
	}
	for _, v := range m.Views {
		if len(v.ZeroDegree) != 0 || !v.Eq14Holds {
			t.Errorf("%s: zero degree %v, eq14 %v", v.Name, v.ZeroDegree, v.Eq14Holds)
		}
	}
	// The measured set is the truth restricted to 14 segments.
	for id, v := range BerkeleyMeasured() {
		if berkeleyTruth[id] != v {
			t.Errorf("measured %d = %v, truth %v", id, v, berkeleyTruth[id])
		}
	}
}

func TestSolveFlowsUnique(t *testing.T) {
	r := BerkeleyRoads()
	s, err := r.SolveFlows(BerkeleyMeasured())
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != FlowUnique || s.Rank != 8 || s.Unknowns != 8 || len(s.Free) != 0 {
		t.Fatalf("%s (rank %d, unknowns %d, free %v)", s.Message, s.Rank, s.Unknowns, s.Free)
	}
	for k, id := range s.IDs {
		if math.Abs(s.Flows[k]-berkeleyTruth[id]) > 1e-9 || !s.Determined[k] {
			t.Errorf("segment %d: %v, truth %v", id, s.Flows[k], berkeleyTruth[id])
		}
	}
}

func TestSolveFlowsUnderdetermined(t *testing.T) {
	r := BerkeleyRoads()
	meas := BerkeleyMeasured()
	delete(meas, 16) // g->f: the f-g pair now forms a free loop
	delete(meas, 21) // outside->h: h's inflow, a second free direction
	s, err := r.SolveFlows(meas)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != FlowUnderdetermined || s.Unknowns-s.Rank != 2 || len(s.Free) != 2 || len(s.Nullspace) != 2 {
		t.Fatalf("%s: free %v, null %d", s.Message, s.Free, len(s.Nullspace))
	}
	if s.ResidualNorm > 1e-9 {
		t.Errorf("min-norm solution does not balance: %v", s.Residual)
	}
	// Every null-space direction keeps every intersection balanced.
	b, _ := r.Incidence()
	for _, dir := range s.Nullspace {
		for i, row := range b {
			bal := 0.0
			for k, v := range row {
				bal += v * dir[k]
			}
			if math.Abs(bal) > 1e-12 {
				t.Errorf("null direction unbalances %s by %v", r.Intersections[i], bal)
			}
		}
	}
	// Fixing the free segments to their true values recovers the truth uniquely.
	for _, id := range s.Free {
		meas[id] = berkeleyTruth[id]
	}
	s2, _ := r.SolveFlows(meas)
	if s2.Status != FlowUnique {
		t.Fatalf("after fixing free %v: %s", s.Free, s2.Message)
	}
	for k, id := range s2.IDs {
		if math.Abs(s2.Flows[k]-berkeleyTruth[id]) > 1e-9 {
			t.Errorf("segment %d: %v, truth %v", id, s2.Flows[k], berkeleyTruth[id])
		}
	}
	// Determined, independently: unknown k is fixed iff the row e_k lies in
	// the row space of the unknowns' columns, i.e. appending it keeps the rank.
	var unknown []int
	for k := range s.IDs {
		if !s.Measured[k] {
			unknown = append(unknown, k)
		}
	}
	for c, k := range unknown {
		rows := make([][]float64, len(b)+1)
		for i := range b {
			for _, kk := range unknown {
				rows[i] = append(rows[i], b[i][kk])
			}
		}
		rows[len(b)] = make([]float64, len(unknown))
		rows[len(b)][c] = 1
		rk, _, _ := NumericalRank(rows)
		if fixed := rk == s.Rank; fixed != s.Determined[k] {
			t.Errorf("segment %d: Determined %v, rank test says %v", s.IDs[k], s.Determined[k], fixed)
		}
	}
	// c->d (4) and a->e (6) are unmeasured but pinned by d's and e's balance.
	for _, k := range []int{3, 5} {
		if !s.Determined[k] || s.Measured[k] {
			t.Errorf("segment %d should be solved uniquely", s.IDs[k])
		}
	}
}

func TestSolveFlowsInconsistent(t *testing.T) {
	r := BerkeleyRoads()
	all := map[int]float64{}
	for id, v := range berkeleyTruth {
		all[id] = v
	}
	s, err := r.SolveFlows(all)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != FlowUnique || s.Unknowns != 0 || s.ResidualNorm != 0 {
		t.Fatalf("all measured and consistent: %s", s.Message)
	}
	all[11] = 260 // a miscounted e -> f
	s, _ = r.SolveFlows(all)
	if s.Status != FlowInconsistent || math.Abs(s.Residual[4]+10) > 1e-12 || math.Abs(s.Residual[5]-10) > 1e-12 {
		t.Fatalf("%s: residual %v", s.Message, s.Residual)
	}
	// Over-determined with unknowns too: measured around node a disagree.
	meas := BerkeleyMeasured()
	meas[1], meas[2], meas[6] = 300, 250, 90 // a: in 300+50, out 250+90
	s, _ = r.SolveFlows(meas)
	if s.Status != FlowInconsistent || s.ResidualNorm < 1 {
		t.Fatalf("%s", s.Message)
	}
}

func TestRoadNetworkNoSegments(t *testing.T) {
	r := &RoadNetwork{Intersections: []string{"a", "b"}}
	b, err := r.Incidence()
	if err != nil || len(b) != 2 || len(b[0]) != 0 {
		t.Fatalf("incidence %v %v", b, err)
	}
	g, err := r.Graph()
	if err != nil || g.N() != 2 || len(g.Edges) != 0 {
		t.Fatalf("graph %v %v", g, err)
	}
}

func TestRoadNetworkErrors(t *testing.T) {
	r := BerkeleyRoads()
	bad := []func() error{
		func() error { _, err := (&RoadNetwork{}).Graph(); return err },
		func() error { _, err := (*RoadNetwork)(nil).SolveFlows(nil); return err },
		func() error { _, err := (&RoadNetwork{Intersections: []string{"a", "a"}}).Incidence(); return err },
		func() error { _, err := (&RoadNetwork{Intersections: []string{""}}).Incidence(); return err },
		func() error {
			_, err := (&RoadNetwork{Intersections: []string{"a"}, Segments: []Segment{{1, "a", "z"}}}).Incidence()
			return err
		},
		func() error {
			_, err := (&RoadNetwork{Intersections: []string{"a"}, Segments: []Segment{{1, "a", "a"}}}).Incidence()
			return err
		},
		func() error {
			_, err := (&RoadNetwork{Intersections: []string{"a"}, Segments: []Segment{{1, "", ""}}}).Incidence()
			return err
		},
		func() error {
			_, err := (&RoadNetwork{Intersections: []string{"a", "b"}, Segments: []Segment{{1, "a", "b"}, {1, "b", "a"}}}).Incidence()
			return err
		},
		func() error { _, err := (&RoadNetwork{Intersections: []string{"a"}}).SolveFlows(nil); return err },
		func() error { _, err := r.SolveFlows(map[int]float64{99: 1}); return err },
		func() error { _, err := r.SolveFlows(map[int]float64{1: -5}); return err },
		func() error { _, err := r.SolveFlows(map[int]float64{1: math.NaN()}); return err },
	}
	for i, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", i)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
}
