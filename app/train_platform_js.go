//go:build js

package app

import (
	"fmt"
	"syscall/js"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Every function here waits on JavaScript promises or IndexedDB events, so
// it must run in a goroutine (ctx.Async), never inside an event handler.

// fetchBytes downloads url, reporting bytes received and the total (0 when
// the server sends no length) after every chunk.
func fetchBytes(url string, progress func(loaded, total int64)) (b []byte, err error) {
	defer recoverJS(&err)
	resp, err := await(js.Global().Call("fetch", url))
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", url, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("downloading %s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	var total int64
	if h := resp.Get("headers").Call("get", "Content-Length"); h.Type() == js.TypeString {
		fmt.Sscan(h.String(), &total)
	}
	reader := resp.Get("body").Call("getReader")
	for {
		chunk, err := await(reader.Call("read"))
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %w", url, err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		v := chunk.Get("value")
		start := len(b)
		b = append(b, make([]byte, v.Get("length").Int())...)
		js.CopyBytesToGo(b[start:], v)
		progress(int64(len(b)), total)
	}
	return b, nil
}

func recoverJS(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("browser error: %v", r)
	}
}

const idbName, idbStore = "gradlab", "kv"

// idbWait waits for an IndexedDB request (or, with event "complete", a
// transaction) to succeed or fail.
func idbWait(target js.Value, okEvent string) error {
	ch := make(chan error, 1)
	ok := js.FuncOf(func(js.Value, []js.Value) any { ch <- nil; return nil })
	bad := js.FuncOf(func(js.Value, []js.Value) any {
		msg := "IndexedDB request failed"
		if e := target.Get("error"); e.Truthy() {
			msg = e.Call("toString").String()
		}
		ch <- fmt.Errorf("%s", msg)
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	target.Set("on"+okEvent, ok)
	target.Set("onerror", bad)
	if okEvent == "complete" {
		target.Set("onabort", bad)
	}
	return <-ch
}

func idbOpen() (js.Value, error) {
	idb := js.Global().Get("indexedDB")
	if !idb.Truthy() {
		return js.Value{}, fmt.Errorf("this browser has no IndexedDB (private mode?): the model is not kept across reloads")
	}
	req := idb.Call("open", idbName, 1)
	up := js.FuncOf(func(js.Value, []js.Value) any {
		db := req.Get("result")
		if !db.Get("objectStoreNames").Call("contains", idbStore).Bool() {
			db.Call("createObjectStore", idbStore)
		}
		return nil
	})
	defer up.Release()
	req.Set("onupgradeneeded", up)
	if err := idbWait(req, "success"); err != nil {
		return js.Value{}, err
	}
	return req.Get("result"), nil
}

// storeSave keeps value under key in IndexedDB, returning once the write
// is committed (a reload right after must find it).
func storeSave(key, value string) (err error) {
	defer recoverJS(&err)
	db, err := idbOpen()
	if err != nil {
		return err
	}
	defer db.Call("close")
	tx := db.Call("transaction", idbStore, "readwrite")
	tx.Call("objectStore", idbStore).Call("put", value, key)
	return idbWait(tx, "complete")
}

// storeLoad reads key; ok is false when nothing is stored.
func storeLoad(key string) (value string, ok bool, err error) {
	defer recoverJS(&err)
	db, err := idbOpen()
	if err != nil {
		return "", false, err
	}
	defer db.Call("close")
	req := db.Call("transaction", idbStore, "readonly").Call("objectStore", idbStore).Call("get", key)
	if err := idbWait(req, "success"); err != nil {
		return "", false, err
	}
	v := req.Get("result")
	if v.Type() != js.TypeString {
		return "", false, nil
	}
	return v.String(), true, nil
}

// downloadBytes offers b as a file download.
func downloadBytes(name string, b []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	blob := js.Global().Get("Blob").New([]any{u8}, map[string]any{"type": "application/octet-stream"})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := js.Global().Get("document").Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	a.Call("click")
	js.Global().Call("setTimeout", js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Get("URL").Call("revokeObjectURL", url)
		return nil
	}), 1000)
}

// readFileBytes reads a File chosen in an <input type=file>.
func readFileBytes(file goapp.Value) (b []byte, err error) {
	defer recoverJS(&err)
	ch := make(chan error, 1)
	var buf goapp.Value
	ok := goapp.FuncOf(func(_ goapp.Value, args []goapp.Value) any {
		buf = args[0]
		ch <- nil
		return nil
	})
	bad := goapp.FuncOf(func(_ goapp.Value, args []goapp.Value) any {
		ch <- fmt.Errorf("reading the file failed")
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	file.Call("arrayBuffer").Call("then", ok, bad)
	if err := <-ch; err != nil {
		return nil, err
	}
	u8 := goapp.Window().Get("Uint8Array").New(buf)
	b = make([]byte, u8.Get("length").Int())
	goapp.CopyBytesToGo(b, u8)
	return b, nil
}
