package app

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"gradlab/core/nn"
)

func TestP5PageRendersEveryPart(t *testing.T) {
	html := render(t, &LayersPage{})
	mustContain(t, html, "Problem 5", `id="p5-run-all-cpu"`, `id="p5-run-all-gpu"`, `id="bn-graph"`,
		`id="p5-speed-run"`, `id="p5-deepbn-run"`, `id="p5-sweep-run"`, `id="p5-dropout-run"`, `href="/train"`,
		"What does it suggest about dropout?", "synthetic")
	for _, c := range LayerChecks() {
		mustContain(t, html, `id="p5-check-`+c.ID+`"`, `id="p5-cpu-`+c.ID+`"`, `id="p5-gpu-`+c.ID+`"`)
	}
	// Nothing runs before a click.
	if strings.Contains(html, `data-pass=`) {
		t.Error("pass marks before any check ran")
	}
}

// The graph's nodes carry the names of nn.BatchnormCache's fields: a
// renamed field (or a typo here) fails.
func TestP5GraphNamesMatchTheCache(t *testing.T) {
	typ := reflect.TypeOf(nn.BatchnormCache{})
	need := map[string]bool{"Mu": false, "Var": false, "Xhat": false}
	for _, n := range bnNodes {
		if n.Field == "" {
			continue
		}
		if _, ok := typ.FieldByName(n.Field); !ok {
			t.Errorf("node %s names cache field %q, which nn.BatchnormCache lacks", n.ID, n.Field)
		}
		if _, ok := need[n.Field]; ok {
			need[n.Field] = true
		}
	}
	for f, seen := range need {
		if !seen {
			t.Errorf("graph has no node for %s", f)
		}
	}
	html := render(t, &LayersPage{})
	g := byID(t, html, "bn-graph")
	for _, want := range []string{"X", "γ", "β", "μ", "σ²", "Z = x̂", "Y", "cache.Xhat"} {
		if !strings.Contains(g, want) {
			t.Errorf("graph lacks %q", want)
		}
	}
	if n := strings.Count(g, `class="bn-edge"`); n != len(bnEdges) {
		t.Errorf("%d edges drawn, want %d", n, len(bnEdges))
	}
}

// Results put into the page show up as pass marks, one per gradient.
func TestP5PageShowsCheckResults(t *testing.T) {
	pg := &LayersPage{}
	pg.init()
	want := 0
	for _, c := range LayerChecks() {
		errs, err := c.CPU()
		if err != nil {
			t.Fatal(err)
		}
		pg.cpu[c.ID].errs = errs
		want += len(errs)
	}
	pg.cpu["relu"].errs = []GradError{{Name: "dx", Err: 1e-3, Threshold: 1e-8}}
	html := render(t, pg)
	if n := strings.Count(html, `data-pass="yes"`); n != want-1 {
		t.Errorf("%d pass marks, want %d", n, want-1)
	}
	if n := strings.Count(html, `data-pass="no"`); n != 1 {
		t.Errorf("%d fail marks, want 1 (the planted relu error)", n)
	}
}

func TestP5BNSpeedMeasures(t *testing.T) {
	s, err := MeasureBNSpeed(3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Graph <= 0 || s.Alt <= 0 || s.Reps != 3 || s.Calls != bnSpeedCalls {
		t.Errorf("timings %+v", s)
	}
	// Both backward passes compute the same dx.
	if !(s.MaxDiff < 1e-9) {
		t.Errorf("graph and closed-form dx differ by %g", s.MaxDiff)
	}
}

// The deep-net experiment shows what the notebook claims: with batchnorm
// the 5-hidden-layer net fits its training set faster than without.
func TestP5DeepBNExperiment(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two nets")
	}
	var last float64
	h, err := RunDeepBN(context.Background(), func(f float64) {
		if f < last-1e-12 || f > 1+1e-12 {
			t.Errorf("progress went from %g to %g", last, f)
		}
		last = f
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Err != nil || h[1].Err != nil {
		t.Fatalf("runs %+v", h)
	}
	bn, plain := h[0].TrainAcc[len(h[0].TrainAcc)-1], h[1].TrainAcc[len(h[1].TrainAcc)-1]
	if !(bn > plain) {
		t.Errorf("final training accuracy with batchnorm %g, without %g: batchnorm should be ahead", bn, plain)
	}
	if last < 0.9 {
		t.Errorf("progress ended at %g", last)
	}
}

func TestP5SweepScalesAreLogspace(t *testing.T) {
	s := SweepScales()
	if len(s) != SweepPoints || math.Abs(s[0]-1e-4) > 1e-18 || math.Abs(s[len(s)-1]-1) > 1e-15 {
		t.Fatalf("scales %v", s)
	}
	for i := 1; i < len(s); i++ {
		if r := s[i] / s[i-1]; math.Abs(r-math.Pow(10, 4.0/float64(SweepPoints-1))) > 1e-12 {
			t.Errorf("ratio %g at %d", r, i)
		}
	}
}

// Finished experiments draw their plots; the sweep's x axis is log10 of
// the scale.
func TestP5ExperimentPlotsRender(t *testing.T) {
	pg := &LayersPage{}
	pg.init()
	pg.exps["sweep"].sweep = []SweepPoint{{Scale: 1e-4, BNVal: 0.3, PlainVal: 0.1, BNTrain: 0.3, PlainTrain: 0.1}, {Scale: 1, BNVal: 0.2, PlainVal: 0.15, BNTrain: 0.25, PlainTrain: 0.2}}
	h := func(name string, tr, va []float64) History {
		return History{Name: name, Loss: []float64{2.3, 2, 1.5}, TrainAcc: tr, ValAcc: va}
	}
	pg.exps["dropout"].hist = []History{h("no dropout", []float64{0.1, 0.9, 1}, []float64{0.1, 0.5, 0.6}), h("dropout", []float64{0.1, 0.7, 0.8}, []float64{0.1, 0.5, 0.62})}
	pg.exps["deepbn"].hist = pg.exps["dropout"].hist
	html := render(t, pg)
	mustContain(t, html, `id="p5-sweep-plot"`, `id="p5-dropout-plot"`, `id="p5-deepbn-loss"`, `id="p5-deepbn-acc"`, "log10(weight scale)")
	a := byID(t, html, "p5-dropout-answer")
	mustContain(t, a, "gap 0.40", "gap 0.18", "narrowed the gap and validation accuracy held or improved")
}

// Leaving the page cancels training: a cancelled context ends a run with
// the context's error rather than training on.
func TestP5ExperimentsStopWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, run := range map[string]func(context.Context, progressFn) ([]History, error){"deepbn": RunDeepBN, "dropout": RunDropoutReg} {
		if _, err := run(ctx, nil); err != context.Canceled {
			t.Errorf("%s: error %v, want context.Canceled", name, err)
		}
	}
	if _, err := RunScaleSweep(ctx, nil); err != context.Canceled {
		t.Errorf("sweep: error %v, want context.Canceled", err)
	}
}
