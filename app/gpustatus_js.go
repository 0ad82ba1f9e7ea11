//go:build js

package app

import (
	"fmt"
	"strings"
	"syscall/js"
)

// DetectWebGPU asks the browser for a WebGPU adapter. It blocks until the
// requestAdapter promise settles, so call it from a goroutine (ctx.Async),
// never from a js.FuncOf callback: the callback would wait on itself.
func DetectWebGPU() (status GPUStatus) {
	defer func() {
		// A throwing JS call surfaces as a Go panic carrying js.Error; the
		// page must still say something useful, so it becomes the fallback.
		if r := recover(); r != nil {
			status = fallbackStatus(fmt.Sprint("WebGPU check failed: ", r))
		}
	}()
	gpu := js.Global().Get("navigator").Get("gpu")
	if gpu.IsUndefined() || gpu.IsNull() {
		return fallbackStatus("navigator.gpu is missing: this browser has no WebGPU or it is switched off")
	}
	adapter, err := await(gpu.Call("requestAdapter"))
	if err != nil {
		return fallbackStatus("requestAdapter failed: " + err.Error())
	}
	if adapter.IsNull() || adapter.IsUndefined() {
		return fallbackStatus("requestAdapter returned no adapter")
	}
	desc, fallback := adapterInfo(adapter)
	s := GPUStatus{State: GPUWebGPU, Adapter: desc, Fallback: fallback}
	s.Text = "WebGPU is available: " + desc + "."
	if fallback {
		s.Text += " It is a software adapter, so GPU kernels run, but on the CPU."
	}
	return s
}

// adapterInfo reads GPUAdapter.info (newer browsers) and the older
// isFallbackAdapter flag, leaving out empty fields.
func adapterInfo(adapter js.Value) (string, bool) {
	info := adapter.Get("info")
	var parts []string
	fallback := false
	if info.Type() == js.TypeObject {
		for _, k := range []string{"vendor", "architecture", "device", "description"} {
			if v := info.Get(k); v.Type() == js.TypeString && v.String() != "" {
				parts = append(parts, k+" "+v.String())
			}
		}
		if v := info.Get("isFallbackAdapter"); v.Type() == js.TypeBoolean {
			fallback = v.Bool()
		}
	}
	if v := adapter.Get("isFallbackAdapter"); v.Type() == js.TypeBoolean && v.Bool() {
		fallback = true
	}
	if len(parts) == 0 {
		return "adapter without details", fallback
	}
	return strings.Join(parts, ", "), fallback
}

// await waits for a JS promise and returns its value or its rejection.
func await(promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		ch <- result{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	promise.Call("then", onOK, onErr)
	r := <-ch
	return r.v, r.err
}
