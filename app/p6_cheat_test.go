package app

import (
	"regexp"
	"strings"
	"testing"

	"gradlab/core/net"
	"gradlab/core/train"
)

func TestCheatSectionBeforeRunning(t *testing.T) {
	html := render(t, &CheatExperiment{})
	mustContain(t, html, `id="p6-i"`, `id="p6-i-run"`, `id="p6-i-status"`, "corner pixels", `id="p6-i-n"`)
	for _, no := range []string{"data-placeholder", "p6-i-result", "p6-i-progress"} {
		if strings.Contains(html, no) {
			t.Errorf("section shows %q before anything ran", no)
		}
	}
}

func TestCheatSectionShowsAResult(t *testing.T) {
	r := &train.CheatResult{Device: "CPU", TrainImages: 100, TestImages: 50, Seconds: 2,
		NoDropout:   train.CheatRun{Label: "without dropout", TrainAcc: 1, CleanTestAcc: 0.25, CheatTestAcc: 0.98, Result: &train.Result{}},
		WithDropout: train.CheatRun{Label: "with input dropout p = 0.5", Dropout: 0.5, TrainAcc: 0.9, CleanTestAcc: 0.7, CheatTestAcc: 0.9, Result: &train.Result{}},
	}
	c := &CheatExperiment{result: r, device: "CPU (test)"}
	html := render(t, c)
	// The cells come from the result given, so the table shows its numbers.
	mustContain(t, html, `id="p6-i-nodrop"`, `id="p6-i-drop"`, "25%", "70%", "73 points", "20 points", "CPU (test)")
	if strings.Contains(html, `id="p6-i-status"`) {
		t.Error("the not-run notice stays next to a result")
	}
}

func TestCheatSectionConfigIsAValidExperiment(t *testing.T) {
	c := &CheatExperiment{}
	c.defaults()
	cfg, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Train.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Spec.Plan(); err != nil {
		t.Fatal(err)
	}
	for _, l := range cfg.Spec.Layers {
		if l.Kind == net.Dropout {
			t.Errorf("the base network has dropout: %v", cfg.Spec)
		}
	}
	if cfg.Spec.C != 1 || cfg.Spec.H != 28 || cfg.Dropout != 0.5 {
		t.Errorf("config %+v", cfg)
	}
}

func TestCheatSectionPlacementReachesTheExperiment(t *testing.T) {
	c := &CheatExperiment{}
	c.defaults()
	c.placement = "hidden"
	cfg, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	d, err := train.WithDropout(cfg.Spec, cfg.Placement, cfg.Dropout)
	if err != nil {
		t.Fatal(err)
	}
	if d.Layers[0].Kind == net.Dropout || d.Layers[2].Kind != net.Dropout {
		t.Errorf("hidden placement gave %v", d)
	}
	html := render(t, c)
	mustContain(t, html, `id="p6-i-at"`)
	// go-app writes an element's attributes in map order, so both orders
	// are the same selected option.
	if !regexp.MustCompile(`<option (value="hidden" selected|selected value="hidden")>`).MatchString(html) {
		t.Error(`page lacks the selected option value="hidden"`)
	}
}
