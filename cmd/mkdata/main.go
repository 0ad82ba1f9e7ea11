// Command mkdata converts the original IDX files of Fashion-MNIST (Debian's
// dataset-fashion-mnist) and MNIST (the GoMNIST module) into the compact,
// checksummed packs the web app downloads and its service worker caches.
//
//	go run ./cmd/mkdata -out build/data [-fashion DIR] [-mnist DIR]
//
// A dataset whose files are missing is skipped with a message, unless
// -require names it; corrupt files are always an error.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gradlab/core/data"
)

func main() {
	out := flag.String("out", "build/data", "output folder")
	fashion := flag.String("fashion", data.FashionMNISTDir, "Fashion-MNIST IDX folder")
	mnist := flag.String("mnist", "", "MNIST IDX folder (default: the GoMNIST module in the Go module cache)")
	require := flag.String("require", "", "comma-separated datasets that must be present (fashion, mnist)")
	flag.Parse()
	if err := run(*out, *fashion, *mnist, *require); err != nil {
		fmt.Fprintln(os.Stderr, "mkdata:", err)
		os.Exit(1)
	}
}

func run(out, fashionDir, mnistDir, require string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if mnistDir == "" {
		mnistDir = data.GoMNISTDir()
	}
	must := map[string]bool{}
	for _, r := range strings.Split(require, ",") {
		if r = strings.TrimSpace(r); r != "" {
			must[r] = true
		}
	}
	for _, ds := range []struct{ name, dir, file string }{
		{"fashion", fashionDir, data.FashionPackFile},
		{"mnist", mnistDir, data.MNISTPackFile},
	} {
		if _, err := os.Stat(ds.dir); err != nil {
			if must[ds.name] {
				return fmt.Errorf("%s: %w", ds.name, err)
			}
			fmt.Fprintf(os.Stderr, "mkdata: skipping %s: %s not found\n", ds.name, ds.dir)
			continue
		}
		train, test, err := data.LoadIDXDir(ds.name, ds.dir)
		if err != nil {
			return err
		}
		train.Name, test.Name = "train", "test"
		path := filepath.Join(out, ds.file)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := data.WritePackGzip(f, train, test); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		st, _ := os.Stat(path)
		fmt.Printf("wrote %s: %d train + %d test images, %.1f MB\n", path, train.N, test.N, float64(st.Size())/1e6)
	}
	return nil
}
