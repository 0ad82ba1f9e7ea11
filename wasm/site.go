//go:build !js

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gradlab/app"
	"gradlab/web"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// SiteConfig says what BuildSite writes.
type SiteConfig struct {
	// Dir is the output folder. It must be empty, missing, or a site that
	// BuildSite wrote before (it is then replaced).
	Dir string
	// Wasm is app.wasm, built with GOOS=js GOARCH=wasm go build ./wasm.
	Wasm string
	// Base is the URL path the site is hosted under ("" for the root, or
	// e.g. "/gradlab" for a GitHub Pages project site).
	Base string
	// Version names the service worker's cache; a new version makes
	// installed apps fetch everything again. Empty means a hash of every
	// file under /web/, so it changes exactly when the content does.
	Version string
	// Data, if set, is a folder copied to /web/data (datasets, weights).
	Data string
}

// siteMarker marks a folder as written by BuildSite, so a rebuild may delete
// it without risking a folder someone pointed -site at by mistake.
const siteMarker = ".gradlab-site"

const (
	siteTitle       = "gradlab"
	siteDescription = "A deep-learning homework on batchnorm, dropout and convolutions as live pages: float64 reference layers and WebGPU compute kernels in the browser."
)

var baseRE = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)

// BuildSite writes the static site and returns the version it used. Every
// file under /web/ and every route is listed for the service worker's
// pre-cache, so an installed app works offline.
func BuildSite(cfg SiteConfig) (string, error) {
	if cfg.Dir == "" {
		return "", errors.New("site: no output folder (-site DIR)")
	}
	if cfg.Base != "" && !baseRE.MatchString(cfg.Base) {
		return "", fmt.Errorf("site: base %q must look like /name or /a/b (no trailing slash)", cfg.Base)
	}
	if st, err := os.Stat(cfg.Wasm); err != nil {
		return "", fmt.Errorf("site: app.wasm: %w (build it with GOOS=js GOARCH=wasm go build -o FILE ./wasm)", err)
	} else if st.Size() == 0 {
		return "", fmt.Errorf("site: app.wasm %s is empty", cfg.Wasm)
	}
	if err := resetSiteDir(cfg.Dir); err != nil {
		return "", err
	}
	webDir := filepath.Join(cfg.Dir, "web")
	if err := writeWebFiles(webDir, cfg); err != nil {
		return "", err
	}
	files, err := listFiles(webDir)
	if err != nil {
		return "", err
	}
	if cfg.Version == "" {
		if cfg.Version, err = hashFiles(webDir, files); err != nil {
			return "", err
		}
	}

	app.Routes()
	h := newHandler(cfg.Base, cfg.Version)
	for _, f := range files {
		h.CacheableResources = append(h.CacheableResources, "/web/"+f)
	}
	for _, r := range append(append(app.RoutePaths(), app.ExerciseRoutePaths()...), app.TrainRoutePaths()...) {
		if r != "/" { // go-app always caches "/"
			h.CacheableResources = append(h.CacheableResources, r)
		}
	}
	if err := goapp.GenerateStaticWebsite(cfg.Dir, h); err != nil {
		return "", fmt.Errorf("site: generating pages: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, siteMarker), []byte(cfg.Version+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("site: %w", err)
	}
	return cfg.Version, nil
}

// newHandler is the go-app handler the pages are rendered with.
func newHandler(base, version string) *goapp.Handler {
	h := &goapp.Handler{
		Name:            "gradlab",
		ShortName:       "gradlab",
		Title:           siteTitle,
		Description:     siteDescription,
		Lang:            "en",
		Version:         version,
		BackgroundColor: "#fbfbfd",
		ThemeColor:      "#1d4e89",
		LoadingLabel:    "Loading gradlab… {progress}%",
		Icon: goapp.Icon{
			Default:  "/web/icon-192.png",
			Large:    "/web/icon-512.png",
			Maskable: "/web/icon-512.png",
			SVG:      "/web/icon.svg",
		},
		Styles: []string{"/web/gradlab.css"},
	}
	if base != "" {
		h.Resources = goapp.PrefixedLocation(base)
	}
	return h
}

// resetSiteDir empties dir if BuildSite wrote it, creates it if missing, and
// refuses any other non-empty folder.
func resetSiteDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("site: %w", err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, siteMarker)); err != nil {
		return fmt.Errorf("site: %s is not empty and was not written by gradlab (no %s); refusing to replace it", dir, siteMarker)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	return nil
}

// writeWebFiles fills /web/: app.wasm, the embedded assets, the icons drawn
// in code, and the optional data folder.
func writeWebFiles(webDir string, cfg SiteConfig) error {
	if err := os.MkdirAll(webDir, 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if err := copyFile(cfg.Wasm, filepath.Join(webDir, "app.wasm")); err != nil {
		return err
	}
	err := fs.WalkDir(web.Assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := web.Assets.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(webDir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("site: assets: %w", err)
	}
	for _, size := range []int{192, 512} {
		b, err := web.IconPNG(size)
		if err != nil {
			return fmt.Errorf("site: %w", err)
		}
		if err := os.WriteFile(filepath.Join(webDir, fmt.Sprintf("icon-%d.png", size)), b, 0o644); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(webDir, "icon.svg"), web.IconSVG(), 0o644); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if cfg.Data != "" {
		if err := copyTree(cfg.Data, filepath.Join(webDir, "data")); err != nil {
			return err
		}
	}
	return nil
}

// listFiles returns the files under dir as sorted slash paths.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("site: listing %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

// hashFiles hashes names and contents, so renaming a file changes it too.
func hashFiles(dir string, files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00", f)
		r, err := os.Open(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("site: %w", err)
		}
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return "", fmt.Errorf("site: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("site: copying %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("site: data: %w", err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		// The service worker fetches files by URL; names with characters a
		// URL would have to escape are better caught here than offline.
		if strings.ContainsAny(path.Base(filepath.ToSlash(rel)), " ?#%") {
			return fmt.Errorf("site: data file %q has a character URLs must escape", rel)
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}
