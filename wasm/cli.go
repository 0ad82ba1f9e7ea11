//go:build !js

package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
)

const usage = `usage:
  wasm -site DIR -wasm FILE [-base /subpath] [-version V] [-data DIR]
      write the static site into DIR (app.wasm is built separately with
      GOOS=js GOARCH=wasm go build -o FILE ./wasm)
  wasm -serve ADDR -dir DIR [-base /subpath]
      serve a written site, e.g. -serve :8080 -dir build/site
`

// cli runs the native commands and returns the process exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wasm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var cfg SiteConfig
	var serveAddr, serveDir string
	fs.StringVar(&cfg.Dir, "site", "", "write the static site into this folder")
	fs.StringVar(&cfg.Wasm, "wasm", "", "app.wasm built with GOOS=js GOARCH=wasm")
	fs.StringVar(&cfg.Base, "base", "", "URL path the site lives under, e.g. /gradlab (default: the root)")
	fs.StringVar(&cfg.Version, "version", "", "service-worker version (default: a hash of the site's files)")
	fs.StringVar(&cfg.Data, "data", "", "folder copied into the site as /web/data")
	fs.StringVar(&serveAddr, "serve", "", "serve a written site on this address, e.g. :8080")
	fs.StringVar(&serveDir, "dir", "build/site", "folder -serve serves")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case cfg.Dir != "" && serveAddr == "":
		version, err := BuildSite(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		fmt.Fprintf(stdout, "site written to %s (version %s)\n", cfg.Dir, version)
		return 0
	case serveAddr != "" && cfg.Dir == "":
		h, err := NewFileServer(serveDir, cfg.Base)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		ln, err := net.Listen("tcp", serveAddr)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		fmt.Fprintf(stdout, "serving %s on %s (Ctrl-C stops)\n", serveDir, SiteURL(ln.Addr(), cfg.Base))
		if err := http.Serve(ln, h); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		return 0
	default:
		fs.Usage()
		return 2
	}
}

// SiteURL is the address to open in a browser for a listener: localhost
// rather than the wildcard address a ":8080" listener reports.
func SiteURL(addr net.Addr, base string) string {
	port := "80"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	return "http://localhost:" + port + base + "/"
}
