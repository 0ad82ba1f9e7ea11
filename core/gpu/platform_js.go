//go:build js

package gpu

import (
	"errors"
	"fmt"
	"syscall/js"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// platform holds the browser objects the binding does not expose.
type platform struct {
	device js.Value // GPUDevice
	funcs  []js.Func
}

// jsLimitNames are the adapter limits requested for the device: without them
// the browser grants WebGPU's defaults (128 MiB per binding, 16 KiB of
// workgroup memory), whatever the GPU can do.
var jsLimitNames = []string{
	"maxStorageBufferBindingSize", "maxBufferSize", "maxUniformBufferBindingSize",
	"maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup",
	"maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY", "maxComputeWorkgroupSizeZ",
	"maxComputeWorkgroupsPerDimension", "maxStorageBuffersPerShaderStage",
}

func (d *Device) openPlatform() error {
	// The binding's Buffer is one js.Value; jsBuffer below relies on it.
	if unsafe.Sizeof(wgpu.Buffer{}) != unsafe.Sizeof(js.Value{}) {
		return fmt.Errorf("gpu: unexpected wgpu.Buffer layout (binding version changed?)")
	}
	gpu := js.Global().Get("navigator").Get("gpu")
	if !gpu.Truthy() {
		return fmt.Errorf("%w: this browser has no navigator.gpu (WebGPU disabled or unsupported)", ErrNoAdapter)
	}
	adapter, err := await(gpu.Call("requestAdapter", map[string]any{"powerPreference": "high-performance"}))
	if err != nil || !adapter.Truthy() {
		return fmt.Errorf("%w: requestAdapter returned nothing (%v)", ErrNoAdapter, err)
	}
	// requestDevice through syscall/js: the binding drops requiredLimits.
	limits := adapter.Get("limits")
	required := map[string]any{}
	for _, n := range jsLimitNames {
		if v := limits.Get(n); v.Type() == js.TypeNumber {
			required[n] = v.Float()
		}
	}
	dev, err := await(adapter.Call("requestDevice", map[string]any{"requiredLimits": required}))
	if err != nil || !dev.Truthy() {
		return fmt.Errorf("gpu: adapter refused a device with its own limits: %v", err)
	}
	d.info = jsAdapterInfo(adapter)
	d.plat.device = dev
	// Marking lost only sets a field: nothing may block in a js.FuncOf.
	// Destroying the device on Close settles the lost promise too, after
	// Close has returned, so this callback is not among the funcs Close
	// releases: it releases itself when it runs.
	var onLost js.Func
	onLost = js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer onLost.Release()
		msg := "device lost"
		if len(args) > 0 && args[0].Truthy() {
			msg = fmt.Sprintf("%s: %s", args[0].Get("reason").String(), args[0].Get("message").String())
		}
		d.markLost(msg)
		return nil
	})
	dev.Get("lost").Call("then", onLost)
	w := wgpu.NewDevice(dev)
	d.dev = &w
	d.queue = w.GetQueue()
	d.limits = limitsFrom(w.GetLimits().Limits)
	return nil
}

func jsAdapterInfo(adapter js.Value) AdapterInfo {
	info := adapter.Get("info") // GPUAdapterInfo; Chrome 114+
	str := func(v js.Value, k string) string {
		if !v.Truthy() {
			return ""
		}
		if s := v.Get(k); s.Type() == js.TypeString {
			return s.String()
		}
		return ""
	}
	fallback := adapter.Get("isFallbackAdapter").Truthy() || (info.Truthy() && info.Get("isFallbackAdapter").Truthy())
	a := AdapterInfo{
		Vendor:       str(info, "vendor"),
		Architecture: str(info, "architecture"),
		Description:  str(info, "description"),
		Name:         str(info, "device"),
		Backend:      "webgpu",
		Type:         "unknown",
		Fallback:     fallback,
	}
	if a.Name == "" {
		a.Name = a.Description
	}
	if a.Name == "" {
		a.Name = a.Vendor + " " + a.Architecture
	}
	if fallback {
		a.Type = "cpu"
	}
	return a
}

func (d *Device) closePlatform() {
	d.plat.device.Call("destroy")
	for _, f := range d.plat.funcs {
		f.Release()
	}
}

// await waits for a promise. It blocks the calling goroutine, so it must not
// run inside a js.FuncOf callback (the promise could never settle).
func await(p js.Value) (js.Value, error) {
	if p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
		return p, nil
	}
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any {
		var v js.Value
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	defer ok.Release()
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer fail.Release()
	p.Call("then", ok, fail)
	r := <-ch
	return r.v, r.err
}

// scoped runs f inside out-of-memory and validation error scopes. In the
// browser, Create* and submit never return errors themselves (pitfall 4):
// the scopes are the only way to see them. Popping a scope waits on a
// promise, so per-dispatch calls use recordScoped instead.
func (d *Device) scoped(what string, f func() error) error {
	d.pushScopes()
	ferr := f()
	return d.scopeError(what, d.popScopes(), ferr)
}

func (d *Device) pushScopes() {
	d.plat.device.Call("pushErrorScope", "out-of-memory")
	d.plat.device.Call("pushErrorScope", "validation")
}

// popScopes pops the pair pushScopes pushed and returns what they caught.
func (d *Device) popScopes() []error {
	var errs []error
	for _, kind := range []string{"validation error", "out of memory"} {
		e, err := await(d.plat.device.Call("popErrorScope"))
		if err != nil {
			errs = append(errs, fmt.Errorf("popErrorScope: %v", err))
		} else if e.Truthy() {
			errs = append(errs, fmt.Errorf("%s: %s", kind, e.Get("message").String()))
		}
	}
	return errs
}

func (d *Device) scopeError(what string, errs []error, ferr error) error {
	if ferr != nil {
		errs = append(errs, ferr)
	}
	if err := errors.Join(errs...); err != nil {
		if aerr := d.alive(); aerr != nil {
			err = errors.Join(aerr, err)
		}
		return fmt.Errorf("gpu: %s: %w", what, err)
	}
	return nil
}

// recordScoped runs f without a scope of its own: an error lands in the
// recording scope opened with the command encoder and comes back from the
// next Flush or Read. Awaiting a scope per dispatch would cost a trip
// through the JS event loop for every op of a training step.
func (d *Device) recordScoped(what string, f func() error) error {
	if err := f(); err != nil {
		return fmt.Errorf("gpu: %s: %w", what, err)
	}
	return nil
}

// openRecordingScope brackets everything recorded into one command encoder.
func (d *Device) openRecordingScope() { d.pushScopes() }

func (d *Device) closeRecordingScope() error {
	return d.scopeError("recording (an op since the last submit)", d.popScopes(), nil)
}

// jsBuffer is the GPUBuffer inside a binding Buffer (its only field;
// openPlatform checks the size).
func jsBuffer(b *wgpu.Buffer) js.Value { return *(*js.Value)(unsafe.Pointer(b)) }

// writeBuffer copies data into the start of buf with queue.writeBuffer,
// called directly: the binding's WriteBuffer reads the wasm memory through
// globalThis.wasm, which go-app's loader does not set (pitfall 2).
func (d *Device) writeBuffer(buf *wgpu.Buffer, data []byte) error {
	arr := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(arr, data)
	d.plat.device.Get("queue").Call("writeBuffer", jsBuffer(buf), 0, arr)
	return nil
}

// mapRead maps a MapRead staging buffer and copies size bytes out; it waits
// on the mapAsync promise, so the caller must not be a js.FuncOf callback.
func (d *Device) mapRead(staging *wgpu.Buffer, size uint64) ([]byte, error) {
	b := jsBuffer(staging)
	const mapRead = 1 // GPUMapMode.READ
	if _, err := await(b.Call("mapAsync", mapRead, 0, size)); err != nil {
		if aerr := d.alive(); aerr != nil {
			return nil, aerr
		}
		return nil, fmt.Errorf("map for reading failed: %v", err)
	}
	src := js.Global().Get("Uint8Array").New(b.Call("getMappedRange", 0, size))
	out := make([]byte, size)
	js.CopyBytesToGo(out, src)
	b.Call("unmap")
	return out, nil
}

func endPass(p *wgpu.ComputePassEncoder) error {
	p.End()
	return nil
}

// wait blocks (this goroutine) until the GPU has finished all submitted work.
func (d *Device) wait() {
	await(d.plat.device.Get("queue").Call("onSubmittedWorkDone"))
}
