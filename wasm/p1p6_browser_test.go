//go:build !js

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gradlab/core/data"
)

// Problem 1's GPU timing in headless Chromium (SwiftShader WebGPU): the
// button runs the traditional and the separable layers, times appear, and
// the separable output matches the composed full convolution.
func TestBrowserP1GPUTiming(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p1")
	tb.do(t, "pressing Measure", chromedp.Click(chromedp.CSS("#p1-gpu-run")))
	tb.do(t, "waiting for the GPU result",
		chromedp.Poll[chromedp.Void](`!!document.querySelector('#p1-gpu-result, #p1-gpu-error, #p1-gpu-nogpu')`))
	if e := text(t, tb, "#p1-gpu-error") + text(t, tb, "#p1-gpu-nogpu"); e != "" {
		t.Fatalf("the GPU run failed: %s", e)
	}
	if c := text(t, tb, "#p1-gpu-check"); !strings.Contains(c, "equals the full convolution") {
		t.Errorf("separable check: %q", c)
	}
	for _, id := range []string{"#p1-gpu-trad", "#p1-gpu-dw", "#p1-gpu-pw", "#p1-gpu-sep"} {
		cell := text(t, tb, id+" td:nth-child(3)")
		ms, err := strconv.ParseFloat(strings.TrimSuffix(cell, " ms"), 64)
		if err != nil || !(ms > 0) || !strings.HasSuffix(cell, " ms") {
			t.Errorf("%s: time %q is not a positive number of ms", id, cell)
		}
		t.Logf("%s: %s", id, text(t, tb, id))
	}
	if a := text(t, tb, "#p1-gpu-adapter"); !strings.HasPrefix(a, "Adapter: ") || len(a) < 12 {
		t.Errorf("adapter line %q", a)
	}
	tb.checkNoErrors(t, "/p1 GPU timing")
}

// Problem 6 (i) in the browser on a site that serves a tiny Fashion-MNIST
// pack (500 training and 300 test images), one epoch: the point is that the
// whole path runs (download, GPU or CPU training, table), not the effect.
func TestBrowserP6CheatRuns(t *testing.T) {
	trainSet, testSet, err := data.LoadIDXDir("fashion-mnist", data.FashionMNISTDir)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("no Fashion-MNIST: %v", err)
	}
	if trainSet, err = trainSet.Subset("train", data.Permutation(trainSet.N, 1)[:500]); err != nil {
		t.Fatal(err)
	}
	if testSet, err = testSet.Subset("test", data.Permutation(testSet.N, 2)[:300]); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	f, err := os.Create(filepath.Join(dataDir, data.FashionPackFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := data.WritePackGzip(f, trainSet, testSet); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(t.TempDir(), "site")
	if _, err := BuildSite(SiteConfig{Dir: site, Wasm: filepath.Join(testSite(t), "web", "app.wasm"), Data: dataDir}); err != nil {
		t.Fatal(err)
	}
	browser := newBrowser(t)
	root := serve(t, site, "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p6")
	setField(t, tb, "#p6-i-n", "500")
	setField(t, tb, "#p6-i-epochs", "1")
	tb.do(t, "pressing Run", chromedp.Click(chromedp.CSS("#p6-i-run")))
	tb.do(t, "waiting for the cheat results",
		chromedp.Poll[chromedp.Void](`!!document.querySelector('#p6-i-result, #p6-i-error')`))
	if e := text(t, tb, "#p6-i-error"); e != "" {
		t.Fatalf("the experiment failed: %s", e)
	}
	for _, id := range []string{"#p6-i-nodrop", "#p6-i-drop"} {
		if row := text(t, tb, id); strings.Count(row, "%") != 3 || !strings.Contains(row, "points") {
			t.Errorf("%s: %q, want three accuracies and the reliance", id, row)
		}
	}
	d := text(t, tb, "#p6-i-device")
	if !strings.Contains(d, "500 training images") || !strings.Contains(d, "300 test images") {
		t.Errorf("device line %q", d)
	} else if !strings.Contains(d, "GPU: ") {
		// --enable-unsafe-webgpu gives Chromium a SwiftShader adapter, so
		// the page must have trained on WebGPU, not the CPU fallback.
		t.Errorf("trained on %q, want the WebGPU adapter", d)
	}
	t.Log(d)
	t.Log(text(t, tb, "#p6-i-nodrop"), " | ", text(t, tb, "#p6-i-drop"))
	tb.checkNoErrors(t, "/p6 cheating experiment")
}
