//go:build !js

package gpu

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// platform holds the native handles the Device needs besides wgpu.Device.
type platform struct {
	inst    *wgpu.Instance
	adapter *wgpu.Adapter
}

func (d *Device) openPlatform() error {
	// The binding keeps the C handle as the only field of wgpu.Device; the
	// error scopes below need it. Refuse to run if a binding upgrade changed
	// that layout rather than pass garbage to C.
	if unsafe.Sizeof(wgpu.Device{}) != unsafe.Sizeof(uintptr(0)) {
		return fmt.Errorf("gpu: unexpected wgpu.Device layout (binding version changed?)")
	}
	inst := wgpu.CreateInstance(nil)
	if inst == nil {
		return fmt.Errorf("%w: could not create a wgpu instance", ErrNoAdapter)
	}
	adapter, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil || adapter == nil {
		inst.Release()
		return fmt.Errorf("%w (%v); on Linux without a GPU install mesa-vulkan-drivers for lavapipe", ErrNoAdapter, err)
	}
	ai := adapter.GetInfo()
	dev, err := adapter.RequestDevice(&wgpu.DeviceDescriptor{
		Label: "gradlab",
		// Ask for what the adapter supports where compute cares: the
		// defaults cap a storage binding at 128 MiB and workgroup memory at
		// 16 KiB. The rest stay undefined (= defaults): passing every
		// adapter limit back makes wgpu-native refuse the device.
		RequiredLimits: &wgpu.RequiredLimits{Limits: computeLimits(adapter.GetLimits().Limits)},
		// No DeviceLostCallback: binding v0.23.0 stores a Go pointer in
		// the C descriptor for it, which cgocheck rejects with a panic.
		// Device loss is seen instead as a "device lost" error from the
		// error scopes around every submit (popScopes marks the device),
		// or as a failed buffer map.
	})
	if err != nil {
		adapter.Release()
		inst.Release()
		return fmt.Errorf("gpu: adapter %q refused a device with its own limits: %w", ai.Name, err)
	}
	// wgpu-native v0.19 (this binding) puts the human-readable adapter name
	// ("llvmpipe (LLVM 15.0.6, 256 bits)", "NVIDIA H200") in the
	// description and a hex id in the device-name field.
	name := ai.DriverDescription
	if name == "" {
		name = ai.Name
	}
	d.info = AdapterInfo{
		Name:         name,
		Vendor:       ai.VendorName,
		Architecture: ai.Architecture,
		Description:  ai.Name,
		Backend:      strings.ToLower(ai.BackendType.String()),
		Type:         ai.AdapterType.String(),
		Fallback:     ai.AdapterType == wgpu.AdapterTypeCPU,
	}
	d.dev = dev
	d.queue = dev.GetQueue()
	d.limits = limitsFrom(dev.GetLimits().Limits)
	d.plat = platform{inst: inst, adapter: adapter}
	return nil
}

func (d *Device) closePlatform() {
	d.queue.Release()
	d.dev.Release()
	d.plat.adapter.Release()
	d.plat.inst.Release()
}

// scoped runs f inside validation and out-of-memory error scopes and returns
// what they caught, with what as context. wgpu-native treats an error outside
// any scope as fatal (it aborts the process), so every call that can fail
// validation after our own checks (pipeline creation, submit) goes through
// here.
func (d *Device) scoped(what string, f func() error) error {
	ref := devRef(d.dev)
	pushScopes(ref)
	ferr := f()
	serr, lost := popScopes(ref)
	if lost {
		d.markLost(serr.Error())
	}
	if serr != nil {
		return fmt.Errorf("gpu: %s: %w", what, serr)
	}
	if ferr != nil {
		return fmt.Errorf("gpu: %s: %w", what, ferr)
	}
	return nil
}

// writeBuffer copies data into the start of buf. queue.writeBuffer is ordered
// before the next submit, which is why released buffers only return to the
// pool after the submit that last used them (see pool.go).
func (d *Device) writeBuffer(buf *wgpu.Buffer, data []byte) error {
	return d.queue.WriteBuffer(buf, 0, data)
}

// mapRead maps a MapRead staging buffer that the just-submitted work wrote and
// copies size bytes out. Polling blocks this goroutine until the GPU is done.
func (d *Device) mapRead(staging *wgpu.Buffer, size uint64) ([]byte, error) {
	done := false
	var status wgpu.BufferMapAsyncStatus
	err := staging.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) {
		status, done = s, true
	})
	if err != nil {
		return nil, err
	}
	for !done {
		d.dev.Poll(true, nil)
		if e := d.alive(); e != nil {
			return nil, e
		}
	}
	if status == wgpu.BufferMapAsyncStatusDeviceLost {
		d.markLost("buffer map reported device lost")
		return nil, d.alive()
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return nil, fmt.Errorf("map for reading failed: %s", status)
	}
	out := make([]byte, size)
	copy(out, staging.GetMappedRange(0, uint(size)))
	return out, staging.Unmap()
}

func endPass(p *wgpu.ComputePassEncoder) error { return p.End() }

// computeLimits keeps the adapter's values for the limits compute kernels
// depend on and leaves every other limit at its default.
func computeLimits(a wgpu.Limits) wgpu.Limits {
	l := wgpu.DefaultLimits()
	l.MaxStorageBufferBindingSize = a.MaxStorageBufferBindingSize
	l.MaxBufferSize = a.MaxBufferSize
	l.MaxUniformBufferBindingSize = a.MaxUniformBufferBindingSize
	l.MaxComputeWorkgroupStorageSize = a.MaxComputeWorkgroupStorageSize
	l.MaxComputeInvocationsPerWorkgroup = a.MaxComputeInvocationsPerWorkgroup
	l.MaxComputeWorkgroupSizeX = a.MaxComputeWorkgroupSizeX
	l.MaxComputeWorkgroupSizeY = a.MaxComputeWorkgroupSizeY
	l.MaxComputeWorkgroupSizeZ = a.MaxComputeWorkgroupSizeZ
	l.MaxComputeWorkgroupsPerDimension = a.MaxComputeWorkgroupsPerDimension
	l.MaxStorageBuffersPerShaderStage = a.MaxStorageBuffersPerShaderStage
	return l
}

// wait blocks until the GPU has finished all submitted work.
func (d *Device) wait() { d.dev.Poll(true, nil) }

// recordScoped wraps calls made per dispatch (bind groups). Natively a scope
// is a cheap synchronous call, so each gets its own, attributed error.
func (d *Device) recordScoped(what string, f func() error) error { return d.scoped(what, f) }

// Natively there is no recording-wide scope: see recordScoped.
func (d *Device) openRecordingScope()        {}
func (d *Device) closeRecordingScope() error { return nil }
