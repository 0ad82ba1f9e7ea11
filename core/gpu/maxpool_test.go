package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

type maxPoolCase struct {
	shape []int
	p     nn.PoolParam
}

// maxPoolCases: the course's shapes, batch 1, odd and non-square inputs
// where the floor drops rows/columns, channels not a multiple of 4,
// non-square windows, overlapping windows (stride < window), gaps
// (stride > window), window = whole input, and the reference CNN's 2x2.
var maxPoolCases = []maxPoolCase{
	{[]int{2, 3, 4, 4}, nn.PoolParam{Height: 2, Width: 2, Stride: 2}},
	{[]int{3, 5, 8, 7}, nn.PoolParam{Height: 2, Width: 3, Stride: 2}},
	{[]int{1, 1, 1, 1}, nn.PoolParam{Height: 1, Width: 1, Stride: 1}},
	{[]int{1, 1, 5, 5}, nn.PoolParam{Height: 3, Width: 3, Stride: 2}},
	{[]int{2, 3, 7, 9}, nn.PoolParam{Height: 3, Width: 3, Stride: 2}},
	{[]int{1, 2, 6, 6}, nn.PoolParam{Height: 6, Width: 6, Stride: 1}},
	{[]int{2, 3, 5, 7}, nn.PoolParam{Height: 5, Width: 7, Stride: 3}},
	{[]int{1, 4, 9, 9}, nn.PoolParam{Height: 3, Width: 3, Stride: 1}},
	{[]int{2, 7, 11, 13}, nn.PoolParam{Height: 2, Width: 2, Stride: 2}},
	{[]int{1, 3, 10, 10}, nn.PoolParam{Height: 4, Width: 4, Stride: 3}},
	{[]int{4, 3, 32, 32}, nn.PoolParam{Height: 2, Width: 2, Stride: 2}},
	{[]int{2, 32, 16, 16}, nn.PoolParam{Height: 2, Width: 2, Stride: 2}},
	{[]int{1, 1, 3, 8}, nn.PoolParam{Height: 1, Width: 3, Stride: 1}},
	{[]int{1, 2, 8, 3}, nn.PoolParam{Height: 3, Width: 1, Stride: 2}},
	{[]int{3, 6, 12, 12}, nn.PoolParam{Height: 5, Width: 5, Stride: 1}},
	{[]int{2, 2, 9, 9}, nn.PoolParam{Height: 2, Width: 2, Stride: 3}},
	{[]int{1, 130, 4, 4}, nn.PoolParam{Height: 2, Width: 2, Stride: 2}},
	{[]int{5, 1, 7, 7}, nn.PoolParam{Height: 7, Width: 1, Stride: 4}},
	{[]int{1, 3, 13, 13}, nn.PoolParam{Height: 3, Width: 3, Stride: 2}},
	{[]int{2, 5, 6, 10}, nn.PoolParam{Height: 2, Width: 5, Stride: 5}},
	{[]int{1, 1, 17, 17}, nn.PoolParam{Height: 4, Width: 4, Stride: 4}},
	{[]int{2, 9, 15, 1}, nn.PoolParam{Height: 2, Width: 1, Stride: 1}},
}

// mpCover returns, for each input element, the sum of |dout| over the
// outputs whose window covers it and how many there are.
func mpCover(xs, os []int, p nn.PoolParam, dout []float32) (sum []float64, count []int) {
	h, w, ho, wo := xs[2], xs[3], os[2], os[3]
	sum = make([]float64, shapeLen(xs))
	count = make([]int, len(sum))
	for plane := 0; plane < xs[0]*xs[1]; plane++ {
		for oh := 0; oh < ho; oh++ {
			for ow := 0; ow < wo; ow++ {
				g := math.Abs(float64(dout[(plane*ho+oh)*wo+ow]))
				for r := 0; r < p.Height; r++ {
					for q := 0; q < p.Width; q++ {
						i := (plane*h+oh*p.Stride+r)*w + ow*p.Stride + q
						sum[i] += g
						count[i]++
					}
				}
			}
		}
	}
	return sum, count
}

// Forward is a selection, so out must equal core/nn's exactly. The argmax
// must point at an element holding the maximum. Backward adds, for each
// input element, the dout of the k windows it wins, k at most the number
// of windows covering it (K): in f32, starting from 0, that is k-1
// roundings, within gamma_{K-1} * sum |dout| of the exact sum (Higham eq.
// 3.5). Without overlap K = 1 and the bound is 0: dx must be exact. A
// wrong argmax moves a whole |dout| (~1), far above the bound.
//
// Every case runs the generic kernel (window and stride from the uniform);
// the specialised kernels (window and stride compiled in, what
// MaxPoolForward uses) run on the cases of six pool shapes covering each
// kind of window, since every pool shape compiles two more pipelines
// (~0.1 s each on lavapipe).
func TestMaxPoolParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(11, 11))
	specialised := map[nn.PoolParam]bool{
		{Height: 2, Width: 2, Stride: 2}: true, {Height: 2, Width: 3, Stride: 2}: true, {Height: 3, Width: 3, Stride: 2}: true,
		{Height: 6, Width: 6, Stride: 1}: true, {Height: 3, Width: 3, Stride: 1}: true, {Height: 2, Width: 2, Stride: 3}: true,
	}
	for _, c := range maxPoolCases {
		for _, spec := range []bool{false, true} {
			if spec && !specialised[c.p] {
				continue
			}
			name := fmt.Sprintf("x %v pool %dx%d s%d specialised=%t", c.shape, c.p.Height, c.p.Width, c.p.Stride, spec)
			xs := randF32(r, shapeLen(c.shape))
			checkMaxPool(t, d, r, name, c, xs, spec)
		}
	}
}

// Ties: integer inputs in {0, 1, 2} tie in almost every window; the first
// maximum in row-major window order must win on both sides, so out and dx
// still match core/nn exactly (each dx gets whole dout values, and without
// overlap no sums).
func TestMaxPoolTiesFirstMaxWins(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(12, 12))
	for _, c := range []maxPoolCase{maxPoolCases[0], maxPoolCases[1], maxPoolCases[5], maxPoolCases[8], maxPoolCases[15]} {
		xs := make([]float32, shapeLen(c.shape))
		for i := range xs {
			xs[i] = float32(r.IntN(3))
		}
		for _, spec := range []bool{false, true} {
			checkMaxPool(t, d, r, fmt.Sprintf("ties x %v pool %dx%d s%d specialised=%t", c.shape, c.p.Height, c.p.Width, c.p.Stride, spec), c, xs, spec)
		}
	}
}

func checkMaxPool(t *testing.T, d *Device, r *rand.Rand, name string, c maxPoolCase, xs []float32, specialised bool) {
	t.Helper()
	want, cache, err := nn.MaxPoolForward(bnpoolF64(t, xs, c.shape...), c.p)
	if err != nil {
		t.Fatalf("%s: nn: %v", name, err)
	}
	gs := randF32(r, len(want.Data))
	wantDx, err := nn.MaxPoolBackward(bnpoolF64(t, gs, want.Shape...), cache)
	if err != nil {
		t.Fatalf("%s: nn backward: %v", name, err)
	}
	x := upload(t, d, xs, c.shape...)
	g := upload(t, d, gs, want.Shape...)
	out, mc, err := d.maxPoolForward(x, c.p, specialised)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	dx, err := d.MaxPoolBackward(g, mc)
	if err != nil {
		t.Fatalf("%s: backward: %v", name, err)
	}
	if !shapeEq(out.Shape(), want.Shape) || !shapeEq(mc.Argmax.Shape(), want.Shape) || !shapeEq(dx.Shape(), c.shape) {
		t.Fatalf("%s: shapes out %v argmax %v dx %v, want %v and %v", name, out.Shape(), mc.Argmax.Shape(), dx.Shape(), want.Shape, c.shape)
	}
	ov, av, dv := read(t, out), read(t, mc.Argmax), read(t, dx)
	ho, wo := want.Shape[2], want.Shape[3]
	h, w := c.shape[2], c.shape[3]
	for o, v := range ov {
		if float64(v) != want.Data[o] {
			t.Fatalf("%s: out[%d] = %v, want %v exactly", name, o, v, want.Data[o])
		}
		a := av[o]
		if a != float32(int(a)) || a < 0 || int(a) >= c.p.Height*c.p.Width {
			t.Fatalf("%s: argmax[%d] = %v is not a window offset", name, o, a)
		}
		plane, oh, ow := o/(ho*wo), o/wo%ho, o%wo
		i := (plane*h+oh*c.p.Stride+int(a)/c.p.Width)*w + ow*c.p.Stride + int(a)%c.p.Width
		if xs[i] != v {
			t.Fatalf("%s: argmax[%d] = %v points at %v, not the maximum %v", name, o, a, xs[i], v)
		}
	}
	sum, count := mpCover(c.shape, want.Shape, c.p, gs)
	bound := make([]float64, len(sum))
	for i := range bound {
		if k := count[i] - 1; k > 0 {
			bound[i] = bnpoolGamma(k) * sum[i]
		}
	}
	checkBound(t, name+" dx", dv, wantDx.Data, bound)
	release(x, g, out, dx)
	mc.Release()
}

// bnpoolF64 is the float64 tensor holding exactly the f32 values the GPU gets.
func bnpoolF64(t testing.TB, v []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromFloat32(v, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// bnpoolGamma is Higham's gamma_n = n u / (1 - n u).
func bnpoolGamma(n int) float64 { return float64(n) * u / (1 - float64(n)*u) }

func TestMaxPoolBadInput(t *testing.T) {
	d := device(t)
	x := upload(t, d, make([]float32, 2*3*4*5), 2, 3, 4, 5)
	x3 := upload(t, d, make([]float32, 12), 3, 4)
	defer release(x, x3)
	ok := nn.PoolParam{Height: 2, Width: 2, Stride: 2}
	for _, c := range []struct {
		name string
		x    *Tensor
		p    nn.PoolParam
		want string
	}{
		{"2-d x", x3, ok, "4-d"},
		{"stride 0", x, nn.PoolParam{Height: 2, Width: 2, Stride: 0}, "stride"},
		{"window 0", x, nn.PoolParam{Height: 0, Width: 2, Stride: 1}, "at least 1x1"},
		{"window taller than input", x, nn.PoolParam{Height: 5, Width: 2, Stride: 1}, "larger than"},
		{"window wider than input", x, nn.PoolParam{Height: 2, Width: 6, Stride: 1}, "larger than"},
		{"nil x", nil, ok, "nil"},
	} {
		_, _, err := d.MaxPoolForward(c.x, c.p)
		if err == nil || !strings.Contains(err.Error(), "gpu.MaxPoolForward") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a gpu.MaxPoolForward error mentioning %q", c.name, err, c.want)
		}
	}

	out, cache, err := d.MaxPoolForward(x, ok)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	bad := upload(t, d, make([]float32, 2*3*2*3), 2, 3, 2, 3)
	defer bad.Release()
	for _, c := range []struct {
		name  string
		dout  *Tensor
		cache *MaxPoolCache
		want  string
	}{
		{"dout shape", bad, cache, "(2, 3, 2, 3), (2, 3, 2, 2)"},
		{"nil cache", out, nil, "cache is nil"},
		{"empty cache", out, &MaxPoolCache{}, "cache is nil"},
	} {
		_, err := d.MaxPoolBackward(c.dout, c.cache)
		if err == nil || !strings.Contains(err.Error(), "gpu.MaxPoolBackward") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want a gpu.MaxPoolBackward error mentioning %q", c.name, err, c.want)
		}
	}
	cache.Release()
	if _, err := d.MaxPoolBackward(out, cache); err == nil || !strings.Contains(err.Error(), "released") {
		t.Errorf("released cache: err = %v, want it to say the cache was released", err)
	}
}

// Both kernels fold a 2-D grid into an element index: on a device capped at
// 5 workgroups per dimension, 1536 inputs (backward) and 1440 outputs
// (forward, 1x2 window) need 6 workgroups of 256, a (5, 2) grid.
func TestMaxPoolGrid2D(t *testing.T) {
	device(t)
	d, err := Open(Options{MaxWorkgroupsPerDim: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(13, 13))
	for _, c := range []maxPoolCase{
		{[]int{2, 3, 16, 16}, nn.PoolParam{Height: 2, Width: 2, Stride: 2}},
		{[]int{2, 3, 16, 16}, nn.PoolParam{Height: 1, Width: 2, Stride: 1}},
	} {
		checkMaxPool(t, d, r, fmt.Sprintf("capped grid x %v pool %dx%d s%d", c.shape, c.p.Height, c.p.Width, c.p.Stride), c, randF32(r, shapeLen(c.shape)), true)
	}
}
