//go:build js

package gpu

import (
	"fmt"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// compileModule creates the module through syscall/js so that its
// getCompilationInfo() is reachable: the browser reports compile errors
// there, each with a line and column, and not as exceptions.
func (d *Device) compileModule(code string) (*wgpu.ShaderModule, []CompileMessage, error) {
	if unsafe.Sizeof(wgpu.ShaderModule{}) != unsafe.Sizeof(js.Value{}) {
		return nil, nil, fmt.Errorf("gpu: unexpected wgpu.ShaderModule layout (binding version changed?)")
	}
	d.pushScopes()
	mod := d.plat.device.Call("createShaderModule", map[string]any{"code": code, "label": "custom"})
	info, infoErr := await(mod.Call("getCompilationInfo"))
	scopeErrs := d.popScopes()
	if err := d.alive(); err != nil {
		return nil, nil, err
	}
	var msgs []CompileMessage
	if infoErr == nil {
		list := info.Get("messages")
		for i := 0; i < list.Length(); i++ {
			m := list.Index(i)
			if m.Get("type").String() != "error" {
				continue
			}
			msgs = append(msgs, CompileMessage{
				Line: m.Get("lineNum").Int(),
				Col:  m.Get("linePos").Int(),
				Kind: "error",
				Text: m.Get("message").String(),
			})
		}
	}
	// An invalid module with no message (should not happen) still must
	// not reach pipeline creation unreported.
	if len(msgs) == 0 && len(scopeErrs) > 0 {
		for _, e := range scopeErrs {
			msgs = append(msgs, CompileMessage{Kind: "error", Text: e.Error()})
		}
	}
	var w wgpu.ShaderModule
	*(*js.Value)(unsafe.Pointer(&w)) = mod
	return &w, msgs, nil
}

// mapReadTimeout maps the staging buffer but gives up after timeout: a
// kernel that runs too long (or a GPU that hangs) must not freeze the page.
// The device is then destroyed and marked lost, which also makes the
// browser abandon the work; the caller opens a new one.
func (d *Device) mapReadTimeout(staging *wgpu.Buffer, size uint64, timeout time.Duration) ([]byte, error) {
	b := jsBuffer(staging)
	const mapRead = 1 // GPUMapMode.READ
	type result struct{ err error }
	ch := make(chan result, 1)
	ok := js.FuncOf(func(js.Value, []js.Value) any { ch <- result{}; return nil })
	defer ok.Release()
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		ch <- result{fmt.Errorf("%s", msg)}
		return nil
	})
	defer fail.Release()
	b.Call("mapAsync", mapRead, 0, size).Call("then", ok, fail)
	select {
	case r := <-ch:
		if r.err != nil {
			if aerr := d.alive(); aerr != nil {
				return nil, aerr
			}
			return nil, fmt.Errorf("map for reading failed: %v", r.err)
		}
	case <-time.After(timeout):
		d.markLost(fmt.Sprintf("a custom kernel did not finish within %v", timeout))
		d.plat.device.Call("destroy")
		return nil, ErrTimeout
	}
	src := js.Global().Get("Uint8Array").New(b.Call("getMappedRange", 0, size))
	out := make([]byte, size)
	js.CopyBytesToGo(out, src)
	b.Call("unmap")
	return out, nil
}

// LoseForTest destroys the underlying device, as a driver reset would: the
// next calls return ErrDeviceLost. The exercise page's tests use it to check
// that a lost device is replaced.
func (d *Device) LoseForTest() {
	d.plat.device.Call("destroy")
	d.markLost("destroyed on purpose by a test")
}
