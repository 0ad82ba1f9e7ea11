//go:build !js

package browsertest

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// page loads wasm_exec.js and the test binary, collects console output and
// puts the exit code in document.title, which the test polls for.
const page = `<!doctype html><html><head><title>running</title></head><body>
<script src="wasm_exec.js"></script>
<script>
window.logs = [];
const origLog = console.log;
console.log = (...a) => { window.logs.push(a.join(" ")); origLog(...a); };
const go = new Go();
go.argv = ["gpu.test", "-test.v"];
go.env = {CI: "true"}; // in the browser a missing adapter fails, never skips
go.exit = (code) => { document.title = "done:" + code; };
WebAssembly.instantiateStreaming(fetch("gpu.wasm"), go.importObject)
  .then(r => go.run(r.instance))
  .catch(e => { window.logs.push("load error: " + e); document.title = "done:load"; });
</script></body></html>`

func TestGPUSuiteInChromium(t *testing.T) {
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found; CI must install it (apt-get install -y chromium)")
		}
		t.Skip("chromium not found (apt-get install -y chromium)")
	}
	if testing.Short() {
		t.Skip("builds a wasm test binary: skipped in -short mode")
	}
	dir := t.TempDir()
	build := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "gpu.wasm"), "gradlab/core/gpu")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm test binary: %v\n%s", err, out)
	}
	wasmExec, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "wasm_exec.js"), wasmExec, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.Flag("enable-unsafe-webgpu", true), // the one flag WebGPU needs headless
		chromedp.Flag("disable-quic", true),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	_, err = chromedp.Run(ctx, chromedp.Navigate("http://"+ln.Addr().String()+"/index.html"))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.title.startsWith("done")`, chromedp.WithPollingTimeout(4*time.Minute)))
	}
	logs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.logs`))
	title, _ := chromedp.Run(ctx, chromedp.Title())
	out := strings.Join(logs, "\n")
	if err != nil || title != "done:0" {
		t.Fatalf("suite in Chromium: %s (err %v)\n%s", title, err, out)
	}
	// The suite must have run, not vanished: its last line is PASS.
	if !strings.Contains(out, "--- PASS: TestMatMulParity") || !strings.Contains(out, "PASS") {
		t.Fatalf("suite output lacks the expected passes:\n%s", out)
	}
	t.Logf("%d lines of output; adapter line: %s", len(logs), adapterLine(logs))
}

func adapterLine(logs []string) string {
	for _, l := range logs {
		if strings.Contains(l, "adapter:") {
			return strings.TrimSpace(l)
		}
	}
	return "(none)"
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
