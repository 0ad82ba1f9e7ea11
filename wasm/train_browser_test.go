//go:build !js

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gradlab/app"
	"gradlab/core/net"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The training page's browser tests train a tiny conv net (4 filters) on
// 160 synthetic colour images, 30 steps of 16: SwiftShader and the float64
// CPU path are both slow, and what is checked is that the loss falls, not
// how good the model gets. The synthetic set needs no download, so these
// tests run on a site built without the dataset packs too.

const trainTimeout = 4 * time.Minute

// serveTrain serves the test site, answering /train with the home page's
// HTML when the site has no pre-rendered train.html: go-app's wasm side
// routes by the URL, so it renders the training page either way.
func serveTrain(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(trainHandler(t, testSite(t)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func trainHandler(t testing.TB, dir string) http.Handler {
	t.Helper()
	h, err := NewFileServer(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(filepath.Join(dir, strings.TrimPrefix(app.TrainPath, "/")+".html"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if statErr != nil && r.URL.Path == app.TrainPath {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			h.ServeHTTP(w, r2)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// setInput types v into a field (input event) or picks it in a select
// (change event), the way the page's handlers listen.
func setInput(t testing.TB, tb *tab, id, v string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const e = document.getElementById(%q);
		if (!e) return false;
		e.value = %q;
		e.dispatchEvent(new Event(e.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true}));
		return true;
	})()`, id, v)
	if !eval[bool](t, tb, js) {
		t.Fatalf("no field #%s", id)
	}
}

// setTinyRun fills the form for the tiny run; the custom-stack field only
// appears after the model menu changed, hence the wait.
func setTinyRun(t *testing.T, tb *tab) {
	t.Helper()
	setInput(t, tb, "train-model", "custom")
	tb.do(t, "waiting for the layers field", chromedp.WaitVisible(chromedp.ID("train-custom")))
	setInput(t, tb, "train-custom", "conv 4 3 pad=1, relu, pool 4, affine 10")
	setInput(t, tb, "train-dataset", "synthetic")
	setInput(t, tb, "train-optimizer", "adam")
	setInput(t, tb, "train-lr", "0.005")
	setInput(t, tb, "train-batch", "16")
	setInput(t, tb, "train-epochs", "3")
	setInput(t, tb, "train-subset", "200")
	setInput(t, tb, "train-seed", "1")
}

// trainAndRead clicks Train, waits for the run to end and returns the loss
// series the page publishes in data-losses.
func trainAndRead(t *testing.T, tb *tab) [][2]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, trainTimeout)
	defer cancel()
	start := time.Now()
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("train-start")),
		chromedp.Poll[chromedp.Void](`['done', 'error'].includes(document.getElementById('train-page')?.dataset.phase)`,
			chromedp.WithPollingTimeout(trainTimeout), chromedp.WithPollingInterval(250*time.Millisecond)),
	)
	if err != nil {
		status := eval[string](t, tb, `document.getElementById('train-status')?.textContent ?? ''`)
		t.Fatalf("training did not finish: %v (status %q)", err, status)
	}
	t.Logf("trained in %v", time.Since(start).Round(time.Millisecond))
	if phase := eval[string](t, tb, `document.getElementById('train-page').dataset.phase`); phase != "done" {
		t.Fatalf("run ended in phase %q: %s", phase, eval[string](t, tb, `document.getElementById('train-error')?.textContent ?? ''`))
	}
	return readLosses(t, tb)
}

func readLosses(t *testing.T, tb *tab) [][2]float64 {
	t.Helper()
	raw := eval[string](t, tb, `document.getElementById('train-curves').dataset.losses`)
	var ls [][2]float64
	if err := json.Unmarshal([]byte(raw), &ls); err != nil {
		t.Fatalf("data-losses %q: %v", raw, err)
	}
	return ls
}

// checkLearnt asserts the loss fell and the views after training exist.
func checkLearnt(t *testing.T, tb *tab, ls [][2]float64) {
	t.Helper()
	if len(ls) < 10 {
		t.Fatalf("%d loss points, want about one per step of 30", len(ls))
	}
	first, last := ls[0][1], ls[len(ls)-1][1]
	t.Logf("loss %.4f -> %.4f over %v steps", first, last, ls[len(ls)-1][0])
	if !(last < 0.8*first) {
		t.Errorf("loss %v -> %v: did not fall", first, last)
	}
	if ips := eval[float64](t, tb, `parseFloat(document.getElementById('train-ips').dataset.ips)`); !(ips > 0) {
		t.Errorf("images/s %v, want a positive rate", ips)
	}
	if txt := eval[string](t, tb, `document.getElementById('train-ips').textContent`); !strings.Contains(txt, "images/s") {
		t.Errorf("images/s line %q", txt)
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#train-filters img').length`); n != 4 {
		t.Errorf("%d filter images, want 4", n)
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#train-activations img').length`); n != 4 {
		t.Errorf("%d activation maps, want 4", n)
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#train-preds figure').length`); n != 16 {
		t.Errorf("%d predictions, want 16", n)
	}
}

func TestBrowserTrainOnWebGPUAndRestoreAfterReload(t *testing.T) {
	browser := newBrowser(t)
	root := serveTrain(t)
	tb := newTab(t, browser)
	tb.open(t, root+app.TrainPath)
	tb.do(t, "waiting for the GPU check", chromedp.WaitVisible(chromedp.CSS(`#train-page[data-device="gpu"], #train-page[data-device="cpu"]`)))
	if dev := eval[string](t, tb, `document.getElementById('train-page').dataset.device`); dev != "gpu" {
		t.Fatalf("device %q, want gpu: Chromium with --enable-unsafe-webgpu has a SwiftShader adapter", dev)
	}
	setTinyRun(t, tb)
	ls := trainAndRead(t, tb)
	checkLearnt(t, tb, ls)
	if dev := eval[string](t, tb, `document.querySelector('#train-run dl')?.textContent ?? ''`); !strings.Contains(dev, "GPU") {
		t.Errorf("the run's device line %q does not name the GPU", dev)
	}
	tb.do(t, "waiting for the save", chromedp.Poll[chromedp.Void](`document.getElementById('train-save').textContent.startsWith('Saved')`))
	tb.screenshot(t, "train-webgpu")
	tb.checkNoErrors(t, "training on WebGPU")

	// A reload brings back the curve and a model ready for predictions.
	tb.open(t, root+app.TrainPath)
	tb.do(t, "waiting for the restore", chromedp.Poll[chromedp.Void](
		`document.getElementById('train-curves')?.dataset.restored === 'true' && document.querySelectorAll('#train-preds figure').length === 16`,
		chromedp.WithPollingTimeout(pageTimeout)))
	if got := readLosses(t, tb); fmt.Sprint(got) != fmt.Sprint(ls) {
		t.Errorf("restored losses %v, trained %v", got, ls)
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#train-loss-plot path, #train-loss-plot polyline').length`); n == 0 {
		t.Error("the restored loss curve is not drawn")
	}
	if !eval[bool](t, tb, `!document.getElementById('train-export').disabled`) {
		t.Error("export is disabled after the restore")
	}
	tb.screenshot(t, "train-restored")

	// Importing weights: a file for another architecture is refused with
	// its reason; one for the form's network is taken.
	other, same := weightsFile(t, "conv 8 3 pad=1, relu, pool 4, affine 10"), weightsFile(t, "conv 4 3 pad=1, relu, pool 4, affine 10")
	tb.do(t, "importing other weights", chromedp.SetUploadFiles(chromedp.ID("train-import"), []string{other}),
		chromedp.Poll[chromedp.Void](`document.getElementById('train-io-error')?.textContent.includes('different network')`))
	tb.do(t, "importing matching weights", chromedp.SetUploadFiles(chromedp.ID("train-import"), []string{same}),
		chromedp.Poll[chromedp.Void](`document.getElementById('train-io-msg').textContent.startsWith('Imported')`))
	if n := eval[int](t, tb, `document.querySelectorAll('#train-preds figure').length`); n != 16 {
		t.Errorf("%d predictions after the import, want 16", n)
	}
	tb.checkNoErrors(t, "restore after reload and import")
}

// weightsFile writes freshly initialised weights of a stack on the
// synthetic set's 3x32x32 images and returns the file's path.
func weightsFile(t *testing.T, stack string) string {
	t.Helper()
	ls, err := net.Parse(stack)
	if err != nil {
		t.Fatal(err)
	}
	n, err := net.New(net.Spec{Name: "custom", C: 3, H: 32, W: 32, Classes: 10, Layers: ls}, 3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.weights")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := n.Save(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBrowserTrainFallsBackToTheCPU(t *testing.T) {
	browser := newBrowser(t)
	root := serveTrain(t)
	tb := newTab(t, browser)
	tb.do(t, "hiding WebGPU", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: `Object.defineProperty(Navigator.prototype, "gpu", {get: () => undefined});`})
		return err
	}))
	tb.open(t, root+app.TrainPath)
	tb.do(t, "waiting for the banner", chromedp.WaitVisible(chromedp.ID("train-cpu-banner")))
	if txt := eval[string](t, tb, `document.getElementById('train-cpu-banner').textContent`); !strings.Contains(txt, "No WebGPU adapter: training on the CPU (float64 reference), slower") {
		t.Errorf("banner %q", txt)
	}
	setTinyRun(t, tb)
	checkLearnt(t, tb, trainAndRead(t, tb))
	if dev := eval[string](t, tb, `document.querySelector('#train-run dl')?.textContent ?? ''`); !strings.Contains(dev, "CPU") {
		t.Errorf("the run's device line %q does not name the CPU", dev)
	}
	tb.screenshot(t, "train-cpu")

	// Stop: a long run ends soon after the click, keeping its weights.
	setInput(t, tb, "train-epochs", "50")
	setInput(t, tb, "train-subset", "2000")
	tb.do(t, "starting a long run", chromedp.Click(chromedp.ID("train-start")),
		chromedp.Poll[chromedp.Void](`document.getElementById('train-page').dataset.phase === 'training' && JSON.parse(document.getElementById('train-curves').dataset.losses).length > 3`,
			chromedp.WithPollingTimeout(pageTimeout)),
		chromedp.Click(chromedp.ID("train-stop")),
		chromedp.Poll[chromedp.Void](`document.getElementById('train-page').dataset.phase === 'done'`, chromedp.WithPollingTimeout(pageTimeout)))
	if st := eval[string](t, tb, `document.getElementById('train-status').textContent`); !strings.Contains(st, "stopped by the user") {
		t.Errorf("status after Stop %q", st)
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#train-preds figure').length`); n != 16 {
		t.Errorf("%d predictions after Stop, want 16 (the weights reached are kept)", n)
	}
	tb.checkNoErrors(t, "training on the CPU")
}

func TestBrowserTrainRefusesInvalidInput(t *testing.T) {
	browser := newBrowser(t)
	root := serveTrain(t)
	tb := newTab(t, browser)
	tb.open(t, root+app.TrainPath)
	setInput(t, tb, "train-lr", "fast")
	tb.do(t, "waiting for the field message", chromedp.Poll[chromedp.Void](`document.getElementById('train-lr-msg').textContent.includes('not a number')`))
	tb.do(t, "clicking Train", chromedp.Click(chromedp.ID("train-start")),
		chromedp.WaitVisible(chromedp.ID("train-form-error")))
	if msg := eval[string](t, tb, `document.getElementById('train-form-error').textContent`); !strings.Contains(msg, "Learning rate") {
		t.Errorf("form error %q does not name the learning rate", msg)
	}
	// A custom stack that does not end in the classes shows the plan's
	// error next to the field, and Train still refuses.
	setInput(t, tb, "train-lr", "0.001")
	setInput(t, tb, "train-model", "custom")
	tb.do(t, "waiting for the layers field", chromedp.WaitVisible(chromedp.ID("train-custom")))
	setInput(t, tb, "train-custom", "conv 4 3, relu, affine 3")
	tb.do(t, "waiting for the plan error", chromedp.Poll[chromedp.Void](`document.getElementById('train-custom-msg').textContent.includes('last layer must be')`))
	tb.do(t, "clicking Train", chromedp.Click(chromedp.ID("train-start")),
		chromedp.Poll[chromedp.Void](`document.getElementById('train-form-error')?.textContent.includes('last layer must be')`))
	time.Sleep(300 * time.Millisecond)
	if phase := eval[string](t, tb, `document.getElementById('train-page').dataset.phase`); phase != "idle" {
		t.Errorf("phase %q after invalid input, want idle", phase)
	}
	tb.screenshot(t, "train-invalid")
	tb.checkNoErrors(t, "invalid input")
}

// With the dataset packs in the site (./build.sh site puts them there), the
// default dataset is downloaded with a progress bar and decoded in the
// browser, and the predictions carry Fashion-MNIST's class names.
func TestBrowserTrainDownloadsFashionMNIST(t *testing.T) {
	dir := testSite(t)
	if _, err := os.Stat(filepath.Join(dir, "web", "data", "fashion-mnist.glpack.gz")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI site has no Fashion-MNIST pack: %v", err)
		}
		t.Skip("the test site has no dataset packs (build it with -data, as ./build.sh site does)")
	}
	browser := newBrowser(t)
	root := serveTrain(t)
	tb := newTab(t, browser)
	tb.open(t, root+app.TrainPath)
	tb.do(t, "waiting for the GPU check", chromedp.WaitVisible(chromedp.CSS(`#train-page[data-device="gpu"], #train-page[data-device="cpu"]`)))
	// The bar lives only while the download runs: a watcher notes it.
	_ = eval[bool](t, tb, `(() => { window.__sawDownload = false; const id = setInterval(() => {
		const b = document.getElementById('train-download');
		if (b && b.getAttribute('aria-valuenow')) { window.__sawDownload = true; clearInterval(id); } }, 10); return true; })()`)
	setTinyRun(t, tb)
	setInput(t, tb, "train-custom", "conv 4 3 pad=1, relu, pool 4, affine 10")
	setInput(t, tb, "train-dataset", "fashion")
	checkLearnt(t, tb, trainAndRead(t, tb))
	if !eval[bool](t, tb, `window.__sawDownload`) {
		t.Error("no download progress bar with a value was shown")
	}
	caps := eval[string](t, tb, `[...document.querySelectorAll('#train-preds figcaption')].map(c => c.textContent).join(' | ')`)
	found := false
	for _, c := range []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"} {
		found = found || strings.Contains(caps, "true: "+c)
	}
	if !found {
		t.Errorf("prediction captions %q name no Fashion-MNIST class", caps)
	}
	tb.screenshot(t, "train-fashion")
	tb.checkNoErrors(t, "training on Fashion-MNIST")
}
