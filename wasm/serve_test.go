//go:build !js

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileServerServesRoutesLikeAStaticHost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	if _, err := BuildSite(SiteConfig{Dir: dir, Wasm: fakeWasm(t, "\x00asm-fake")}); err != nil {
		t.Fatal(err)
	}
	h, err := NewFileServer(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	p4, _ := os.ReadFile(filepath.Join(dir, "p4.html"))
	cases := []struct {
		path, body, ctype string
		code              int
	}{
		{"/", string(index), "text/html", 200},
		{"/p4", string(p4), "text/html", 200},
		{"/web/app.wasm", "\x00asm-fake", "application/wasm", 200},
		{"/manifest.webmanifest", "", "application/manifest+json", 200},
		{"/app.js", "", "javascript", 200},
		{"/nope", "", "", 404},
		{"/web", "", "", 404},
		{"/../../etc/passwd", "", "", 404},
	}
	for _, c := range cases {
		r := get(t, h, c.path)
		if r.StatusCode != c.code {
			t.Errorf("%s: status %d, want %d", c.path, r.StatusCode, c.code)
			continue
		}
		if c.code != 200 {
			continue
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, c.ctype) {
			t.Errorf("%s: Content-Type %q, want %q", c.path, ct, c.ctype)
		}
		if b := body(t, r); c.body != "" && b != c.body {
			t.Errorf("%s: body differs from the file on disk", c.path)
		}
		if r.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: no Cache-Control: no-cache", c.path)
		}
	}
}

func TestFileServerUnderBasePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	if _, err := BuildSite(SiteConfig{Dir: dir, Wasm: fakeWasm(t, "w"), Base: "/gradlab"}); err != nil {
		t.Fatal(err)
	}
	h, err := NewFileServer(dir, "/gradlab")
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, h, "/gradlab"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/gradlab/" {
		t.Errorf("/gradlab: %d to %q, want a redirect to /gradlab/", r.StatusCode, r.Header.Get("Location"))
	}
	for path, code := range map[string]int{"/gradlab/": 200, "/gradlab/p1": 200, "/gradlab/web/app.wasm": 200, "/p1": 404, "/": 404, "/gradlabx/p1": 404} {
		if r := get(t, h, path); r.StatusCode != code {
			t.Errorf("%s: status %d, want %d", path, r.StatusCode, code)
		}
	}
}

func TestFileServerBadInput(t *testing.T) {
	if _, err := NewFileServer(t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("empty folder: want an error about index.html, got %v", err)
	}
	dir := filepath.Join(t.TempDir(), "site")
	if _, err := BuildSite(SiteConfig{Dir: dir, Wasm: fakeWasm(t, "w")}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileServer(dir, "no-slash"); err == nil || !strings.Contains(err.Error(), "base") {
		t.Errorf("bad base: want an error about the base, got %v", err)
	}
}
