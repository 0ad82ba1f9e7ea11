package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// affineShapes: x shape (N, d1..dk) and M.
var affineShapes = []struct {
	x []int
	m int
}{
	{[]int{1, 1}, 1}, {[]int{2, 3}, 4}, {[]int{4, 5, 6}, 3}, {[]int{10, 3, 4, 5}, 7}, {[]int{65, 64}, 63},
	{[]int{1, 3, 8, 8}, 10}, {[]int{33, 127}, 65}, {[]int{128, 20}, 1}, {[]int{3, 2, 2, 2}, 130}, {[]int{70, 2, 3}, 17},
	{[]int{1, 100}, 10}, {[]int{100, 1}, 1}, {[]int{64, 64}, 64}, {[]int{5, 3, 1, 1}, 2}, {[]int{16, 17}, 15},
	{[]int{2, 15}, 20}, {[]int{9, 7, 5}, 11}, {[]int{127, 65}, 33}, {[]int{40, 1, 3, 3}, 5}, {[]int{3, 1}, 129},
}

// Tolerances: every output is a dot product (plus one bias addition or none)
// of exact f32 inputs, bounded as in refMatmul with K the summed length.
func TestAffineParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(4, 4))
	for _, c := range affineShapes {
		nRows := c.x[0]
		dIn := shapeLen(c.x) / nRows
		m := c.m
		xs, ws, bs, gs := randF32(r, nRows*dIn), randF32(r, dIn*m), randF32(r, m), randF32(r, nRows*m)
		x, w, b, g := upload(t, d, xs, c.x...), upload(t, d, ws, dIn, m), upload(t, d, bs, m), upload(t, d, gs, nRows, m)
		name := fmt.Sprintf("x %v M %d", c.x, m)

		out, err := d.AffineForward(x, w, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, bound := refMatmul(xs, ws, nRows, dIn, m, false, false)
		for i := range want {
			bias := float64(bs[i%m])
			want[i] += bias
			// One more addition: its rounding, and gamma growing by one term.
			bound[i] += u*(math.Abs(want[i])+math.Abs(bias)) + float64(dIn+1)*u*math.Abs(bias)
		}
		if !shapeEq(out.Shape(), []int{nRows, m}) {
			t.Fatalf("%s: out shape %v", name, out.Shape())
		}
		checkBound(t, name+" forward", read(t, out), want, bound)

		dx, dw, db, err := d.AffineBackward(g, x, w)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !shapeEq(dx.Shape(), c.x) || !shapeEq(dw.Shape(), []int{dIn, m}) || !shapeEq(db.Shape(), []int{m}) {
			t.Fatalf("%s: gradient shapes %v %v %v", name, dx.Shape(), dw.Shape(), db.Shape())
		}
		wantDx, bDx := refMatmul(gs, ws, nRows, m, dIn, false, true)
		checkBound(t, name+" dx", read(t, dx), wantDx, bDx)
		wantDw, bDw := refMatmul(xs, gs, dIn, nRows, m, true, false)
		checkBound(t, name+" dw", read(t, dw), wantDw, bDw)
		// db is a column sum: a dot product with a vector of ones.
		ones := make([]float32, nRows)
		for i := range ones {
			ones[i] = 1
		}
		wantDb, bDb := refMatmul(ones, gs, 1, nRows, m, false, false)
		checkBound(t, name+" db", read(t, db), wantDb, bDb)
		release(x, w, b, g, out, dx, dw, db)
	}
}
