//go:build !js

package app

import (
	"fmt"
	"sync"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Outside a browser (server pre-render, unit tests) there is no network
// fetch, IndexedDB or file picker: a map stands in for the store so the
// page's save and restore logic can be tested natively.

var (
	memStoreMu sync.Mutex
	memStore   = map[string]string{}
)

func fetchBytes(url string, _ func(loaded, total int64)) ([]byte, error) {
	return nil, fmt.Errorf("downloading %s: only possible in the browser", url)
}

func storeSave(key, value string) error {
	memStoreMu.Lock()
	defer memStoreMu.Unlock()
	memStore[key] = value
	return nil
}

func storeLoad(key string) (string, bool, error) {
	memStoreMu.Lock()
	defer memStoreMu.Unlock()
	v, ok := memStore[key]
	return v, ok, nil
}

func downloadBytes(string, []byte) {}

func readFileBytes(goapp.Value) ([]byte, error) {
	return nil, fmt.Errorf("reading files is only possible in the browser")
}
