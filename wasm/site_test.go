//go:build !js

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gradlab/app"
)

// fakeWasm writes a stand-in for app.wasm: the generator only copies it, so
// these tests need no GOOS=js build.
func fakeWasm(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.wasm")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var cacheListRE = regexp.MustCompile(`const resourcesToCache = (\[.*\]);`)

// precached returns the service worker's pre-cache list.
func precached(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "app-worker.js"))
	if err != nil {
		t.Fatal(err)
	}
	m := cacheListRE.FindSubmatch(b)
	if m == nil {
		t.Fatal("app-worker.js has no resourcesToCache list")
	}
	var list []string
	if err := json.Unmarshal(m[1], &list); err != nil {
		t.Fatal(err)
	}
	sort.Strings(list)
	return list
}

func TestBuildSiteWritesEveryPageAndPrecachesEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	version, err := BuildSite(SiteConfig{Dir: dir, Wasm: fakeWasm(t, "wasm-bytes")})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "app.js", "app-worker.js", "wasm_exec.js", "manifest.webmanifest",
		"web/app.wasm", "web/gradlab.css", "web/icon-192.png", "web/icon-512.png", "web/icon.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "web/app.wasm")); string(b) != "wasm-bytes" {
		t.Errorf("web/app.wasm is not a copy of the input: %q", b)
	}
	list := precached(t, dir)
	has := map[string]bool{}
	for _, r := range list {
		has[r] = true
	}
	for _, p := range app.Problems {
		html, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(p.Path, "/")+".html"))
		if err != nil {
			t.Errorf("route %s: %v", p.Path, err)
			continue
		}
		if !strings.Contains(string(html), problemHeadingText(p)) {
			t.Errorf("%s.html does not show %q", p.Path, problemHeadingText(p))
		}
		if !has[p.Path] {
			t.Errorf("route %s is not pre-cached: offline reloads of it would fail", p.Path)
		}
	}
	// Every file under /web/ must be pre-cached: one missing file breaks the
	// offline install (cache.addAll is all or nothing), one extra 404 too.
	files, err := listFiles(filepath.Join(dir, "web"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !has["/web/"+f] {
			t.Errorf("/web/%s is not pre-cached", f)
		}
	}
	for _, r := range list {
		if _, ok := resolveFile(dir, r); !ok {
			t.Errorf("pre-cached %s does not exist in the site", r)
		}
	}
	worker, _ := os.ReadFile(filepath.Join(dir, "app-worker.js"))
	if !strings.Contains(string(worker), `"app-" + "`+version+`"`) {
		t.Errorf("service worker does not carry version %s", version)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, "manifest.webmanifest"))
	if strings.Contains(string(manifest), "https://") {
		t.Errorf("manifest points at a remote URL; icons must be local: %s", manifest)
	}
}

func problemHeadingText(p app.Problem) string {
	return fmt.Sprintf("Problem %d · %s", p.Number, p.Title)
}

func TestBuildSiteVersionFollowsContent(t *testing.T) {
	tmp := t.TempDir()
	a := fakeWasm(t, "one")
	v1, err := BuildSite(SiteConfig{Dir: filepath.Join(tmp, "s1"), Wasm: a})
	if err != nil {
		t.Fatal(err)
	}
	v1again, err := BuildSite(SiteConfig{Dir: filepath.Join(tmp, "s1"), Wasm: a})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := BuildSite(SiteConfig{Dir: filepath.Join(tmp, "s2"), Wasm: fakeWasm(t, "two")})
	if err != nil {
		t.Fatal(err)
	}
	if v1 != v1again {
		t.Errorf("same content, different versions: %s vs %s", v1, v1again)
	}
	if v1 == v2 {
		t.Errorf("different app.wasm, same version %s: installed apps would keep the old one", v1)
	}
	v3, err := BuildSite(SiteConfig{Dir: filepath.Join(tmp, "s3"), Wasm: a, Version: "v-explicit"})
	if err != nil || v3 != "v-explicit" {
		t.Errorf("explicit version: got %q, %v", v3, err)
	}
}

func TestBuildSiteUnderBasePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	if _, err := BuildSite(SiteConfig{Dir: dir, Wasm: fakeWasm(t, "w"), Base: "/gradlab"}); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "p2.html"))
	for _, want := range []string{`src="/gradlab/app.js"`, `href="/gradlab/web/gradlab.css"`, `href="/gradlab/p3"`, `href="/gradlab/manifest.webmanifest"`} {
		if !strings.Contains(string(html), want) {
			t.Errorf("p2.html lacks %s", want)
		}
	}
	for _, r := range precached(t, dir) {
		if !strings.HasPrefix(r, "/gradlab") {
			t.Errorf("pre-cached %s is outside the base path", r)
		}
	}
}

func TestBuildSiteBadInput(t *testing.T) {
	tmp := t.TempDir()
	foreign := filepath.Join(tmp, "foreign")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := fakeWasm(t, "w")
	cases := []struct {
		name string
		cfg  SiteConfig
		want string
	}{
		{"no dir", SiteConfig{Wasm: w}, "no output folder"},
		{"missing wasm", SiteConfig{Dir: filepath.Join(tmp, "a"), Wasm: filepath.Join(tmp, "nope.wasm")}, "app.wasm"},
		{"empty wasm", SiteConfig{Dir: filepath.Join(tmp, "b"), Wasm: fakeWasm(t, "")}, "empty"},
		{"trailing slash base", SiteConfig{Dir: filepath.Join(tmp, "c"), Wasm: w, Base: "/gradlab/"}, "base"},
		{"relative base", SiteConfig{Dir: filepath.Join(tmp, "d"), Wasm: w, Base: "gradlab"}, "base"},
		{"foreign folder", SiteConfig{Dir: foreign, Wasm: w}, "refusing"},
		{"missing data", SiteConfig{Dir: filepath.Join(tmp, "e"), Wasm: w, Data: filepath.Join(tmp, "nodata")}, "data"},
	}
	for _, c := range cases {
		if _, err := BuildSite(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", c.name, c.want, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "notes.txt")); err != nil || string(b) != "keep me" {
		t.Errorf("a refused build touched the foreign folder: %q, %v", b, err)
	}
}

func TestBuildSiteCopiesData(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	if err := os.MkdirAll(filepath.Join(data, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "sub", "x.bin"), []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "site")
	if _, err := BuildSite(SiteConfig{Dir: dir, Wasm: fakeWasm(t, "w"), Data: data}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "web/data/sub/x.bin")); err != nil || len(b) != 3 {
		t.Errorf("data not copied: %v %v", b, err)
	}
	found := false
	for _, r := range precached(t, dir) {
		found = found || r == "/web/data/sub/x.bin"
	}
	if !found {
		t.Error("data file is not pre-cached")
	}
}
