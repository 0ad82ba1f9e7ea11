//go:build !js

package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gradlab/app"
	"gradlab/core/data"

	"github.com/chromedp/chromedp"
)

// BenchmarkBrowserTrain is issue 4's in-browser figure: images/s training
// the reference CNN (1x28x28, batchnorm, dropout 0.5) on Fashion-MNIST in
// headless Chromium's WebGPU, gradlab's /train page against TensorFlow.js
// 4.22's webgpu backend in the same browser, on the same adapter (here
// SwiftShader), with the same batch, optimizer (SGD momentum 0.9), data
// and normalisation. Both read the loss back after every step. Each side
// runs -browser-warmup steps first (pipeline and shader compilation), then
// -browser-steps timed ones; the ratio is from the same benchmark run.
//
//	go test ./wasm -run '^$' -bench BrowserTrain -benchtime 1x
//
// TF.js's bundles come from shared/bench/tfjs/setup.sh's npm install
// ($GRADLAB_TFJS, default /tmp/gradlab-tfjs/node_modules/@tensorflow); the
// dataset pack from a site built with its data (./build.sh site).
func BenchmarkBrowserTrain(b *testing.B) {
	site := testSite(b)
	pack := filepath.Join(site, "web", "data", data.FashionPackFile)
	if _, err := os.Stat(pack); err != nil {
		b.Skipf("the site has no Fashion-MNIST pack (./build.sh site builds one): %v", err)
	}
	tfjsDir := cmp.Or(os.Getenv("GRADLAB_TFJS"), "/tmp/gradlab-tfjs/node_modules/@tensorflow")
	bundles := map[string]string{
		"/tfjs/tf-core.min.js":           filepath.Join(tfjsDir, "tfjs-core", "dist", "tf-core.min.js"),
		"/tfjs/tf-backend-webgpu.min.js": filepath.Join(tfjsDir, "tfjs-backend-webgpu", "dist", "tf-backend-webgpu.min.js"),
		"/tfjs/tf-layers.min.js":         filepath.Join(tfjsDir, "tfjs-layers", "dist", "tf-layers.min.js"),
	}
	for _, f := range bundles {
		if _, err := os.Stat(f); err != nil {
			b.Skipf("TensorFlow.js not installed (. shared/bench/tfjs/setup.sh /tmp/gradlab-tfjs, or set GRADLAB_TFJS): %v", err)
		}
	}
	mux := http.NewServeMux()
	for path, file := range bundles {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) })
	}
	mux.Handle("/bench/", http.StripPrefix("/bench/", http.FileServer(http.Dir(filepath.Join("..", "bench", "browser")))))
	mux.Handle("/", trainHandler(b, site))
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)

	cfg := browserRun{Batch: *browserBatch, Warmup: *browserWarmup, Steps: *browserSteps, LR: 0.01}
	for b.Loop() {
		ours := gradlabBrowserTrain(b, srv.URL, cfg)
		peer := tfjsBrowserTrain(b, srv.URL, cfg)
		b.Logf("batch %d, %d timed steps after %d warm-up: gradlab %.1f images/s (%.0f ms/step, loss %.3f -> %.3f); TF.js %.1f images/s (%.0f ms/step, loss %.3f -> %.3f); gradlab %.2fx",
			cfg.Batch, cfg.Steps, cfg.Warmup, ours.ImgPerS, ours.MsPerStep, ours.First, ours.Last,
			peer.ImgPerS, peer.MsPerStep, peer.First, peer.Last, ours.ImgPerS/peer.ImgPerS)
		b.ReportMetric(ours.ImgPerS, "gradlab-img/s")
		b.ReportMetric(peer.ImgPerS, "tfjs-img/s")
		b.ReportMetric(ours.ImgPerS/peer.ImgPerS, "x-tfjs")
	}
}

var (
	browserBatch  = flag.Int("browser-batch", 32, "BenchmarkBrowserTrain: batch size")
	browserWarmup = flag.Int("browser-warmup", 2, "BenchmarkBrowserTrain: untimed steps before the timed ones")
	browserSteps  = flag.Int("browser-steps", 6, "BenchmarkBrowserTrain: timed steps")
)

type browserRun struct {
	Batch, Warmup, Steps int
	LR                   float64
}

type browserResult struct {
	ImgPerS, MsPerStep float64
	First, Last        float64 // the first and last loss read back
}

// gradlabBrowserTrain trains on the /train page and times the steps from
// the page's own loss curve: a MutationObserver stamps each update of
// data-losses with performance.now(), so the clock is the page's, not the
// round trips of the DevTools protocol.
func gradlabBrowserTrain(b *testing.B, root string, c browserRun) browserResult {
	b.Helper()
	tb := newTab(b, newBrowser(b))
	tb.open(b, root+app.TrainPath)
	tb.do(b, "waiting for the GPU check", chromedp.WaitVisible(chromedp.CSS(`#train-page[data-device="gpu"], #train-page[data-device="cpu"]`)))
	if dev := eval[string](b, tb, `document.getElementById('train-page').dataset.device`); dev != "gpu" {
		b.Fatalf("the page found no WebGPU adapter (device %q)", dev)
	}
	// A subset just large enough for the steps (a fifth is held out for
	// validation) keeps the run under 80 steps, where the page reads the
	// loss back after every step (app's trainOptions.config: every
	// total/40 steps, at least 1).
	total := c.Warmup + c.Steps + 1
	if total >= 80 {
		b.Fatalf("%d steps: the page reads the loss every step only below 80", total)
	}
	for id, v := range map[string]string{
		"train-model": "reference", "train-dataset": "fashion", "train-optimizer": "sgd_momentum",
		"train-schedule": "constant", "train-lr": strconv.FormatFloat(c.LR, 'g', -1, 64),
		"train-batch": strconv.Itoa(c.Batch), "train-epochs": "1", "train-dropout": "0.5",
		"train-subset": strconv.Itoa(total*c.Batch*5/4 + c.Batch), "train-seed": "1",
	} {
		setInput(b, tb, id, v)
	}
	if !eval[bool](b, tb, `document.getElementById('train-bn').checked`) {
		b.Fatal("batchnorm is off in the form")
	}
	_ = eval[bool](b, tb, `(() => { window.__marks = [];
		new MutationObserver(() => {
			const ls = JSON.parse(document.getElementById('train-curves')?.dataset.losses || '[]');
			if (ls.length) window.__marks.push([ls[ls.length - 1][0], ls[ls.length - 1][1], performance.now()]);
		}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-losses']});
		return true; })()`)
	want := c.Warmup + c.Steps
	tb.do(b, "starting", chromedp.Click(chromedp.ID("train-start")))
	err := waitWithProgress(b, tb, "gradlab",
		fmt.Sprintf(`window.__marks.some(m => m[0] >= %d) || ['done', 'error'].includes(document.getElementById('train-page').dataset.phase)`, want),
		fmt.Sprintf(`'step ' + (window.__marks.length ? window.__marks[window.__marks.length - 1][0] : 0) + ' of %d'`, want))
	if err != nil {
		b.Fatalf("gradlab training: %v (status %q)", err, eval[string](b, tb, `document.getElementById('train-status')?.textContent ?? ''`))
	}
	if msg := eval[string](b, tb, `document.getElementById('train-error')?.textContent ?? ''`); msg != "" {
		b.Fatalf("gradlab training failed: %s", msg)
	}
	var marks [][3]float64
	if err := json.Unmarshal([]byte(eval[string](b, tb, `JSON.stringify(window.__marks)`)), &marks); err != nil {
		b.Fatal(err)
	}
	// From the first update at or past the warm-up to the first at or past
	// the end: the steps between them over the time between them.
	var from, to *[3]float64
	for i := range marks {
		if from == nil && marks[i][0] >= float64(c.Warmup) {
			from = &marks[i]
		}
		if to == nil && marks[i][0] >= float64(want) {
			to = &marks[i]
		}
	}
	if from == nil || to == nil || to[0] <= from[0] {
		b.Fatalf("the page's loss curve has no timed window: %v", marks)
	}
	secs := (to[2] - from[2]) / 1000
	steps := to[0] - from[0]
	tb.do(b, "stopping", chromedp.Click(chromedp.ID("train-stop")))
	b.Logf("gradlab: %v steps in %.1f s after the warm-up", steps, secs)
	r := browserResult{ImgPerS: steps * float64(c.Batch) / secs, MsPerStep: secs * 1000 / steps, First: marks[0][1], Last: to[1]}
	checkFinite(b, "gradlab", r)
	return r
}

// tfjsBrowserTrain runs bench/browser/tfjs_train.html in a fresh browser.
func tfjsBrowserTrain(b *testing.B, root string, c browserRun) browserResult {
	b.Helper()
	tb := newTab(b, newBrowser(b))
	q := url.Values{
		"pack": {"/web/data/" + data.FashionPackFile}, "batch": {strconv.Itoa(c.Batch)},
		"warmup": {strconv.Itoa(c.Warmup)}, "steps": {strconv.Itoa(c.Steps)},
		"lr": {strconv.FormatFloat(c.LR, 'g', -1, 64)}, "seed": {"1"},
	}
	tb.do(b, "loading the TF.js page", chromedp.Navigate(root+"/bench/tfjs_train.html?"+q.Encode()))
	err := waitWithProgress(b, tb, "TF.js", `window.__result !== undefined`,
		`(document.getElementById('log')?.textContent ?? '').trim().split('\n').pop()`)
	if err != nil {
		b.Fatalf("TF.js training: %v (log %q)", err, eval[string](b, tb, `document.getElementById('log')?.textContent ?? ''`))
	}
	var res struct {
		Error     string    `json:"error"`
		ImgPerS   float64   `json:"img_per_s"`
		MsPerStep float64   `json:"ms_per_step"`
		Losses    []float64 `json:"losses"`
		Params    int       `json:"params"`
		Adapter   string    `json:"adapter"`
		TFJS      string    `json:"tfjs"`
	}
	if err := json.Unmarshal([]byte(eval[string](b, tb, `JSON.stringify(window.__result)`)), &res); err != nil {
		b.Fatal(err)
	}
	if res.Error != "" {
		b.Fatalf("TF.js: %s", res.Error)
	}
	b.Logf("TF.js %s on %q, %d parameters (BN's moving statistics included)", res.TFJS, res.Adapter, res.Params)
	r := browserResult{ImgPerS: res.ImgPerS, MsPerStep: res.MsPerStep, First: res.Losses[0], Last: res.Losses[len(res.Losses)-1]}
	checkFinite(b, "TF.js", r)
	return r
}

// waitWithProgress waits up to 15 minutes for done (a JS condition), printing
// what status (a JS string) says whenever it changes: a benchmark's log
// lines only appear at its end, and these runs take minutes.
func waitWithProgress(b *testing.B, tb *tab, who, done, status string) error {
	b.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	last := ""
	for {
		if eval[bool](b, tb, done) {
			return nil
		}
		if now := eval[string](b, tb, status); now != last {
			last = now
			fmt.Fprintf(os.Stderr, "  %s: %s\n", who, now)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after 15 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func checkFinite(b *testing.B, who string, r browserResult) {
	b.Helper()
	for _, v := range []float64{r.ImgPerS, r.First, r.Last} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			b.Fatalf("%s: %+v is not a finite, positive measurement", who, r)
		}
	}
}
