package hw

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Problem 7 (e)-(g) and the traffic question: a directed road network whose
// segment flows must conserve vehicles at every intersection.

// Outside marks a segment end that leaves the modelled area.
const Outside = ""

// Segment is a one-way road segment. From or To may be Outside: traffic
// entering or leaving the network, which is what lets the flows be non-zero
// while every intersection balances.
type Segment struct {
	ID       int
	From, To string
}

// RoadNetwork is intersections joined by numbered one-way segments.
type RoadNetwork struct {
	Intersections []string
	Segments      []Segment
}

// BerkeleyRoads stands in for the homework's Figure 6, which is not in the
// text: intersections a-h on a 2 x 4 grid (a b c d over e f g h) and
// segments 1-22, two-way streets as two segments, four entries from outside
// (1, 15, 17, 21) and three exits (5, 14, 18). Every intersection has
// traffic in and out, so no degree is zero.
func BerkeleyRoads() *RoadNetwork {
	return &RoadNetwork{
		Intersections: []string{"a", "b", "c", "d", "e", "f", "g", "h"},
		Segments: []Segment{
			{1, Outside, "a"}, {2, "a", "b"}, {3, "b", "c"}, {4, "c", "d"}, {5, "d", Outside},
			{6, "a", "e"}, {7, "b", "f"}, {8, "f", "b"}, {9, "c", "g"}, {10, "h", "d"},
			{11, "e", "f"}, {12, "f", "g"}, {13, "g", "h"}, {14, "h", Outside}, {15, Outside, "e"},
			{16, "g", "f"}, {17, Outside, "c"}, {18, "f", Outside}, {19, "e", "a"}, {20, "d", "c"},
			{21, Outside, "h"}, {22, "g", "c"},
		},
	}
}

// BerkeleyMeasured is a consistent set of 14 measured flows (vehicles per
// hour) for BerkeleyRoads: the other 8 segments (1, 2, 3, 4, 6, 7, 9, 13)
// form a spanning tree of the network plus the outside, so conservation
// determines them uniquely.
func BerkeleyMeasured() map[int]float64 {
	return map[int]float64{
		5: 330, 8: 80, 10: 90, 11: 250, 12: 210, 14: 240, 15: 200,
		16: 60, 17: 120, 18: 150, 19: 50, 20: 40, 21: 100, 22: 70,
	}
}

const maxSegments = 5000

// Validate checks labels are unique and non-empty, segment IDs unique and
// positive, and each segment joins known intersections (or Outside) and is
// not a loop or outside-to-outside.
func (r *RoadNetwork) Validate() error {
	const op = "hw.RoadNetwork"
	if r == nil || len(r.Intersections) == 0 {
		return errf(op, "network has no intersections")
	}
	if len(r.Intersections) > maxGraphNodes || len(r.Segments) > maxSegments {
		return errf(op, "%d intersections and %d segments exceed the limits %d and %d", len(r.Intersections), len(r.Segments), maxGraphNodes, maxSegments)
	}
	for i, l := range r.Intersections {
		if l == Outside {
			return errf(op, "intersection %d has an empty label", i)
		}
		if slices.Index(r.Intersections, l) != i {
			return errf(op, "intersection %q appears twice", l)
		}
	}
	ids := map[int]bool{}
	for _, s := range r.Segments {
		if s.ID <= 0 || ids[s.ID] {
			return errf(op, "segment ID %d must be positive and unique", s.ID)
		}
		ids[s.ID] = true
		for _, end := range []string{s.From, s.To} {
			if end != Outside && !slices.Contains(r.Intersections, end) {
				return errf(op, "segment %d uses unknown intersection %q", s.ID, end)
			}
		}
		if s.From == Outside && s.To == Outside {
			return errf(op, "segment %d has both ends outside the network", s.ID)
		}
		if s.From == s.To {
			return errf(op, "segment %d starts and ends at %q", s.ID, s.From)
		}
	}
	return nil
}

// Graph is the directed graph of intersections for parts (e)-(g): one edge
// per internal segment. Segments to or from Outside have no node to attach
// to and are left out; parallel segments in the same direction become one
// edge whose weight is their number.
func (r *RoadNetwork) Graph() (*Graph, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	g, err := NewGraph(true, r.Intersections...)
	if err != nil {
		return nil, err
	}
	for _, s := range r.Segments {
		if s.From == Outside || s.To == Outside {
			continue
		}
		i, _ := g.Index(s.From)
		j, _ := g.Index(s.To)
		if k := g.edgeIndex(i, j); k >= 0 {
			g.Edges[k].Weight++
			continue
		}
		if err := g.AddEdge(i, j, 1); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Incidence is the conservation matrix B, intersections x segments:
// +1 where a segment enters the intersection, -1 where it leaves. Vehicles
// are conserved exactly when B f = 0.
func (r *RoadNetwork) Incidence() ([][]float64, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r.incidenceRows(), nil
}

func (r *RoadNetwork) incidenceRows() [][]float64 {
	b := make([][]float64, len(r.Intersections))
	for i := range b {
		b[i] = make([]float64, len(r.Segments))
	}
	for k, s := range r.Segments {
		if i := slices.Index(r.Intersections, s.To); i >= 0 {
			b[i][k] = 1
		}
		if i := slices.Index(r.Intersections, s.From); i >= 0 {
			b[i][k] = -1
		}
	}
	return b
}

// incidence is incidenceRows as a matrix; it needs at least one segment.
func (r *RoadNetwork) incidence() *mat.Dense {
	rows := r.incidenceRows()
	b := mat.NewDense(len(rows), len(r.Segments), nil)
	for i, row := range rows {
		b.SetRow(i, row)
	}
	return b
}

// FlowStatus classifies a flow-estimation problem.
type FlowStatus int

const (
	// FlowUnique: the measurements and conservation fix every flow.
	FlowUnique FlowStatus = iota
	// FlowUnderdetermined: some flows can be chosen freely (Free lists one
	// such choice) and the rest follow.
	FlowUnderdetermined
	// FlowInconsistent: no flows satisfy conservation with these
	// measurements; Flows is the least-squares compromise and Residual the
	// imbalance left at each intersection.
	FlowInconsistent
)

func (s FlowStatus) String() string {
	return [...]string{"unique", "under-determined", "inconsistent"}[s]
}

// FlowSolution is the result of SolveFlows. Slices indexed by segment
// follow RoadNetwork.Segments' order.
type FlowSolution struct {
	Status  FlowStatus
	Message string
	IDs     []int
	// Flows: measured values where measured; otherwise the solved value
	// (the minimum-norm one when under-determined, least squares when
	// inconsistent).
	Flows    []float64
	Measured []bool
	// Determined[k]: the flow is fixed by the data (measured, or the same
	// in every solution even if others are free).
	Determined []bool
	// Free lists segment IDs one may set freely; setting them fixes the rest.
	Free []int
	// Nullspace holds, per free direction, a change of the unknown flows
	// (indexed by segment) that keeps every intersection balanced.
	Nullspace [][]float64
	// Residual is B f per intersection: inflow minus outflow.
	Residual     []float64
	ResidualNorm float64
	// Equations (intersections), Unknowns (unmeasured segments), Rank of
	// the unknowns' columns. Redundant = Equations - Rank equations add no
	// information (they hold automatically when consistent).
	Equations, Unknowns, Rank, Redundant int
	// Negative lists segment IDs whose solved flow is below zero: allowed
	// by the algebra, impossible for one-way traffic, worth a warning.
	Negative []int
}

// SolveFlows estimates unmeasured flows from conservation at every
// intersection. measured maps segment ID to a vehicle count (>= 0).
func (r *RoadNetwork) SolveFlows(measured map[int]float64) (*FlowSolution, error) {
	const op = "hw.RoadNetwork.SolveFlows"
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if len(r.Segments) == 0 {
		return nil, errf(op, "network has no segments")
	}
	m, nseg := len(r.Intersections), len(r.Segments)
	sol := &FlowSolution{Equations: m, Flows: make([]float64, nseg), Measured: make([]bool, nseg), Determined: make([]bool, nseg)}
	pos := map[int]int{}
	for k, s := range r.Segments {
		pos[s.ID] = k
		sol.IDs = append(sol.IDs, s.ID)
	}
	for id, v := range measured {
		k, ok := pos[id]
		if !ok {
			return nil, errf(op, "measured segment %d is not in the network", id)
		}
		if !finite(v) || v < 0 || v > maxAbsInput {
			return nil, errf(op, "measured flow on segment %d is %v; flows are vehicle counts >= 0", id, v)
		}
		sol.Flows[k], sol.Measured[k], sol.Determined[k] = v, true, true
	}
	b := r.incidence()
	var unknown []int
	rhs := mat.NewVecDense(m, nil)
	for k := 0; k < nseg; k++ {
		if !sol.Measured[k] {
			unknown = append(unknown, k)
			continue
		}
		for i := 0; i < m; i++ {
			rhs.SetVec(i, rhs.AtVec(i)-b.At(i, k)*sol.Flows[k])
		}
	}
	sol.Unknowns = len(unknown)
	scale := mat.Norm(rhs, 2)
	if len(unknown) > 0 {
		bu := mat.NewDense(m, len(unknown), nil)
		for c, k := range unknown {
			for i := 0; i < m; i++ {
				bu.Set(i, c, b.At(i, k))
			}
		}
		var err error
		if sol.Rank, _, err = rankOf(op, bu); err != nil {
			return nil, err
		}
		fu, err := pinvSolve(op, bu, rhs)
		if err != nil {
			return nil, err
		}
		for c, k := range unknown {
			sol.Flows[k] = fu.AtVec(c)
		}
		scale = max(scale, mat.Norm(fu, 2))
		if err := freeAndNullspace(op, sol, bu, unknown); err != nil {
			return nil, err
		}
	}
	var res mat.VecDense
	res.MulVec(b, mat.NewVecDense(nseg, sol.Flows))
	sol.Residual = sliceOf(&res)
	sol.ResidualNorm = mat.Norm(&res, 2)
	sol.Redundant = m - sol.Rank
	for k, f := range sol.Flows {
		if f < 0 && !sol.Measured[k] && sol.Determined[k] {
			sol.Negative = append(sol.Negative, sol.IDs[k])
		}
	}
	// Every entry of B is 0 or +-1 with at most two per column, so rounding
	// in B f is a few ulps of the flows' size.
	consistent := sol.ResidualNorm <= 64*eps*float64(nseg)*max(scale, 1)
	switch {
	case !consistent:
		sol.Status = FlowInconsistent
		sol.Message = fmt.Sprintf("inconsistent: the measurements violate conservation; the least-squares flows leave an imbalance of %.4g vehicles (norm) at %s", sol.ResidualNorm, r.imbalanced(sol.Residual, scale))
	case sol.Rank < sol.Unknowns:
		sol.Status = FlowUnderdetermined
		sol.Message = fmt.Sprintf("under-determined: %d of %d unknown flows are free (for example segments %s); measure one of them per free direction", sol.Unknowns-sol.Rank, sol.Unknowns, joinInts(sol.Free))
	default:
		sol.Status = FlowUnique
		sol.Message = fmt.Sprintf("unique: %d equations of rank %d fix all %d unknown flows", m, sol.Rank, sol.Unknowns)
		if sol.Redundant > 0 {
			sol.Message += fmt.Sprintf("; %d equation(s) are redundant and hold", sol.Redundant)
		}
	}
	return sol, nil
}

// freeAndNullspace picks free unknowns greedily (a column is pivotal when
// it raises the rank of the columns before it) and computes the null space
// of the unknowns' columns from the SVD.
func freeAndNullspace(op string, sol *FlowSolution, bu *mat.Dense, unknown []int) error {
	m, k := bu.Dims()
	rank := 0
	for c := range unknown {
		r, _, err := rankOf(op, bu.Slice(0, m, 0, c+1))
		if err != nil {
			return err
		}
		if r > rank {
			rank = r
		} else {
			sol.Free = append(sol.Free, sol.IDs[unknown[c]])
		}
	}
	for _, kk := range unknown {
		sol.Determined[kk] = true
	}
	if sol.Rank == k {
		return nil
	}
	var svd mat.SVD
	if !svd.Factorize(bu, mat.SVDFullV) {
		return errf(op, "SVD did not converge")
	}
	var v mat.Dense
	svd.VTo(&v)
	for c := sol.Rank; c < k; c++ {
		dir := make([]float64, len(sol.Flows))
		for i, kk := range unknown {
			dir[kk] = v.At(i, c)
			if math.Abs(dir[kk]) > 1e-9 {
				sol.Determined[kk] = false
			}
		}
		sol.Nullspace = append(sol.Nullspace, dir)
	}
	return nil
}

func (r *RoadNetwork) imbalanced(res []float64, scale float64) string {
	var names []string
	for i, v := range res {
		if math.Abs(v) > 1e-9*max(scale, 1) {
			names = append(names, fmt.Sprintf("%s (%+.4g)", r.Intersections[i], v))
		}
	}
	return strings.Join(names, ", ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
