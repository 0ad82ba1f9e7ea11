//go:build !js

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gradlab/app"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The problem-5 page in headless Chromium (SwiftShader WebGPU): "run all"
// CPU gradient checks pass the course thresholds, and the GPU kernels pass
// their f32 bounds against the float64 layers, with no console errors.

// p5Wait clicks a button and waits until the check list's sequence counter
// (data-cpu-seq or data-gpu-seq) moves past its value before the click.
func p5Wait(t *testing.T, tb *tab, button, seqAttr string) {
	t.Helper()
	read := fmt.Sprintf(`+document.getElementById('p5-check-list').dataset.%s`, seqAttr)
	seq := eval[int](t, tb, read)
	tb.do(t, "clicking "+button, chromedp.Click(chromedp.CSS("#"+button)))
	ctx, cancel := context.WithTimeout(tb.ctx, 3*pageTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s > %d`, read, seq), chromedp.WithPollingTimeout(3*pageTimeout))); err != nil {
		tb.screenshot(t, "p5-stuck")
		t.Fatalf("waiting for %s: %v", button, err)
	}
}

// p5Marks returns the pass marks ("yes"/"no") inside an element.
func p5Marks(t *testing.T, tb *tab, id string) []string {
	return eval[[]string](t, tb, fmt.Sprintf(`[...document.querySelectorAll('#%s [data-pass]')].map(e => e.dataset.pass)`, id))
}

func TestBrowserP5LayerChecks(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	p, err := app.ProblemByNumber(5)
	if err != nil {
		t.Fatal(err)
	}
	tb.open(t, root+p.Path)
	if href := eval[string](t, tb, `document.getElementById('p5-train-link').getAttribute('href')`); !strings.HasSuffix(href, app.TrainPath) {
		t.Errorf("training link %q", href)
	}

	p5Wait(t, tb, "p5-run-all-cpu", "cpuSeq")
	for _, c := range app.LayerChecks() {
		marks := p5Marks(t, tb, "p5-cpu-res-"+c.ID)
		if len(marks) == 0 {
			t.Errorf("%s: no CPU result: %s", c.ID, eval[string](t, tb, `document.getElementById('p5-cpu-res-`+c.ID+`').textContent`))
		}
		for _, m := range marks {
			if m != "yes" {
				t.Errorf("%s: CPU check failed: %s", c.ID, eval[string](t, tb, `document.getElementById('p5-cpu-res-`+c.ID+`').textContent`))
				break
			}
		}
	}

	p5Wait(t, tb, "p5-run-all-gpu", "gpuSeq")
	note := eval[string](t, tb, `document.getElementById('p5-gpu-note')?.textContent ?? ''`)
	t.Logf("GPU: %s", note)
	for _, c := range app.LayerChecks() {
		if c.GPU == nil {
			continue
		}
		res := eval[string](t, tb, `document.getElementById('p5-gpu-res-`+c.ID+`').textContent`)
		marks := p5Marks(t, tb, "p5-gpu-res-"+c.ID)
		if len(marks) == 0 {
			t.Errorf("%s: no GPU result: %s", c.ID, res)
		}
		for _, m := range marks {
			if m != "yes" {
				t.Errorf("%s: GPU check failed: %s", c.ID, res)
				break
			}
		}
	}
	tb.screenshot(t, "p5-layers-checks")
	tb.checkNoErrors(t, p.Path)

	// The speed-up is measured, and two experiments train and plot.
	tb.do(t, "measuring the batchnorm speed-up", chromedp.Click(chromedp.CSS("#p5-speed-run")))
	p5WaitFor(t, tb, `(document.getElementById('p5-speed-result')?.textContent ?? '').includes('faster')`)
	t.Logf("speed-up: %s", eval[string](t, tb, `document.getElementById('p5-speed-result').textContent`))
	for _, exp := range []struct{ button, plot string }{{"p5-deepbn-run", "p5-deepbn-acc"}, {"p5-dropout-run", "p5-dropout-plot"}} {
		tb.do(t, "clicking "+exp.button, chromedp.Click(chromedp.CSS("#"+exp.button)))
		p5WaitFor(t, tb, fmt.Sprintf(`document.querySelectorAll('#%s polyline.series').length >= 4`, exp.plot))
	}
	if a := eval[string](t, tb, `document.getElementById('p5-dropout-answer').textContent`); !strings.Contains(a, "Last epoch: without dropout train") {
		t.Errorf("dropout answer does not cite the run: %q", a)
	}
	tb.screenshot(t, "p5-layers")
	tb.checkNoErrors(t, p.Path+" experiments")
}

// p5WaitFor polls a JS condition with a long deadline (training in wasm).
func p5WaitFor(t *testing.T, tb *tab, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(pageTimeout))); err != nil {
		tb.screenshot(t, "p5-stuck")
		t.Fatalf("waiting for %s: %v", cond, err)
	}
}

// Without WebGPU the GPU checks say so and why, the CPU checks still run,
// and nothing reaches the console as an error.
func TestBrowserP5WithoutWebGPU(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.do(t, "hiding WebGPU", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: `Object.defineProperty(Navigator.prototype, "gpu", {get: () => undefined});`})
		return err
	}))
	p, err := app.ProblemByNumber(5)
	if err != nil {
		t.Fatal(err)
	}
	tb.open(t, root+p.Path)
	p5Wait(t, tb, "p5-gpu-relu", "gpuSeq")
	note := eval[string](t, tb, `document.getElementById('p5-gpu-note')?.textContent ?? ''`)
	if !strings.Contains(note, "No GPU device") || !strings.Contains(note, "navigator.gpu is missing") {
		t.Errorf("GPU note %q: want it to say there is no device and why", note)
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#p5-gpu-res-relu [role=alert]').length`); n != 1 {
		t.Errorf("relu GPU result shows %d errors, want 1", n)
	}
	p5Wait(t, tb, "p5-cpu-relu", "cpuSeq")
	if m := p5Marks(t, tb, "p5-cpu-res-relu"); len(m) != 1 || m[0] != "yes" {
		t.Errorf("relu CPU check without WebGPU: marks %v", m)
	}
	tb.screenshot(t, "p5-no-webgpu")
	tb.checkNoErrors(t, p.Path+" without WebGPU")
}

// On a phone the result tables and the graph fit the screen.
func TestBrowserP5PhoneLayout(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.do(t, "emulating a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p, err := app.ProblemByNumber(5)
	if err != nil {
		t.Fatal(err)
	}
	tb.open(t, root+p.Path)
	// Single checks, the GPU one first on a fresh page: its first result
	// adds the adapter note above every card, a re-render the results must
	// survive.
	p5Wait(t, tb, "p5-gpu-bn", "gpuSeq")
	p5Wait(t, tb, "p5-cpu-bn", "cpuSeq")
	for _, id := range []string{"p5-cpu-res-bn", "p5-gpu-res-bn"} {
		if m := p5Marks(t, tb, id); len(m) == 0 || slices.Contains(m, "no") {
			t.Errorf("%s: marks %v", id, m)
		}
	}
	if w := eval[[]int](t, tb, "[document.documentElement.scrollWidth, window.innerWidth]"); w[0] > w[1] {
		t.Errorf("the layers page with results is %dpx wide in a %dpx viewport", w[0], w[1])
	}
	tb.screenshot(t, "p5-phone")
	tb.checkNoErrors(t, "p5 phone")
}
