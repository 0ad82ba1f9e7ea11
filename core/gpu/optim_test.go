package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"gradlab/core/optim"
	"gradlab/core/tensor"
)

// Sizes: one element, odd sizes, around the 256-wide workgroup, and enough
// for a few hundred workgroups.
var optimSizes = [][]int{{1}, {7}, {255}, {256}, {257}, {3, 5}, {33, 65}, {1000, 3}, {100, 701}}

// optimSteps is the number of consecutive updates compared: errors carry
// from step to step through w and the optimizer state, and the bounds below
// carry them too.
const optimSteps = 6

// stepLR is a learning rate that changes every step (decay), as solvers do.
func stepLR(base float32, step int) float32 { return base * float32(math.Pow(0.7, float64(step))) }

// optimGrad returns step s's gradient: values in [-2, 2) with some exact
// zeros (a zero gradient at t = 1 gives Adam m = v = 0, the 0 / eps case).
func optimGrad(r *rand.Rand, n int) []float32 {
	g := randF32(r, n)
	for i := range g {
		if r.IntN(10) == 0 {
			g[i] = 0
		}
	}
	return g
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// refTerm is the float64 reference's own rounding on a quantity of size v
// after a few operations: far below the f32 terms, but included so the
// bounds compare the GPU with exact arithmetic, not with the reference.
func refTerm(v float64) float64 { return 16 * 0x1p-53 * math.Abs(v) }

// Error propagation for one step, per element, in exact arithmetic on the
// reference values (before: w, state; after: w2, state2), with e* the bound
// carried in from earlier steps. The f32 kernel rounds every + - * once (u)
// and the hyper-parameters it gets as differences or reciprocals (1 - beta,
// 1/(1 - beta^t)) once; the WGSL spec grants x / y 2.5 ULP and sqrt 4.5 ULP
// (inherited from 1 / inverseSqrt: 2 + 2.5 ULP), one ULP being <= 2u
// relative. Every hyper-parameter the reference gets is the same f32 value.

// SGD: fl(w - fl(lr g)).
func sgdBound(ew, lr, g, w2 float64) float64 {
	return ew*(1+u) + u*(1+u)*math.Abs(lr*g) + u*math.Abs(w2) + refTerm(w2)
}

// Momentum: v2 = fl(fl(mu v) - fl(lr g)), w2 = fl(w + v2).
func momentumBound(ew, ev, lr, mu, g, v, w2 float64) (ew2, ev2 float64) {
	ev2 = mu*ev*(1+gamma(2)) + gamma(2)*(math.Abs(mu*v)+math.Abs(lr*g)) + refTerm(v)
	ew2 = (ew+ev2)*(1+u) + u*math.Abs(w2) + refTerm(w2)
	return ew2, ev2
}

// Adam: m2 = fl(fl(b1 m) + fl((1-b1) g)), v2 = fl(fl(b2 v) + fl((1-b2) g^2)),
// step = fl(fl(m2 ic1) / fl(sqrt(fl(v2 ic2)) + eps)),
// w2 = fl(w - fl(lr fl(step + fl(wd w)))).
func adamBound(ew, em, ev, lr, b1, b2, eps, wd, c1, c2, g, m2, v2, w, w2 float64) (ew2, em2, ev2 float64) {
	em2 = b1*em*(1+gamma(3)) + gamma(3)*(math.Abs(m2-(1-b1)*g)+math.Abs((1-b1)*g)) + refTerm(m2)
	ev2 = b2*ev*(1+gamma(4)) + gamma(4)*v2 + refTerm(v2)
	mh, vh := m2/c1, v2/c2
	eMh := em2/c1*(1+gamma(2)) + gamma(2)*math.Abs(mh)
	eVh := ev2/c2*(1+gamma(2)) + gamma(2)*vh
	sq := math.Sqrt(vh)
	dSq := math.Sqrt(eVh)
	if sq > 0 {
		dSq = math.Min(dSq, eVh/sq)
	}
	eSq := dSq + gamma(9)*(sq+dSq)
	den := sq + eps
	eDen := eSq*(1+u) + u*den
	step := mh / den
	dStep := eMh/(den-eDen) + math.Abs(mh)*eDen/(den*(den-eDen))
	eStep := dStep + 5*u*(math.Abs(step)+dStep) + refTerm(step)
	eIn := (eStep+wd*ew)*(1+gamma(2)) + gamma(2)*(math.Abs(step)+wd*math.Abs(w))
	inner := math.Abs(step + wd*w)
	eLr := lr*eIn*(1+u) + u*lr*inner
	ew2 = (ew+eLr)*(1+u) + u*math.Abs(w2) + refTerm(w2)
	return ew2, em2, ev2
}

type optimCase struct {
	name string // core/optim's rule name
	wd   float32
}

// TestOptimizersMatchCoreOptim runs optimSteps updates of each rule on the
// GPU and with core/optim (float64, fed the same f32 hyper-parameters and
// gradients), with a learning rate that changes every step, and checks w
// and the state against the propagated bounds after every step.
func TestOptimizersMatchCoreOptim(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(21, 22))
	const lr0, mom, b1, b2, eps = float32(0.05), float32(0.9), float32(0.9), float32(0.999), float32(1e-8)
	for _, rule := range []optimCase{{"sgd", 0}, {"sgd_momentum", 0}, {"adam", 0}, {"adamw", 0.01}} {
		for _, shape := range optimSizes {
			name := fmt.Sprintf("%s %v", rule.name, shape)
			n := shapeLen(shape)
			w0 := randF32(r, n)
			ref, err := optim.New(rule.name, optim.Config{
				LearningRate: float64(lr0), Momentum: float64(mom), Beta1: float64(b1), Beta2: float64(b2),
				Epsilon: float64(eps), WeightDecay: float64(rule.wd),
			})
			if err != nil {
				t.Fatal(err)
			}
			wRef, _ := tensor.FromData(f64s(w0), shape...)
			w := upload(t, d, w0, shape...)
			s1 := zeros(t, d, shape...)
			s2 := zeros(t, d, shape...)
			ew, e1, e2 := make([]float64, n), make([]float64, n), make([]float64, n)
			var prev1 []float64 // reference velocity before the step
			for step := 1; step <= optimSteps; step++ {
				lr := stepLR(lr0, step)
				if err := ref.SetLearningRate(float64(lr)); err != nil {
					t.Fatal(err)
				}
				g := optimGrad(r, n)
				dw := upload(t, d, g, shape...)
				wBefore := append([]float64(nil), wRef.Data...)
				gRef, _ := tensor.FromData(f64s(g), shape...)
				if err := ref.Update(wRef, gRef); err != nil {
					t.Fatal(err)
				}
				switch rule.name {
				case "sgd":
					err = d.SGDUpdate(w, dw, lr)
				case "sgd_momentum":
					err = d.SGDMomentumUpdate(w, dw, s1, lr, mom)
				default:
					err = d.AdamUpdate(w, dw, s1, s2, lr, b1, b2, eps, step, rule.wd)
				}
				if err != nil {
					t.Fatalf("%s step %d: %v", name, step, err)
				}
				dw.Release()
				for i := range ew {
					L, G := float64(lr), float64(g[i])
					switch rule.name {
					case "sgd":
						ew[i] = sgdBound(ew[i], L, G, wRef.Data[i])
					case "sgd_momentum":
						v := 0.0
						if prev1 != nil {
							v = prev1[i]
						}
						ew[i], e1[i] = momentumBound(ew[i], e1[i], L, float64(mom), G, v, wRef.Data[i])
					default:
						a := ref.(*optim.Adam)
						c1 := 1 - math.Pow(float64(b1), float64(step))
						c2 := 1 - math.Pow(float64(b2), float64(step))
						ew[i], e1[i], e2[i] = adamBound(ew[i], e1[i], e2[i], L, float64(b1), float64(b2), float64(eps), float64(rule.wd),
							c1, c2, G, a.M.Data[i], a.V.Data[i], wBefore[i], wRef.Data[i])
					}
				}
				what := fmt.Sprintf("%s step %d lr %v", name, step, lr)
				checkBound(t, what+" w", read(t, w), wRef.Data, ew)
				switch a := ref.(type) {
				case *optim.SGDMomentum:
					checkBound(t, what+" velocity", read(t, s1), a.Velocity.Data, e1)
					prev1 = append(prev1[:0], a.Velocity.Data...)
				case *optim.Adam:
					checkBound(t, what+" m", read(t, s1), a.M.Data, e1)
					checkBound(t, what+" v", read(t, s2), a.V.Data, e2)
				}
			}
			release(w, s1, s2)
		}
	}
}

func zeros(t testing.TB, d *Device, shape ...int) *Tensor {
	t.Helper()
	z, err := d.Zeros(shape...)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// The bounds must be far tighter than a plausible bug: a missing bias
// correction changes Adam's first step by a factor 1/(1 - beta1) = 10, a
// lost momentum term changes w by lr |v|. After optimSteps steps of size
// ~lr the bound must stay a tiny fraction of lr.
func TestOptimBoundsAreTight(t *testing.T) {
	ew, em, ev := 0.0, 0.0, 0.0
	m, v, w := 0.0, 0.0, 1.5
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	for step := 1; step <= optimSteps; step++ {
		g := []float64{1.5, -0.25, 1e-3, 2, -1, 0.5}[step-1]
		m = b1*m + (1-b1)*g
		v = b2*v + (1-b2)*g*g
		c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
		w2 := w - lr*(m/c1)/(math.Sqrt(v/c2)+eps)
		ew, em, ev = adamBound(ew, em, ev, lr, b1, b2, eps, 0, c1, c2, g, m, v, w, w2)
		w = w2
	}
	if ew > 1e-4*lr || em > 1e-5 || ev > 1e-5 {
		t.Fatalf("bounds after %d steps: w %.3g, m %.3g, v %.3g", optimSteps, ew, em, ev)
	}
}

// A learning rate and step count that change every call must not create
// pipelines, uniform buffers or pool buffers once the first step has run:
// the per-step scalars go through a pooled buffer, reused after each submit.
func TestOptimStepsAllocateNothingAfterTheFirst(t *testing.T) {
	device(t)
	d, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(3, 1))
	shapes := [][]int{{10, 20}, {20}, {20, 5}, {5}}
	var params, grads, m, v, vel []*Tensor
	for _, s := range shapes {
		n := shapeLen(s)
		params = append(params, upload(t, d, randF32(r, n), s...))
		grads = append(grads, upload(t, d, randF32(r, n), s...))
		m = append(m, zeros(t, d, s...))
		v = append(v, zeros(t, d, s...))
		vel = append(vel, zeros(t, d, s...))
	}
	step := func(k int) {
		lr := stepLR(0.01, k)
		for i := range params {
			if err := d.AdamUpdate(params[i], grads[i], m[i], v[i], lr, 0.9, 0.999, 1e-8, k, 0.01*float32(k%2)); err != nil {
				t.Fatal(err)
			}
			if err := d.SGDMomentumUpdate(params[i], grads[i], vel[i], lr, 0.9); err != nil {
				t.Fatal(err)
			}
			if err := d.SGDUpdate(params[i], grads[i], lr); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	step(1)
	created, uniforms, pipes := d.PoolStats().Created, len(d.uniforms.bufs), len(d.pipes)
	for k := 2; k <= 20; k++ {
		step(k)
	}
	if c := d.PoolStats().Created; c != created {
		t.Errorf("19 more steps created %d pool buffers", c-created)
	}
	if n := len(d.uniforms.bufs); n != uniforms {
		t.Errorf("19 more steps created %d uniform buffers", n-uniforms)
	}
	if n := len(d.pipes); n != pipes {
		t.Errorf("19 more steps created %d pipelines", n-pipes)
	}
	for _, ts := range [][]*Tensor{params, grads, m, v, vel} {
		release(ts...)
	}
}

// Large tensors fold a 2-D grid. On a device capped at 4 workgroups per
// dimension, 3000 elements (12 workgroups) need a 4 x 3 grid; natively, and
// not in -short mode, one real tensor past 65535 x 256 elements runs too,
// checked at sampled elements (the rules are element-wise, so core/optim
// applied to the sampled elements alone is the reference).
func TestOptimUpdates2DGrid(t *testing.T) {
	device(t)
	small, err := Open(Options{MaxWorkgroupsPerDim: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	checkAdamSampled(t, small, 3000, 1)
	if testing.Short() || runtime.GOOS == "js" {
		t.Log("skipping the 65535 x 256 + 1000 element tensor (-short or browser)")
		return
	}
	checkAdamSampled(t, device(t), 65535*256+1000, 997)
}

// checkAdamSampled runs two AdamW steps over n elements and compares every
// stride-th element and the last 300 with core/optim.
func checkAdamSampled(t *testing.T, d *Device, n, stride int) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(n), 5))
	w0 := randF32(r, n)
	w := upload(t, d, w0, n)
	m, v := zeros(t, d, n), zeros(t, d, n)
	defer release(w, m, v)
	var idx []int
	for i := 0; i < n; i += stride {
		idx = append(idx, i)
	}
	for i := max(n-300, 0); i < n; i++ {
		idx = append(idx, i)
	}
	pick := func(all []float32) []float64 {
		out := make([]float64, len(idx))
		for k, i := range idx {
			out[k] = float64(all[i])
		}
		return out
	}
	const lr, b1, b2, eps, wd = float32(0.01), float32(0.9), float32(0.999), float32(1e-8), float32(0.5)
	L, B1, B2, Eps, Wd := float64(lr), float64(b1), float64(b2), float64(eps), float64(wd)
	ref, err := optim.New("adamw", optim.Config{LearningRate: L, Beta1: B1, Beta2: B2, Epsilon: Eps, WeightDecay: Wd})
	if err != nil {
		t.Fatal(err)
	}
	wRef, _ := tensor.FromData(pick(w0), len(idx))
	ew, em, ev := make([]float64, len(idx)), make([]float64, len(idx)), make([]float64, len(idx))
	for step := 1; step <= 2; step++ {
		g := optimGrad(r, n)
		dw := upload(t, d, g, n)
		if err := d.AdamUpdate(w, dw, m, v, lr, b1, b2, eps, step, wd); err != nil {
			t.Fatal(err)
		}
		dw.Release()
		before := append([]float64(nil), wRef.Data...)
		gs := pick(g)
		gRef, _ := tensor.FromData(gs, len(idx))
		if err := ref.Update(wRef, gRef); err != nil {
			t.Fatal(err)
		}
		a := ref.(*optim.Adam)
		c1, c2 := 1-math.Pow(B1, float64(step)), 1-math.Pow(B2, float64(step))
		for k := range idx {
			ew[k], em[k], ev[k] = adamBound(ew[k], em[k], ev[k], L, B1, B2, Eps, Wd, c1, c2, gs[k], a.M.Data[k], a.V.Data[k], before[k], wRef.Data[k])
		}
	}
	got := pick(read(t, w))
	gotM := pick(read(t, m))
	for k, i := range idx {
		a := ref.(*optim.Adam)
		if !(math.Abs(got[k]-wRef.Data[k]) <= ew[k]) || !(math.Abs(gotM[k]-a.M.Data[k]) <= em[k]) {
			t.Fatalf("n=%d element %d: w %v m %v, want %v %v (bounds %.3g %.3g)", n, i, got[k], gotM[k], wRef.Data[k], a.M.Data[k], ew[k], em[k])
		}
	}
}

func TestOptimRejectsBadInput(t *testing.T) {
	d := device(t)
	w := upload(t, d, make([]float32, 6), 2, 3)
	g := upload(t, d, make([]float32, 6), 2, 3)
	m := upload(t, d, make([]float32, 6), 2, 3)
	v := upload(t, d, make([]float32, 6), 2, 3)
	flat := upload(t, d, make([]float32, 6), 6)
	dead := upload(t, d, make([]float32, 6), 2, 3)
	dead.Release()
	defer release(w, g, m, v, flat)
	expect := func(what string, err error, words ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		for _, s := range words {
			if !strings.Contains(err.Error(), s) {
				t.Fatalf("%s: error %q lacks %q", what, err, s)
			}
		}
	}
	expect("shape", d.SGDUpdate(w, flat, 0.1), "gpu.SGDUpdate", "(2, 3), (6,)", "w's shape")
	expect("lr 0", d.SGDUpdate(w, g, 0), "gpu.SGDUpdate", "learning rate 0")
	expect("lr NaN", d.SGDUpdate(w, g, float32(math.NaN())), "gpu.SGDUpdate", "learning rate NaN")
	expect("lr Inf", d.SGDMomentumUpdate(w, g, v, float32(math.Inf(1)), 0.9), "gpu.SGDMomentumUpdate", "learning rate +Inf")
	expect("momentum 1", d.SGDMomentumUpdate(w, g, v, 0.1, 1), "gpu.SGDMomentumUpdate", "momentum = 1")
	expect("velocity shape", d.SGDMomentumUpdate(w, g, flat, 0.1, 0.9), "gpu.SGDMomentumUpdate", "(2, 3), (2, 3), (6,)")
	expect("aliased", d.SGDMomentumUpdate(w, g, g, 0.1, 0.9), "gpu.SGDMomentumUpdate", "passed twice")
	expect("released", d.SGDUpdate(w, dead, 0.1), "gpu.SGDUpdate", "released")
	expect("nil", d.AdamUpdate(w, g, nil, v, 0.1, 0.9, 0.999, 1e-8, 1, 0), "gpu.AdamUpdate", "nil")
	expect("beta1", d.AdamUpdate(w, g, m, v, 0.1, 1, 0.999, 1e-8, 1, 0), "gpu.AdamUpdate", "beta1 = 1")
	expect("beta2", d.AdamUpdate(w, g, m, v, 0.1, 0.9, -0.1, 1e-8, 1, 0), "gpu.AdamUpdate", "beta2 = -0.1")
	expect("eps", d.AdamUpdate(w, g, m, v, 0.1, 0.9, 0.999, 0, 1, 0), "gpu.AdamUpdate", "eps = 0")
	expect("wd", d.AdamUpdate(w, g, m, v, 0.1, 0.9, 0.999, 1e-8, 1, -1), "gpu.AdamUpdate", "weight decay = -1")
	expect("t", d.AdamUpdate(w, g, m, v, 0.1, 0.9, 0.999, 1e-8, 0, 0), "gpu.AdamUpdate", "t = 0")
	expect("m is v", d.AdamUpdate(w, g, m, m, 0.1, 0.9, 0.999, 1e-8, 1, 0), "gpu.AdamUpdate", "passed twice")
	// Nothing above may have changed w.
	for i, x := range read(t, w) {
		if x != 0 {
			t.Fatalf("a rejected update changed w[%d] to %v", i, x)
		}
	}
}
