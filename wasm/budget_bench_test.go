//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkFirstInteractive measures issue 5's budgets on localhost in
// headless Chromium: the time from navigation until go-app's wasm program has
// rendered the home page (main[data-runtime=wasm], the same marker the
// browser tests wait for), cold (a new browser profile: nothing cached, the
// service worker not yet installed) and warm (the same profile again); and
// the size of app.wasm, raw and gzipped. Budgets: first interactive page
// ≤ 1.5 s, app.wasm ≤ 5 MB gzipped.
//
//	go test ./wasm -run '^$' -bench FirstInteractive -benchtime 5x
func BenchmarkFirstInteractive(b *testing.B) {
	site := testSite(b)
	raw, err := os.ReadFile(filepath.Join(site, "web", "app.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	url := serve(b, site, "")
	load := func(tb *tab) time.Duration {
		start := time.Now()
		tb.do(b, "first interactive", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(`main[data-runtime="wasm"]`)))
		return time.Since(start)
	}
	report := func(b *testing.B, total time.Duration) {
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/load")
		b.ReportMetric(float64(len(raw))/1e6, "MB-wasm")
		b.ReportMetric(float64(gz.Len())/1e6, "MB-wasm-gzip")
	}
	b.Run("cold", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			total += load(newTab(b, newBrowser(b)))
		}
		report(b, total)
	})
	b.Run("warm", func(b *testing.B) {
		tb := newTab(b, newBrowser(b))
		load(tb)
		var total time.Duration
		for b.Loop() {
			total += load(tb)
		}
		report(b, total)
	})
}
