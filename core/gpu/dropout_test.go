package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gradlab/core/rng"
)

type dropoutCase struct {
	shape []int
	p     float64
	seed  uint64
	step  uint32
	layer uint32
}

// Seeds with high bits set exercise the second key word; shapes past 2^16
// elements exercise the high bits of the Philox counter.
var dropoutCases = []dropoutCase{
	{[]int{1}, 0.5, 0, 0, 0},
	{[]int{7}, 0.3, 1, 2, 3},
	{[]int{500, 37}, 0.3, 42, 0, 1},
	{[]int{500, 37}, 0.6, 42, 1, 1},
	{[]int{500, 37}, 0.75, 42, 1, 2},
	{[]int{300, 400}, 0.5, 0xDEADBEEF12345678, 77, 5},
	{[]int{2, 3, 5, 7}, 0.1, 1 << 40, 1 << 31, 0xFFFFFFFF},
	{[]int{13, 17}, 0, 9, 9, 9},
	{[]int{64, 65}, 0.9, math.MaxUint64, 0xFFFFFFFF, 0},
	{[]int{10, 10}, 0.8, 2026, 3, 4},
}

// allDropoutCases adds every element-wise test shape with its own
// (p, seed, step, layer), for 30 cases in all.
func allDropoutCases() []dropoutCase {
	out := append([]dropoutCase(nil), dropoutCases...)
	for i, s := range elementShapes[:20] {
		out = append(out, dropoutCase{s, []float64{0.1, 0.5, 0.25, 0.9, 0.01}[i%5], uint64(i) * 0x9E3779B97F4A7C15, uint32(3 * i), uint32(i % 7)})
	}
	return out
}

// The mask must equal core/rng's exactly (that is the point of a counter-
// based generator), and kept units must be x * f32(1/(1-p)) exactly: the
// kernel does one f32 multiply, which Go's float32 multiply reproduces. The
// float64 course formula x / (1 - p) then differs only by the rounding of
// the scale and of the product, at most 2 u relative.
func TestDropoutMatchesRngExactly(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(5, 5))
	for _, c := range allDropoutCases() {
		name := fmt.Sprintf("%v p=%v seed=%#x step=%d layer=%d", c.shape, c.p, c.seed, c.step, c.layer)
		n := shapeLen(c.shape)
		xs, gs := randF32(r, n), randF32(r, n)
		x, g := upload(t, d, xs, c.shape...), upload(t, d, gs, c.shape...)
		out, mask, err := d.Dropout(x, c.p, c.seed, c.step, c.layer)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dx, err := d.DropoutBackward(g, mask)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !shapeEq(out.Shape(), c.shape) || !shapeEq(mask.Shape(), c.shape) || !shapeEq(dx.Shape(), c.shape) {
			t.Fatalf("%s: shapes %v %v %v", name, out.Shape(), mask.Shape(), dx.Shape())
		}
		ov, mv, dv := read(t, out), read(t, mask), read(t, dx)
		th := rng.KeepThreshold(c.p)
		scale := float32(1 / (1 - c.p))
		kept := 0
		for i := 0; i < n; i++ {
			keep := rng.Keep(c.seed, c.step, c.layer, uint32(i), th)
			if (mv[i] != 0) != keep {
				t.Fatalf("%s: element %d mask %v, rng.Keep says %t", name, i, mv[i], keep)
			}
			want, wantG := float32(0), float32(0)
			if keep {
				kept++
				want, wantG = xs[i]*scale, gs[i]*scale
			}
			if ov[i] != want || dv[i] != wantG {
				t.Fatalf("%s: element %d out %v dx %v, want %v %v", name, i, ov[i], dv[i], want, wantG)
			}
			if keep {
				course := float64(xs[i]) / (1 - c.p)
				if math.Abs(float64(ov[i])-course) > 2*u*math.Abs(course) {
					t.Fatalf("%s: element %d out %v, course value %v", name, i, ov[i], course)
				}
			}
		}
		if c.p == 0 && kept != n {
			t.Fatalf("%s: p = 0 dropped %d units", name, n-kept)
		}
		release(x, g, out, mask, dx)
	}
}

// Changing any of seed, step or layer must change the mask: otherwise two
// layers or two iterations would drop the same units.
func TestDropoutMaskDependsOnSeedStepLayer(t *testing.T) {
	d := device(t)
	x := upload(t, d, make([]float32, 1024), 1024)
	defer x.Release()
	maskOf := func(seed uint64, step, layer uint32) []float32 {
		out, mask, err := d.Dropout(x, 0.5, seed, step, layer)
		if err != nil {
			t.Fatal(err)
		}
		defer release(out, mask)
		return read(t, mask)
	}
	base := maskOf(1, 1, 1)
	for _, other := range [][]float32{maskOf(2, 1, 1), maskOf(1, 2, 1), maskOf(1, 1, 2), maskOf(1|1<<32, 1, 1)} {
		same := 0
		for i := range base {
			if (base[i] != 0) == (other[i] != 0) {
				same++
			}
		}
		// Independent p=0.5 masks agree on about half the units.
		if same > 700 {
			t.Fatalf("masks agree on %d of 1024 units", same)
		}
	}
}

// A training step passes a new step number every call. Many calls recorded
// before one read-back must each keep their own step (each has its own
// pooled step buffer), and the uniform cache must not grow with the step:
// its block holds only what is fixed per layer.
func TestDropoutStepsInOneRecordingAndNoUniformGrowth(t *testing.T) {
	d := device(t)
	const n, p, seed, layer = 777, 0.4, 11, 3
	x := upload(t, d, make([]float32, n), n)
	defer x.Release()
	run := func(from uint32) {
		var masks []*Tensor
		for s := from; s < from+12; s++ {
			out, mask, err := d.Dropout(x, p, seed, s, layer)
			if err != nil {
				t.Fatal(err)
			}
			out.Release()
			masks = append(masks, mask)
		}
		th := rng.KeepThreshold(p)
		for i, m := range masks {
			got := read(t, m)
			m.Release()
			for j, v := range got {
				if want := rng.Keep(seed, from+uint32(i), layer, uint32(j), th); (v != 0) != want {
					t.Fatalf("step %d, unit %d: mask %v, rng keeps %v", from+uint32(i), j, v, want)
				}
			}
		}
	}
	run(0)
	d.mu.Lock()
	before := len(d.uniforms.bufs)
	d.mu.Unlock()
	run(1000)
	d.mu.Lock()
	after := len(d.uniforms.bufs)
	d.mu.Unlock()
	if after != before {
		t.Fatalf("uniform cache grew from %d to %d entries over 12 new steps", before, after)
	}
}

// Spatial dropout: one draw per (n, c) at index n*C + c, shared by H x W.
func TestSpatialDropoutMatchesRngExactly(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(6, 6))
	for _, c := range []dropoutCase{
		{[]int{1, 1, 1, 1}, 0.5, 3, 0, 0},
		{[]int{2, 3, 4, 5}, 0.5, 7, 1, 2},
		{[]int{8, 16, 3, 3}, 0.25, 0xABCDEF0123456789, 5, 1},
		{[]int{4, 33, 7, 1}, 0.7, 11, 2, 6},
		{[]int{3, 5, 1, 9}, 0, 1, 1, 1},
	} {
		name := fmt.Sprintf("%v p=%v", c.shape, c.p)
		nb, ch, hw := c.shape[0], c.shape[1], c.shape[2]*c.shape[3]
		n := shapeLen(c.shape)
		xs, gs := randF32(r, n), randF32(r, n)
		x, g := upload(t, d, xs, c.shape...), upload(t, d, gs, c.shape...)
		out, mask, err := d.SpatialDropout(x, c.p, c.seed, c.step, c.layer)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !shapeEq(mask.Shape(), []int{nb, ch, 1, 1}) {
			t.Fatalf("%s: mask shape %v", name, mask.Shape())
		}
		dx, err := d.SpatialDropoutBackward(g, mask)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ov, mv, dv := read(t, out), read(t, mask), read(t, dx)
		th := rng.KeepThreshold(c.p)
		scale := float32(1 / (1 - c.p))
		for i := 0; i < n; i++ {
			mi := i / hw
			keep := rng.Keep(c.seed, c.step, c.layer, uint32(mi), th)
			if (mv[mi] != 0) != keep {
				t.Fatalf("%s: channel %d mask %v, rng.Keep says %t", name, mi, mv[mi], keep)
			}
			want, wantG := float32(0), float32(0)
			if keep {
				want, wantG = xs[i]*scale, gs[i]*scale
			}
			if ov[i] != want || dv[i] != wantG {
				t.Fatalf("%s: element %d out %v dx %v, want %v %v", name, i, ov[i], dv[i], want, wantG)
			}
		}
		release(x, g, out, mask, dx)
	}
}
