package gpu

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cogentcore/webgpu/wgpu"
)

// ErrNoAdapter is returned (wrapped) by Open when no WebGPU adapter exists:
// no GPU driver, no Vulkan ICD (install mesa-vulkan-drivers for lavapipe), or
// a browser without WebGPU. Test with errors.Is.
var ErrNoAdapter = errors.New("gpu: no WebGPU adapter found")

// ErrDeviceLost is returned (wrapped, with the driver's reason) by every call
// after the device was lost: driver reset, out of memory, tab backgrounded.
// The Device is then dead; Open a new one.
var ErrDeviceLost = errors.New("gpu: device lost")

// ErrClosed is returned by calls on a Device after Close.
var ErrClosed = errors.New("gpu: device closed")

// Options tunes Open. The zero value asks for everything the adapter offers.
type Options struct {
	// MaxWorkgroupsPerDim, when non-zero, lowers the per-dimension workgroup
	// cap used to split large 1-D dispatches into 2-D grids. Tests set it
	// small to exercise the 2-D path on small tensors.
	MaxWorkgroupsPerDim uint32
	// MaxBindingBytes, when non-zero, lowers the largest tensor accepted,
	// e.g. to emulate a browser's default 128 MiB binding limit.
	MaxBindingBytes uint64
}

// AdapterInfo describes the adapter for the UI and for benchmark reports.
type AdapterInfo struct {
	Name         string // "NVIDIA H200", "llvmpipe (LLVM 15.0.6, 256 bits)", ...
	Vendor       string
	Architecture string
	Description  string // driver description, when the platform gives one
	Backend      string // "vulkan", "metal", "d3d12", "webgpu" (browser), ...
	Type         string // "discrete-gpu", "integrated-gpu", "cpu", "unknown"
	// Fallback is true for software adapters (lavapipe, SwiftShader):
	// correct but orders of magnitude slower than a GPU.
	Fallback bool
}

func (a AdapterInfo) String() string {
	s := fmt.Sprintf("%s (%s, %s)", a.Name, a.Backend, a.Type)
	if a.Fallback {
		s += " [software fallback]"
	}
	return s
}

// Limits are the device limits gradlab sizes its work by. Open requests the
// adapter's own values, not WebGPU's conservative defaults.
type Limits struct {
	MaxStorageBufferBindingSize       uint64
	MaxBufferSize                     uint64
	MaxUniformBufferBindingSize       uint64
	MaxComputeWorkgroupStorageSize    uint32
	MaxComputeInvocationsPerWorkgroup uint32
	MaxComputeWorkgroupSizeX          uint32
	MaxComputeWorkgroupSizeY          uint32
	MaxComputeWorkgroupsPerDimension  uint32
	MaxStorageBuffersPerShaderStage   uint32
}

func limitsFrom(l wgpu.Limits) Limits {
	return Limits{
		MaxStorageBufferBindingSize:       l.MaxStorageBufferBindingSize,
		MaxBufferSize:                     l.MaxBufferSize,
		MaxUniformBufferBindingSize:       l.MaxUniformBufferBindingSize,
		MaxComputeWorkgroupStorageSize:    l.MaxComputeWorkgroupStorageSize,
		MaxComputeInvocationsPerWorkgroup: l.MaxComputeInvocationsPerWorkgroup,
		MaxComputeWorkgroupSizeX:          l.MaxComputeWorkgroupSizeX,
		MaxComputeWorkgroupSizeY:          l.MaxComputeWorkgroupSizeY,
		MaxComputeWorkgroupsPerDimension:  l.MaxComputeWorkgroupsPerDimension,
		MaxStorageBuffersPerShaderStage:   l.MaxStorageBuffersPerShaderStage,
	}
}

// Device is an open WebGPU device with gradlab's buffer pool, pipeline cache
// and command recorder. Methods are safe for concurrent use but serialise on
// one lock: the GPU queue is a single ordered stream anyway.
type Device struct {
	mu     sync.Mutex
	dev    *wgpu.Device
	queue  *wgpu.Queue
	info   AdapterInfo
	limits Limits
	opts   Options
	plat   platform // native or js handles (platform_native.go, platform_js.go)

	lostMu  sync.Mutex
	lostMsg string // non-empty once the device-lost callback has fired
	closed  bool

	pool     bufferPool
	pipes    map[string]*pipeline
	modules  map[string]*wgpu.ShaderModule
	uniforms uniformCache
	rec      recorder
}

// Open requests a high-performance adapter and a device with the adapter's
// own limits. Natively that is wgpu-native (Vulkan, Metal, D3D12; lavapipe on
// a machine without a GPU); under GOOS=js it is the browser's navigator.gpu.
// Under GOOS=js, call Open from main or a goroutine, never from inside a
// js.FuncOf callback: it waits on JavaScript promises.
func Open(opts Options) (*Device, error) {
	d := &Device{
		opts:    opts,
		pipes:   map[string]*pipeline{},
		modules: map[string]*wgpu.ShaderModule{},
	}
	d.pool.init()
	d.uniforms.init()
	if err := d.openPlatform(); err != nil {
		return nil, err
	}
	if opts.MaxBindingBytes != 0 && opts.MaxBindingBytes < d.limits.MaxStorageBufferBindingSize {
		d.limits.MaxStorageBufferBindingSize = opts.MaxBindingBytes
	}
	if opts.MaxWorkgroupsPerDim != 0 && opts.MaxWorkgroupsPerDim < d.limits.MaxComputeWorkgroupsPerDimension {
		d.limits.MaxComputeWorkgroupsPerDimension = opts.MaxWorkgroupsPerDim
	}
	return d, nil
}

// Info describes the adapter the device runs on.
func (d *Device) Info() AdapterInfo { return d.info }

// Limits are the limits granted to the device (after Options caps).
func (d *Device) Limits() Limits { return d.limits }

// markLost records the driver's reason; called from the device-lost callback,
// which may run on any thread (natively) or as a JS promise callback.
func (d *Device) markLost(msg string) {
	if msg == "" {
		msg = "no reason given"
	}
	d.lostMu.Lock()
	if d.lostMsg == "" {
		d.lostMsg = msg
	}
	d.lostMu.Unlock()
}

// alive returns the error every entry point reports once the device cannot
// be used any more. Callers hold d.mu.
func (d *Device) alive() error {
	if d.closed {
		return ErrClosed
	}
	d.lostMu.Lock()
	msg := d.lostMsg
	d.lostMu.Unlock()
	if msg != "" {
		return fmt.Errorf("%w: %s", ErrDeviceLost, msg)
	}
	return nil
}

// Close submits pending work, frees every pooled buffer and cached pipeline
// and releases the device. Tensors of this device must not be used after.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	var err error
	if d.alive() == nil {
		err = d.flushLocked()
		d.wait() // Destroy below frees at once, so the GPU must be done
	}
	d.rec.discard()
	d.pool.destroyAll()
	d.uniforms.destroyAll()
	for _, p := range d.pipes {
		p.release()
	}
	for _, m := range d.modules {
		m.Release()
	}
	d.pipes, d.modules = nil, nil
	d.closed = true
	d.closePlatform()
	return err
}
