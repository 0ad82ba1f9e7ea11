//go:build !js

package main

import (
	"fmt"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

func init() {
	// The system MIME table may lack these; WebAssembly streaming compile
	// and the manifest need the exact types.
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".webmanifest", "application/manifest+json")
}

// NewFileServer serves a site BuildSite wrote, the way a static host does:
// /p1 is answered with p1.html, and with a base path the site lives under
// it. Every response says no-cache so a rebuilt site shows up on reload; the
// service worker does the caching that offline use needs.
func NewFileServer(dir, base string) (http.Handler, error) {
	if st, err := os.Stat(filepath.Join(dir, "index.html")); err != nil || st.IsDir() {
		return nil, fmt.Errorf("serve: %s has no index.html; write the site first (./build.sh site)", dir)
	}
	if base != "" && !baseRE.MatchString(base) {
		return nil, fmt.Errorf("serve: base %q must look like /name (no trailing slash)", base)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if base != "" {
			if p == base {
				http.Redirect(w, r, base+"/", http.StatusMovedPermanently)
				return
			}
			rest, ok := strings.CutPrefix(p, base+"/")
			if !ok {
				http.NotFound(w, r)
				return
			}
			p = "/" + rest
		}
		name, ok := resolveFile(dir, p)
		if !ok {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if ct := mime.TypeByExtension(filepath.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, st.ModTime(), f)
	}), nil
}

// resolveFile maps a URL path to a regular file under dir: "/" is
// index.html and an extensionless route falls back to route.html.
func resolveFile(dir, urlPath string) (string, bool) {
	clean := path.Clean("/" + urlPath)
	if clean == "/" {
		clean = "/index.html"
	}
	candidates := []string{clean}
	if path.Ext(clean) == "" {
		candidates = append(candidates, clean+".html", clean+"/index.html")
	}
	for _, c := range candidates {
		name := filepath.Join(dir, filepath.FromSlash(c))
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
			return name, true
		}
	}
	return "", false
}
