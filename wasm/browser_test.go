//go:build !js

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gradlab/app"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests open the real site in Debian's headless Chromium. They
// use the site in $GRADLAB_SITE when set (./build.sh test builds it once);
// otherwise they build app.wasm and the site themselves, so plain
// `go test ./...` runs them too.

const pageTimeout = 90 * time.Second

var screenshotDir = filepath.Join("..", "testdata", "browser", "screenshots")

var (
	siteOnce    sync.Once
	siteDir     string
	siteErr     error
	siteCleanup func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if siteCleanup != nil {
		siteCleanup()
	}
	os.Exit(code)
}

// chromiumPath finds Chromium, failing in CI (where a skip would hide that
// the browser tests never ran) and skipping elsewhere.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, c := range []string{os.Getenv("GRADLAB_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found and CI=true: the browser tests must run in CI (apt-get install -y chromium)")
	}
	t.Skip("chromium not found: skipping the browser tests (apt-get install -y chromium, or set GRADLAB_CHROMIUM)")
	return ""
}

// testSite returns a built site: $GRADLAB_SITE, or one built once per run.
func testSite(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("GRADLAB_SITE"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "web", "app.wasm")); err != nil {
			t.Fatalf("GRADLAB_SITE=%s has no web/app.wasm: %v", d, err)
		}
		return d
	}
	siteOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "gradlab-browser-")
		if err != nil {
			siteErr = err
			return
		}
		siteCleanup = func() { os.RemoveAll(tmp) }
		wasm := filepath.Join(tmp, "app.wasm")
		cmd := exec.Command("go", "build", "-o", wasm, ".")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			siteErr = fmt.Errorf("building app.wasm: %v\n%s", err, out)
			return
		}
		siteDir = filepath.Join(tmp, "site")
		_, siteErr = BuildSite(SiteConfig{Dir: siteDir, Wasm: wasm})
	})
	if siteErr != nil {
		t.Fatal(siteErr)
	}
	return siteDir
}

// serve serves dir on a loopback port and returns the site's root URL.
func serve(t testing.TB, dir, base string) string {
	t.Helper()
	h, err := NewFileServer(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + base
}

// newBrowser starts headless Chromium with the flags platform.md lists; the
// WebGPU one lets SwiftShader provide an adapter without a GPU.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// tab is one browser tab that records console errors and uncaught
// exceptions from the moment it opens.
type tab struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newTab(t testing.TB, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tb := &tab{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				tb.mu.Lock()
				tb.errors = append(tb.errors, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// do runs steps with a per-call deadline, leaving the tab open after it.
func (tb *tab) do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t testing.TB, tb *tab, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// open loads url and waits until go-app's wasm program has rendered the
// page: the pre-rendered HTML already shows the same text, so the marker is
// the data-runtime attribute only the browser side sets.
func (tb *tab) open(t testing.TB, url string) {
	t.Helper()
	tb.do(t, "loading "+url,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`main[data-runtime="wasm"]`)),
	)
}

func (tb *tab) checkNoErrors(t testing.TB, where string) {
	t.Helper()
	// One more round trip lets console events that are in flight arrive.
	_ = eval[int](t, tb, "1")
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, e := range tb.errors {
		t.Errorf("%s: console: %s", where, e)
	}
	tb.errors = nil
}

func (tb *tab) screenshot(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func routeName(route string) string {
	if route == "/" {
		return "home"
	}
	return strings.Trim(route, "/")
}

// navHrefs are the problem links of the header, as the page has them.
const navHrefs = `[...document.querySelectorAll('.nav-list a')].map(a => a.getAttribute('href'))`

func TestBrowserEveryRouteRenders(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	var wantHrefs []string
	for _, p := range app.Problems {
		wantHrefs = append(wantHrefs, p.Path)
	}
	for _, route := range app.RoutePaths() {
		t.Run(routeName(route), func(t *testing.T) {
			tb := newTab(t, browser)
			start := time.Now()
			tb.open(t, root+route)
			t.Logf("%s rendered by wasm after %v", route, time.Since(start).Round(time.Millisecond))
			if got := eval[[]string](t, tb, navHrefs); !slices.Equal(got, wantHrefs) {
				t.Errorf("navigation links %v, want %v", got, wantHrefs)
			}
			if lang := eval[string](t, tb, "document.documentElement.lang"); lang != "en" {
				t.Errorf("html lang = %q", lang)
			}
			h1 := eval[string](t, tb, "document.querySelector('h1').textContent")
			title := eval[string](t, tb, "document.title")
			if route == "/" {
				checkHome(t, tb, wantHrefs)
			} else {
				p := app.Problems[slices.Index(wantHrefs, route)]
				want := fmt.Sprintf("Problem %d · %s", p.Number, p.Title)
				if h1 != want || !strings.HasPrefix(title, want) {
					t.Errorf("h1 %q, title %q; want both to be %q", h1, title, want)
				}
				if cur := eval[string](t, tb, `document.querySelector('.nav-list a[aria-current="page"]')?.getAttribute('href') ?? ''`); cur != route {
					t.Errorf("navigation marks %q as current, want %q", cur, route)
				}
			}
			tb.screenshot(t, routeName(route))
			tb.checkNoErrors(t, route)
		})
	}
}

// checkHome waits for the WebGPU check and reads the problem list.
func checkHome(t *testing.T, tb *tab, wantHrefs []string) {
	t.Helper()
	tb.do(t, "waiting for the WebGPU check",
		chromedp.WaitVisible(chromedp.CSS(`#gpu-status:not([data-state="checking"])`)))
	state := eval[string](t, tb, "document.getElementById('gpu-status').dataset.state")
	text := eval[string](t, tb, "document.getElementById('gpu-status').textContent")
	t.Logf("WebGPU status: %s: %s", state, text)
	// --enable-unsafe-webgpu gives Chromium a SwiftShader adapter even
	// without a GPU (platform.md), so anything else is a bug in the check.
	if state != string(app.GPUWebGPU) || !strings.Contains(text, "WebGPU is available: vendor") {
		t.Errorf("WebGPU status %q %q; want the webgpu state with the adapter's details", state, text)
	}
	hrefs := eval[[]string](t, tb, `[...document.querySelectorAll('ol.problems > li a')].map(a => a.getAttribute('href'))`)
	if !slices.Equal(hrefs, wantHrefs) {
		t.Errorf("home lists %v, want %v", hrefs, wantHrefs)
	}
	titles := eval[[]string](t, tb, `[...document.querySelectorAll('ol.problems .problem-title')].map(e => e.textContent)`)
	for i, p := range app.Problems {
		if i >= len(titles) || titles[i] != p.Title {
			t.Errorf("home problem %d title %v, want %q", p.Number, titles, p.Title)
			break
		}
	}
}

func TestBrowserKeyboardAndInAppNavigation(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/")
	// The first Tab lands on the skip link, the second on the brand link.
	tb.do(t, "pressing Tab", chromedp.KeyEvent("\t"))
	if c := eval[string](t, tb, "document.activeElement.className"); c != "skip-link" {
		t.Errorf("first Tab focuses %q, want the skip link", c)
	}
	tb.do(t, "pressing Tab", chromedp.KeyEvent("\t"))
	if c := eval[string](t, tb, "document.activeElement.className"); c != "brand" {
		t.Errorf("second Tab focuses %q, want the brand link", c)
	}
	// A focused link must show an outline (focus styles are not removed).
	if o := eval[string](t, tb, "getComputedStyle(document.activeElement).outlineStyle"); o == "none" {
		t.Error("focused link has no outline")
	}
	// Following a link must route inside the app, without a page load:
	// the marker set on window survives only then.
	_ = eval[bool](t, tb, "window.__sameDocument = true")
	tb.do(t, "clicking problem 5",
		chromedp.Click(chromedp.CSS(`ol.problems a[href="/p5"]`)),
		chromedp.Poll[chromedp.Void](`location.pathname === '/p5' && document.querySelector('main[data-runtime="wasm"] h1')?.textContent.startsWith('Problem 5')`),
	)
	if h1 := eval[string](t, tb, "document.querySelector('h1').textContent"); !strings.HasPrefix(h1, "Problem 5") {
		t.Errorf("after the click h1 is %q", h1)
	}
	if path := eval[string](t, tb, "location.pathname"); path != "/p5" {
		t.Errorf("after the click the path is %q", path)
	}
	if !eval[bool](t, tb, "window.__sameDocument === true") {
		t.Error("clicking a problem reloaded the page instead of routing in the app")
	}
	tb.checkNoErrors(t, "keyboard and navigation")
}

func TestBrowserPhoneLayout(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.do(t, "emulating a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, route := range []string{"/", "/p2"} {
		tb.open(t, root+route)
		// Nothing may be wider than the screen: sideways scrolling on a
		// phone means a layout bug.
		if w := eval[[]int](t, tb, "[document.documentElement.scrollWidth, window.innerWidth]"); w[0] > w[1] {
			t.Errorf("%s on a phone is %dpx wide in a %dpx viewport", route, w[0], w[1])
		}
		tb.screenshot(t, routeName(route)+"-phone")
	}
	tb.checkNoErrors(t, "phone")
}

func TestBrowserUnderBasePath(t *testing.T) {
	browser := newBrowser(t)
	site := testSite(t)
	dir := filepath.Join(t.TempDir(), "site")
	if _, err := BuildSite(SiteConfig{Dir: dir, Wasm: filepath.Join(site, "web", "app.wasm"), Base: "/gradlab"}); err != nil {
		t.Fatal(err)
	}
	root := serve(t, dir, "/gradlab")
	tb := newTab(t, browser)
	tb.open(t, root+"/p3")
	var want []string
	for _, p := range app.Problems {
		want = append(want, "/gradlab"+p.Path)
	}
	if got := eval[[]string](t, tb, navHrefs); !slices.Equal(got, want) {
		t.Errorf("links under the base path %v, want %v", got, want)
	}
	tb.do(t, "clicking problem 4",
		chromedp.Click(chromedp.CSS(`.nav-list a[href="/gradlab/p4"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('h1')?.textContent.startsWith('Problem 4')`),
	)
	if path := eval[string](t, tb, "location.pathname"); path != "/gradlab/p4" {
		t.Errorf("after the click the path is %q, want /gradlab/p4", path)
	}
	tb.checkNoErrors(t, "base path")
}

// The console check must see what it claims to: a page that logs an error
// and throws must be caught, or every other browser test passes vacuously.
func TestBrowserConsoleCheckCatchesErrors(t *testing.T) {
	browser := newBrowser(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>x</title><p id="done">x</p>`+
			`<script>console.error("planted error"); setTimeout(() => { throw new Error("planted exception") }, 0)</script>`)
	}))
	t.Cleanup(srv.Close)
	tb := newTab(t, browser)
	tb.do(t, "loading the planted page", chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("done")))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = eval[int](t, tb, "1")
		tb.mu.Lock()
		got := strings.Join(tb.errors, "\n")
		tb.mu.Unlock()
		if strings.Contains(got, "planted error") && strings.Contains(got, "planted exception") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("console check saw %q, want both planted messages", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// After one online visit the service worker holds every file, so with the
// server gone a reload of any page still renders (cache.addAll is all or
// nothing: one missing file and nothing is cached).
func TestBrowserWorksOfflineAfterFirstVisit(t *testing.T) {
	browser := newBrowser(t)
	dir := testSite(t)
	want := len(precached(t, dir))
	h, err := NewFileServer(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tb := newTab(t, browser)
	tb.open(t, srv.URL+"/")
	const cachedCount = `(async () => {
		const names = await caches.keys();
		if (names.length !== 1) return -1; // not yet, or a stale cache left over
		return (await (await caches.open(names[0])).keys()).length;
	})()`
	deadline := time.Now().Add(pageTimeout)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](cachedCount, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service worker cached %d files, want %d", n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.checkNoErrors(t, "online visit")
	srv.CloseClientConnections()
	srv.Close()
	tb.open(t, srv.URL+"/p3")
	if h1 := eval[string](t, tb, "document.querySelector('h1').textContent"); !strings.HasPrefix(h1, "Problem 3") {
		t.Errorf("offline /p3 shows h1 %q", h1)
	}
	tb.screenshot(t, "p3-offline")
	tb.checkNoErrors(t, "offline reload")
}

// Without WebGPU the home page must say so and name the CPU fallback. The
// two ways a browser lacks it are simulated before any page script runs:
// no navigator.gpu at all, and a requestAdapter that finds no adapter.
func TestBrowserAnnouncesCPUFallback(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	cases := []struct{ name, script, why string }{
		{"no-navigator-gpu", `Object.defineProperty(Navigator.prototype, "gpu", {get: () => undefined});`, "navigator.gpu is missing"},
		{"no-adapter", `if (navigator.gpu) { GPU.prototype.requestAdapter = async () => null; }`, "no adapter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := newTab(t, browser)
			tb.do(t, "hiding WebGPU", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
					page.AddScriptToEvaluateOnNewDocumentParams{Source: c.script})
				return err
			}))
			tb.open(t, root+"/")
			tb.do(t, "waiting for the WebGPU check",
				chromedp.WaitVisible(chromedp.CSS(`#gpu-status:not([data-state="checking"])`)))
			state := eval[string](t, tb, "document.getElementById('gpu-status').dataset.state")
			text := eval[string](t, tb, "document.getElementById('gpu-status').textContent")
			if state != string(app.GPUFallback) || !strings.Contains(text, c.why) || !strings.Contains(text, "CPU") {
				t.Errorf("status %q %q; want the cpu state, %q and the CPU fallback", state, text, c.why)
			}
			tb.screenshot(t, "home-"+c.name)
			tb.checkNoErrors(t, c.name)
		})
	}
}
