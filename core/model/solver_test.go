package model

import (
	"context"
	"errors"
	"math"
	"testing"

	"gradlab/core/optim"
	"gradlab/core/tensor"
)

// stubModel has one parameter w of shape (1,) and loss = w, so its gradient
// is always 1 and sgd with lr 1 moves w down by exactly 1 per iteration.
// Its scores pick class 0 exactly when w equals good, which lets a test
// choose the epoch with the best validation accuracy. It fails on call
// nanAt (1-based) with a NaN loss or gradient, and records every step it
// was given.
type stubModel struct {
	w       *tensor.Tensor
	good    float64
	nanAt   int
	nanGrad bool
	calls   int
	steps   []uint32
}

func newStub() *stubModel { return &stubModel{w: tensor.MustNew(1), good: math.NaN()} }

func (m *stubModel) Params() map[string]*tensor.Tensor { return map[string]*tensor.Tensor{"w": m.w} }

func (m *stubModel) SetStep(s uint32) { m.steps = append(m.steps, s) }

func (m *stubModel) Loss(X *tensor.Tensor, y []int) (float64, map[string]*tensor.Tensor, error) {
	m.calls++
	g, _ := tensor.Full(1, 1)
	loss := m.w.Data[0]
	if m.calls == m.nanAt {
		if m.nanGrad {
			g.Data[0] = math.Inf(1)
		} else {
			loss = math.NaN()
		}
	}
	return loss, map[string]*tensor.Tensor{"w": g}, nil
}

func (m *stubModel) Scores(X *tensor.Tensor) (*tensor.Tensor, error) {
	n, _ := X.Rows()
	s := tensor.MustNew(n, 2)
	for i := 0; i < n; i++ {
		if m.w.Data[0] == m.good {
			s.Data[2*i] = 1
		} else {
			s.Data[2*i+1] = 1
		}
	}
	return s, nil
}

// stubData: 4 training and 3 validation samples, all labelled 0.
func stubData() Data {
	return Data{XTrain: tensor.MustNew(4, 2), YTrain: make([]int, 4), XVal: tensor.MustNew(3, 2), YVal: make([]int, 3)}
}

func stubConfig() SolverConfig {
	return SolverConfig{UpdateRule: "sgd", Optim: optim.Config{LearningRate: 1}, BatchSize: 2, NumEpochs: 4}
}

func TestSolverRestoresBestParams(t *testing.T) {
	m := newStub()
	m.good = -4 // reached after epoch 2 (2 iterations per epoch)
	s, err := NewSolver(m, stubData(), stubConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVal := []float64{0, 0, 1, 0, 0}
	for i, v := range wantVal {
		if s.ValAccHistory[i] != v || s.TrainAccHistory[i] != v {
			t.Fatalf("accuracy history train %v val %v, want %v", s.TrainAccHistory, s.ValAccHistory, wantVal)
		}
	}
	if len(s.ValAccHistory) != 5 || len(s.LossHistory) != 8 {
		t.Fatalf("%d accuracy checks and %d losses, want 5 and 8", len(s.ValAccHistory), len(s.LossHistory))
	}
	if m.w.Data[0] != -4 || s.BestValAcc != 1 || s.BestParams["w"].Data[0] != -4 {
		t.Fatalf("w = %v, best acc %v, best w %v; want the epoch-2 parameters restored", m.w.Data[0], s.BestValAcc, s.BestParams["w"].Data)
	}
	for i, l := range s.LossHistory {
		if want := -float64(i); l != want {
			t.Fatalf("loss history %v", s.LossHistory)
		}
	}
	if err := s.Train(context.Background()); err == nil {
		t.Fatal("a second Train was accepted")
	}
}

// Masks must differ between iterations: the solver hands the model the
// iteration number before each Loss call.
func TestSolverAdvancesDropoutStep(t *testing.T) {
	m := newStub()
	s, err := NewSolver(m, stubData(), stubConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(m.steps) != 8 {
		t.Fatalf("steps %v", m.steps)
	}
	for i, st := range m.steps {
		if st != uint32(i) {
			t.Fatalf("steps %v, want 0..7", m.steps)
		}
	}
}

func TestSolverStopsOnNaN(t *testing.T) {
	for _, grad := range []bool{false, true} {
		m := newStub()
		m.nanAt, m.nanGrad = 4, grad
		s, err := NewSolver(m, stubData(), stubConfig())
		if err != nil {
			t.Fatal(err)
		}
		err = s.Train(context.Background())
		wantError(t, "NaN", err, "iteration 4", "last good parameters")
		// Three good updates happened; the fourth was refused before w moved.
		if m.w.Data[0] != -3 || len(s.LossHistory) != 3 {
			t.Fatalf("gradient NaN %v: w = %v after %d losses, want -3 after 3", grad, m.w.Data[0], len(s.LossHistory))
		}
	}
}

// A learning rate far too large makes a real net blow up; training must
// stop with an error and leave finite parameters.
func TestSolverDivergingNet(t *testing.T) {
	data, _ := blobs(t, 50, 20, 5, 1)
	net := fcNet(t, FCConfig{HiddenDims: []int{50, 50}, InputDim: 20, NumClasses: 5, WeightScale: 1, Seed: 2})
	s, err := NewSolver(net, data, SolverConfig{UpdateRule: "sgd", Optim: optim.Config{LearningRate: 1e3}, BatchSize: 10, NumEpochs: 20})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Train(context.Background())
	wantError(t, "diverging", err, "model.Solver.Train", "iteration", "NaN or Inf", "last good parameters")
	for name, p := range net.Params() {
		if p.HasNaN() {
			t.Fatalf("%s is not finite after the failed run", name)
		}
	}
}

func TestSolverLearningRateDecay(t *testing.T) {
	for _, rule := range optim.Names() {
		s, err := NewSolver(newStub(), stubData(), SolverConfig{UpdateRule: rule, Optim: optim.Config{LearningRate: 0.3}, LRDecay: 0.9, BatchSize: 2, NumEpochs: 3})
		if err != nil {
			t.Fatal(err)
		}
		var seen []float64
		s.cfg.Progress = func(p Progress) {
			if p.EpochEnd {
				seen = append(seen, p.LearningRate)
			}
		}
		if err := s.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []float64{0.3, 0.3 * 0.9, 0.3 * 0.9 * 0.9, 0.3 * 0.9 * 0.9 * 0.9}
		for i := range want {
			if !near(seen[i], want[i], 1e-15) {
				t.Fatalf("%s: learning rate at each check %v, want %v", rule, seen, want)
			}
		}
		for name, r := range s.Rules() {
			if !near(r.LearningRate(), want[3], 1e-15) {
				t.Fatalf("%s: %s ends at lr %v", rule, name, r.LearningRate())
			}
		}
	}
}

func TestSolverProgress(t *testing.T) {
	var ps []Progress
	cfg := stubConfig()
	cfg.Progress = func(p Progress) { ps = append(ps, p) }
	s, err := NewSolver(newStub(), stubData(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 8+5 {
		t.Fatalf("%d progress reports, want 8 iterations + 5 checks", len(ps))
	}
	checks, last := 0, -1
	for _, p := range ps {
		if p.NumIterations != 8 || p.NumEpochs != 4 || p.Iteration < last {
			t.Fatalf("bad report %+v after iteration %d", p, last)
		}
		last = p.Iteration
		if p.EpochEnd {
			if p.Epoch != checks || p.Iteration != 2*checks {
				t.Fatalf("check %d reported as %+v", checks, p)
			}
			checks++
		}
	}
	if last != 8 {
		t.Fatalf("last iteration reported %d", last)
	}
}

func TestSolverCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := stubConfig()
	cfg.Progress = func(p Progress) {
		if p.Iteration == 3 {
			cancel()
		}
	}
	m := newStub()
	s, err := NewSolver(m, stubData(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Train(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Train after cancel: %v", err)
	}
	if len(s.LossHistory) != 3 || m.w.Data[0] != -3 {
		t.Fatalf("%d iterations ran, w = %v", len(s.LossHistory), m.w.Data[0])
	}
}

func TestSolverBadInput(t *testing.T) {
	good := stubData()
	short := stubData()
	short.YTrain = short.YTrain[:3]
	noVal := stubData()
	noVal.XVal = nil
	cases := []struct {
		what string
		m    Model
		d    Data
		cfg  SolverConfig
		frag string
	}{
		{"nil model", nil, good, SolverConfig{}, "model is nil"},
		{"label count", newStub(), short, SolverConfig{}, "3 labels for 4 samples"},
		{"no validation set", newStub(), noVal, SolverConfig{}, "validation X is nil"},
		{"decay > 1", newStub(), good, SolverConfig{LRDecay: 1.5}, "lr decay"},
		{"decay < 0", newStub(), good, SolverConfig{LRDecay: -0.5}, "lr decay"},
		{"batch size", newStub(), good, SolverConfig{BatchSize: -1}, "batch size"},
		{"epochs", newStub(), good, SolverConfig{NumEpochs: -2}, "epochs"},
		{"rule", newStub(), good, SolverConfig{UpdateRule: "lbfgs"}, "unknown update rule"},
		{"lr", newStub(), good, SolverConfig{Optim: optim.Config{LearningRate: -1}}, "learning rate"},
	}
	for _, c := range cases {
		_, err := NewSolver(c.m, c.d, c.cfg)
		wantError(t, c.what, err, c.frag)
	}
	// Labels outside the model's classes surface from the model's Loss.
	data, _ := blobs(t, 20, 4, 3, 1)
	data.YTrain[5] = 7
	net := fcNet(t, FCConfig{HiddenDims: []int{8}, InputDim: 4, NumClasses: 3})
	s, err := NewSolver(net, data, SolverConfig{BatchSize: 20, NumEpochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, "label out of range", s.Train(context.Background()), "outside [0, 3)")
}

// blobs is a seeded synthetic classification set: n training and n/2
// validation samples in d dimensions, each class a Gaussian blob around its
// own random centre (spread 1.5, so classes overlap a little).
func blobs(t *testing.T, n, d, classes int, seed uint64) (Data, *tensor.Tensor) {
	t.Helper()
	centres := randn(t, seed, classes, d)
	r := tensor.NewRand(seed + 1)
	make1 := func(n int) (*tensor.Tensor, []int) {
		X := tensor.MustNew(n, d)
		y := make([]int, n)
		for i := range y {
			y[i] = r.IntN(classes)
			for j := 0; j < d; j++ {
				X.Data[i*d+j] = centres.Data[y[i]*d+j] + 1.5*r.NormFloat64()
			}
		}
		return X, y
	}
	var data Data
	data.XTrain, data.YTrain = make1(n)
	data.XVal, data.YVal = make1(n / 2)
	return data, centres
}

// The course's sanity check: a net must overfit 50 samples to 100% train
// accuracy. Also: the same seed gives the same run, the final parameters
// are the best-validation ones, and with batchnorm the restored running
// statistics reproduce the best validation accuracy exactly.
func TestSolverOverfitsSmallData(t *testing.T) {
	data, _ := blobs(t, 50, 20, 5, 7)
	for _, norm := range []string{"none", "batchnorm"} {
		t.Run(norm, func(t *testing.T) {
			run := func(seed uint64) (*Solver, *FullyConnectedNet) {
				net := fcNet(t, FCConfig{HiddenDims: []int{100, 100}, InputDim: 20, NumClasses: 5, Normalization: norm, WeightScale: 1e-1, Seed: 3})
				s, err := NewSolver(net, data, SolverConfig{UpdateRule: "adam", Optim: optim.Config{LearningRate: 1e-3},
					LRDecay: 0.95, BatchSize: 10, NumEpochs: 30, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Train(context.Background()); err != nil {
					t.Fatal(err)
				}
				return s, net
			}
			s, net := run(1)
			best := 0.0
			for _, a := range s.TrainAccHistory {
				best = math.Max(best, a)
			}
			if best != 1 {
				t.Fatalf("train accuracy never reached 100%%: %v", s.TrainAccHistory)
			}
			if s.LossHistory[len(s.LossHistory)-1] > 0.1*s.LossHistory[0] {
				t.Fatalf("loss went from %v to %v", s.LossHistory[0], s.LossHistory[len(s.LossHistory)-1])
			}
			for name, p := range net.Params() {
				if e := maxAbsDiff(p, s.BestParams[name]); e != 0 {
					t.Fatalf("%s differs from the best parameters by %g", name, e)
				}
			}
			acc, err := s.Accuracy(data.XVal, data.YVal, 0)
			if err != nil {
				t.Fatal(err)
			}
			if acc != s.BestValAcc {
				t.Fatalf("restored net scores %v on validation, best was %v", acc, s.BestValAcc)
			}
			again, _ := run(1)
			other, _ := run(2)
			if !equalSlices(s.LossHistory, again.LossHistory) {
				t.Fatal("same seed, different loss history")
			}
			if equalSlices(s.LossHistory, other.LossHistory) {
				t.Fatal("different shuffling seeds gave the same loss history")
			}
		})
	}
}

func maxAbsDiff(a, b *tensor.Tensor) float64 {
	m := 0.0
	for i := range a.Data {
		m = math.Max(m, math.Abs(a.Data[i]-b.Data[i]))
	}
	return m
}

func equalSlices(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The conv net must overfit a small image set too (the course's
// "overfit small data" check for ThreeLayerConvNet).
func TestSolverOverfitsConvNet(t *testing.T) {
	const n = 50
	X := randn(t, 31, n, 3, 8, 8)
	y := randLabels(32, n, 10)
	data := Data{XTrain: X, YTrain: y, XVal: randn(t, 33, 10, 3, 8, 8), YVal: randLabels(34, 10, 10)}
	net, err := NewThreeLayerConvNet(ConvNetConfig{InputDims: [3]int{3, 8, 8}, NumFilters: 8, FilterSize: 3, HiddenDim: 50, WeightScale: 1e-1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSolver(net, data, SolverConfig{UpdateRule: "adam", Optim: optim.Config{LearningRate: 5e-3}, BatchSize: 10, NumEpochs: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	if last := s.TrainAccHistory[len(s.TrainAccHistory)-1]; last != 1 {
		t.Fatalf("train accuracy %v", s.TrainAccHistory)
	}
}
