package gpu

import (
	"math/rand/v2"
	"testing"
)

// elementShapes are varied sizes for element-wise ops: single elements,
// odd sizes, sizes around the 256-wide workgroup, and 4-d NCHW tensors.
var elementShapes = [][]int{
	{1}, {1, 1}, {2}, {7}, {255}, {256}, {257}, {3, 5}, {13, 17}, {127, 65, 33},
	{1, 3, 5, 5}, {2, 3, 7, 9}, {4, 16, 8, 8}, {1000}, {511, 3}, {2, 1, 1, 1},
	{64, 64}, {31, 33}, {5, 1, 29, 31}, {1, 1, 1, 4097}, {3, 3, 3, 3, 3},
}

// ReLU forward and backward are exact in f32 (a max and a select), so the
// GPU must equal the float64 definition evaluated on the same f32 inputs
// bit for bit.
func TestReluParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(2, 2))
	for _, shape := range elementShapes {
		n := shapeLen(shape)
		xs, gs := randF32(r, n), randF32(r, n)
		xs[0] = 0 // the kink: forward 0, backward 0 (x > 0 is false)
		x, g := upload(t, d, xs, shape...), upload(t, d, gs, shape...)
		y, err := d.Relu(x)
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		dx, err := d.ReluBackward(g, x)
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if !shapeEq(y.Shape(), shape) || !shapeEq(dx.Shape(), shape) {
			t.Fatalf("%v: output shapes %v %v", shape, y.Shape(), dx.Shape())
		}
		yv, dxv := read(t, y), read(t, dx)
		for i := range xs {
			want, wantG := float64(xs[i]), float64(gs[i])
			if want <= 0 {
				want, wantG = 0, 0
			}
			if float64(yv[i]) != want || float64(dxv[i]) != wantG {
				t.Fatalf("%v element %d: x %v dout %v -> relu %v (want %v), dx %v (want %v)", shape, i, xs[i], gs[i], yv[i], want, dxv[i], wantG)
			}
		}
		release(x, g, y, dx)
	}
}

// More than 65535 workgroups in one dimension: the dispatch must fold into a
// 2-D grid and every element must still be visited exactly once.
func TestElementwise2DDispatch(t *testing.T) {
	d := device(t)
	n := 65535*elementWG + 1000 // 65539 workgroups of 256
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i%1000) - 500
	}
	x := upload(t, d, xs, n)
	y, err := d.Relu(x)
	if err != nil {
		t.Fatal(err)
	}
	got := read(t, y)
	for i, v := range got {
		if want := max(xs[i], 0); v != want {
			t.Fatalf("element %d of %d: %v, want %v", i, n, v, want)
		}
	}
	release(x, y)

	// The same fold on small tensors, with the per-dimension cap lowered to
	// 3 workgroups: grids of (3, 1) up to (3, 3), plus every kernel family
	// that uses the fold.
	small, err := Open(Options{MaxWorkgroupsPerDim: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	for _, n := range []int{1, 255, 256, 3 * 256, 3*256 + 1, 7*256 + 5, 9 * 256} {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(i) - float32(n)/2
		}
		x := upload(t, small, xs, n)
		y, err := small.Relu(x)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		f, err := small.Full(3, n)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		yv, fv := read(t, y), read(t, f)
		for i := range xs {
			if yv[i] != max(xs[i], 0) || fv[i] != 3 {
				t.Fatalf("n=%d element %d: relu %v fill %v", n, i, yv[i], fv[i])
			}
		}
		release(x, y, f)
	}
	if _, err := small.Empty(10*256 + 1); err != nil {
		t.Fatal(err)
	}
	big := upload(t, small, make([]float32, 10*256), 10*256)
	if _, err := small.Relu(big); err == nil {
		t.Fatal("10 workgroups on a 3x3 grid cap: no error")
	}
}
