package optim

import (
	"math"
	"strings"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

// linspace(lo, hi, N*D) reshaped to (N, D), as the notebooks build inputs.
func linspace(lo, hi float64, n, d int) *tensor.Tensor {
	t := tensor.MustNew(n, d)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*float64(i)/float64(n*d-1)
	}
	return t
}

func vec(v ...float64) *tensor.Tensor {
	t, err := tensor.FromData(append([]float64(nil), v...), len(v))
	if err != nil {
		panic(err)
	}
	return t
}

func mustRule(t *testing.T, name string, cfg Config) Rule {
	t.Helper()
	r, err := New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func assertClose(t *testing.T, what string, got *tensor.Tensor, want []float64, tol float64) {
	t.Helper()
	if len(got.Data) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.Data), len(want))
	}
	if e := gradcheck.RelErrorSlice(got.Data, want); e > tol {
		t.Fatalf("%s: rel error %.3g > %.0g\n got %v\nwant %v", what, e, tol, got.Data, want)
	}
}

// The expected arrays below are the ones printed in the course's
// FullyConnectedNets notebook (cs231n assignment 2) for its optimizer checks,
// to 8 significant digits; the notebook asks for rel error around 1e-7..1e-8.

func TestSGDMomentumNotebook(t *testing.T) {
	r := mustRule(t, "sgd_momentum", Config{LearningRate: 1e-3}).(*SGDMomentum)
	w, dw := linspace(-0.4, 0.6, 4, 5), linspace(-0.6, 0.4, 4, 5)
	r.Velocity = linspace(0.6, 0.9, 4, 5)
	if err := r.Update(w, dw); err != nil {
		t.Fatal(err)
	}
	assertClose(t, "next_w", w, []float64{
		0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789,
		0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526,
		0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263,
		1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096}, 1e-7)
	assertClose(t, "velocity", r.Velocity, []float64{
		0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158,
		0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105,
		0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053,
		0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096}, 1e-7)
}

func TestRMSPropNotebook(t *testing.T) {
	r := mustRule(t, "rmsprop", Config{LearningRate: 1e-2}).(*RMSProp)
	w, dw := linspace(-0.4, 0.6, 4, 5), linspace(-0.6, 0.4, 4, 5)
	r.Cache = linspace(0.6, 0.9, 4, 5)
	if err := r.Update(w, dw); err != nil {
		t.Fatal(err)
	}
	assertClose(t, "next_w", w, []float64{
		-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247,
		-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774,
		0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447,
		0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619}, 1e-7)
	assertClose(t, "cache", r.Cache, []float64{
		0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321,
		0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377,
		0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936,
		0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926}, 1e-7)
}

func TestAdamNotebook(t *testing.T) {
	r := mustRule(t, "adam", Config{LearningRate: 1e-2}).(*Adam)
	w, dw := linspace(-0.4, 0.6, 4, 5), linspace(-0.6, 0.4, 4, 5)
	r.M, r.V, r.T = linspace(0.6, 0.9, 4, 5), linspace(0.7, 0.5, 4, 5), 5
	if err := r.Update(w, dw); err != nil {
		t.Fatal(err)
	}
	if r.T != 6 {
		t.Fatalf("t = %d after one update from 5, want 6", r.T)
	}
	assertClose(t, "next_w", w, []float64{
		-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977,
		-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929,
		0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969,
		0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459}, 1e-6)
	assertClose(t, "v", r.V, []float64{
		0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853,
		0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385,
		0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767,
		0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966}, 1e-7)
	assertClose(t, "m", r.M, []float64{
		0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474,
		0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316,
		0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158,
		0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85}, 1e-7)
}

// Three steps of each rule with the update written out by hand, one scalar
// at a time, from a zero state, so the zero-state start (and Adam's t = 1
// bias correction) is covered too.
func TestRulesByHand(t *testing.T) {
	w0 := []float64{1.5, -0.5}
	grads := [][]float64{{0.3, -1.2}, {-0.7, 0.4}, {2.0, 0.1}}
	type stepper func(i int, w, g float64, st []float64) float64
	cases := []struct {
		name string
		cfg  Config
		step stepper // st holds the per-element state, updated in place
	}{
		{"sgd", Config{LearningRate: 0.1}, func(_ int, w, g float64, _ []float64) float64 {
			return w - 0.1*g
		}},
		{"sgd_momentum", Config{LearningRate: 0.1, Momentum: 0.8}, func(_ int, w, g float64, st []float64) float64 {
			st[0] = 0.8*st[0] - 0.1*g
			return w + st[0]
		}},
		{"rmsprop", Config{LearningRate: 0.1, DecayRate: 0.9, Epsilon: 1e-6}, func(_ int, w, g float64, st []float64) float64 {
			st[0] = 0.9*st[0] + 0.1*g*g
			return w - 0.1*g/(math.Sqrt(st[0])+1e-6)
		}},
		{"adam", Config{LearningRate: 0.1, Beta1: 0.8, Beta2: 0.95, Epsilon: 1e-6}, func(k int, w, g float64, st []float64) float64 {
			st[0] = 0.8*st[0] + 0.2*g
			st[1] = 0.95*st[1] + 0.05*g*g
			t := float64(k + 1)
			mh := st[0] / (1 - math.Pow(0.8, t))
			vh := st[1] / (1 - math.Pow(0.95, t))
			return w - 0.1*mh/(math.Sqrt(vh)+1e-6)
		}},
		{"adamw", Config{LearningRate: 0.1, Beta1: 0.8, Beta2: 0.95, Epsilon: 1e-6, WeightDecay: 0.3}, func(k int, w, g float64, st []float64) float64 {
			st[0] = 0.8*st[0] + 0.2*g
			st[1] = 0.95*st[1] + 0.05*g*g
			t := float64(k + 1)
			mh := st[0] / (1 - math.Pow(0.8, t))
			vh := st[1] / (1 - math.Pow(0.95, t))
			return w - 0.1*mh/(math.Sqrt(vh)+1e-6) - 0.1*0.3*w
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustRule(t, c.name, c.cfg)
			w := vec(w0...)
			want := append([]float64(nil), w0...)
			st := [][]float64{{0, 0}, {0, 0}}
			for k, g := range grads {
				if err := r.Update(w, vec(g...)); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					want[i] = c.step(k, want[i], g[i], st[i])
				}
				assertClose(t, "w", w, want, 1e-14)
			}
		})
	}
}

// On f = ½||w||² the gradient is w, so sgd gives w_k = (1-h)^k w_0 exactly.
func TestSGDClosedForm(t *testing.T) {
	const h = 0.05
	w0 := []float64{2, -1, 0.25}
	r := mustRule(t, "sgd", Config{LearningRate: h})
	w := vec(w0...)
	for k := 1; k <= 40; k++ {
		if err := r.Update(w, w.Clone()); err != nil {
			t.Fatal(err)
		}
		want := make([]float64, len(w0))
		for i := range w0 {
			want[i] = math.Pow(1-h, float64(k)) * w0[i]
		}
		assertClose(t, "w", w, want, 1e-12)
	}
}

// With a zero gradient Adam's step is 0/(0+eps) = 0, so AdamW's weights
// shrink by exactly (1 - lr*wd) per step, and plain Adam's do not move:
// the decay really is decoupled from the gradient statistics.
func TestAdamWDecayIsDecoupled(t *testing.T) {
	const lr, wd = 0.1, 0.2
	w0 := []float64{3, -2}
	aw := mustRule(t, "adamw", Config{LearningRate: lr, WeightDecay: wd})
	a := mustRule(t, "adam", Config{LearningRate: lr})
	w, wa := vec(w0...), vec(w0...)
	for k := 1; k <= 10; k++ {
		zero := vec(0, 0)
		if err := aw.Update(w, zero); err != nil {
			t.Fatal(err)
		}
		if err := a.Update(wa, zero); err != nil {
			t.Fatal(err)
		}
		f := math.Pow(1-lr*wd, float64(k))
		assertClose(t, "adamw w", w, []float64{f * w0[0], f * w0[1]}, 1e-14)
		assertClose(t, "adam w", wa, w0, 0)
	}
}

// Every rule must drive an ill-conditioned quadratic f = ½ Σ λ_i w_i²
// (condition number 100) to its minimum at 0. The learning rate decays
// every 100 steps through SetLearningRate, as the solver does per epoch,
// because adaptive rules at a fixed rate hover at a distance ~lr from the
// minimum.
func TestRulesConvergeOnIllConditionedQuadratic(t *testing.T) {
	lambda := []float64{1, 10, 100}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			r := mustRule(t, name, Config{LearningRate: 1e-2})
			w := vec(1, -1, 1)
			f := func() float64 {
				s := 0.0
				for i, v := range w.Data {
					s += 0.5 * lambda[i] * v * v
				}
				return s
			}
			f0 := f()
			for k := 1; k <= 5000; k++ {
				g := tensor.ZerosLike(w)
				for i, v := range w.Data {
					g.Data[i] = lambda[i] * v
				}
				if err := r.Update(w, g); err != nil {
					t.Fatal(err)
				}
				if k%100 == 0 {
					if err := r.SetLearningRate(r.LearningRate() * 0.9); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := f(); !(got < 1e-8*f0) {
				t.Fatalf("f = %.3g after 5000 steps (start %.3g), w = %v", got, f0, w.Data)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	if r := mustRule(t, "sgd", Config{}).(*SGD); r.lr != 1e-2 {
		t.Fatalf("sgd lr %v", r.lr)
	}
	if r := mustRule(t, "sgd_momentum", Config{}).(*SGDMomentum); r.lr != 1e-2 || r.mu != 0.9 {
		t.Fatalf("sgd_momentum %+v", r)
	}
	if r := mustRule(t, "rmsprop", Config{}).(*RMSProp); r.lr != 1e-2 || r.decay != 0.99 || r.eps != 1e-8 {
		t.Fatalf("rmsprop %+v", r)
	}
	if r := mustRule(t, "adam", Config{}).(*Adam); r.lr != 1e-3 || r.beta1 != 0.9 || r.beta2 != 0.999 || r.eps != 1e-8 || r.decoupled != 0 || r.T != 0 {
		t.Fatalf("adam %+v", r)
	}
	if r := mustRule(t, "adamw", Config{}).(*Adam); r.decoupled != 1e-2 {
		t.Fatalf("adamw weight decay %v", r.decoupled)
	}
}

func TestBadHyperParameters(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name, field string
		cfg         Config
	}{
		{"nope", "unknown update rule", Config{}},
		{"sgd", "learning rate", Config{LearningRate: -1}},
		{"sgd", "learning rate", Config{LearningRate: nan}},
		{"adam", "learning rate", Config{LearningRate: inf}},
		{"sgd_momentum", "Momentum", Config{Momentum: 1}},
		{"sgd_momentum", "Momentum", Config{Momentum: -0.1}},
		{"rmsprop", "DecayRate", Config{DecayRate: 1.5}},
		{"adam", "Beta1", Config{Beta1: 1}},
		{"adam", "Beta2", Config{Beta2: -0.5}},
		{"adam", "Beta2", Config{Beta2: nan}},
		{"rmsprop", "Epsilon", Config{Epsilon: -1e-8}},
		{"adam", "Epsilon", Config{Epsilon: inf}},
		{"adamw", "WeightDecay", Config{WeightDecay: -0.1}},
		{"adamw", "WeightDecay", Config{WeightDecay: nan}},
	}
	for _, c := range cases {
		_, err := New(c.name, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("New(%q, %+v) = %v, want an error about %s", c.name, c.cfg, err, c.field)
		}
	}
	for _, name := range Names() {
		r := mustRule(t, name, Config{})
		for _, lr := range []float64{0, -1, nan, inf} {
			if err := r.SetLearningRate(lr); err == nil {
				t.Errorf("%s: SetLearningRate(%v) accepted", name, lr)
			}
		}
		if want := Defaults(name, Config{}).LearningRate; r.LearningRate() != want {
			t.Errorf("%s: a rejected SetLearningRate changed lr to %v", name, r.LearningRate())
		}
	}
}

func TestBadUpdates(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			r := mustRule(t, name, Config{})
			w := vec(1, 2, 3)
			for _, dw := range []*tensor.Tensor{vec(1, 2), tensor.MustNew(3, 1), nil, vec(1, math.NaN(), 0)} {
				err := r.Update(w, dw)
				if err == nil {
					t.Fatalf("Update accepted dw %v", dw)
				}
				if !strings.Contains(err.Error(), "optim.") {
					t.Fatalf("error does not name the op: %v", err)
				}
				assertClose(t, "w after rejected update", w, []float64{1, 2, 3}, 0)
			}
			if err := r.Update(nil, vec(1, 2, 3)); err == nil {
				t.Fatal("Update accepted nil w")
			}
			// A rule holds one parameter's state; feeding it another
			// shape later must not silently reuse the old state.
			if err := r.Update(w, vec(0.1, 0.1, 0.1)); err != nil {
				t.Fatal(err)
			}
			err := r.Update(vec(1, 2), vec(1, 1))
			if name == "sgd" {
				if err != nil {
					t.Fatalf("stateless sgd refused a new shape: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), "state") {
				t.Fatalf("reuse for another shape: %v", err)
			}
		})
	}
}
