// Package gpu is gradlab's WebGPU runtime: the only package that imports the
// binding (github.com/cogentcore/webgpu/wgpu), so replacing the binding
// touches this package alone. The same Go code drives WGSL kernels natively
// (wgpu-native: Vulkan/Metal/D3D12, Mesa lavapipe on machines without a GPU)
// and in the browser (GOOS=js, navigator.gpu). Kernel sources live in
// gradlab/shaders, one .wgsl file per op family.
//
// # Using it
//
//	d, err := gpu.Open(gpu.Options{})    // errors.Is(err, gpu.ErrNoAdapter) without a GPU
//	x, _ := d.Upload(t)                   // *tensor.Tensor (float64) -> f32 on the GPU
//	y, _ := d.Relu(x)                     // recorded, not yet submitted
//	out, _ := y.Read()                    // submits, waits, copies back
//	x.Release(); y.Release()              // buffers return to the pool
//
// Ops (Relu, MatMul, AffineForward, Dropout, ...) validate shapes in Go and
// return tensor.Errorf errors naming the op and shapes, like core/nn.
//
// # Design, for engineers adding kernels
//
// Adding an op is: a WGSL entry point in shaders/<family>.wgsl, a Kernel
// value (shader, entry, binding layout, constants), and a Go method that
// checks shapes, allocates outputs with d.newTensor and records with
// d.dispatch or d.elementwise (see relu.go, the smallest complete example,
// and matmul.go for constants and 2-D grids). Every op method takes d.mu.
//
// Recorder (recorder.go). Ops do not submit. Each dispatch is recorded into
// one command encoder, in one compute pass kept open across dispatches
// (WebGPU makes a dispatch's storage writes visible to the next one in the
// pass). Flush submits; Read submits and waits; Sync submits and waits
// without copying (for timing). A training step therefore costs one submit
// and no readback unless the caller asks for a value.
//
// Buffer pool (pool.go). Tensor buffers come from a pool keyed by (size
// class, usage); size classes are m*2^e with m in 4..7 (at most 25% waste).
// Release does not make a buffer reusable at once: commands already recorded
// may still read it, and a queue write into it (Upload) would execute before
// them. Released buffers wait until the next submit. Pooled memory is not
// cleared: use Zeros/Full when a kernel does not overwrite every element.
//
// Pipeline cache (pipeline.go). Pipelines are cached by (shader, entry point,
// constants, layout); shader modules by (shader, constants). Layouts are
// always explicit: auto layouts panic in the browser binding.
// Constants are WGSL `const` declarations prepended to the source (the
// binding passes no override constants), so a shader must not declare the
// names it takes as constants.
//
// Binding convention (see shaders/shaders.go): group 0; binding 0 is a
// uniform struct of 4-byte u32/f32 fields built with params{}.u32(...).f32(...)
// and padded to 16 bytes; storage buffers follow, inputs first, outputs
// last; Kernel.Bindings marks unused numbers Unused. The uniform buffer for a
// given parameter block is created once (with its contents, no queue write)
// and cached, so repeated steps allocate nothing. A Go uniform block must
// cover the whole WGSL struct even when an entry point reads only part of it.
//
// Grids (recorder.go grid1D). One dimension holds at most
// maxComputeWorkgroupsPerDimension (65535) workgroups; element-wise kernels
// get a 2-D grid and fold it back with gid.x + gid.y * num_workgroups.x * WG.
// Every kernel bounds-checks: pooled buffers are larger than their tensors,
// and bindings are sized to the tensor exactly.
//
// Limits. Open requests the adapter's own maxStorageBufferBindingSize,
// maxBufferSize, workgroup storage and invocation limits (natively through
// RequiredLimits; in the browser through requestDevice called via
// syscall/js, because the binding drops requiredLimits). A tensor larger
// than one storage binding is refused with an error naming its size and the
// limit; nothing splits tensors yet.
//
// Errors. Pipeline, bind-group and buffer creation and every submit run
// inside validation and out-of-memory error scopes (scoped), and come back
// as Go errors with the op as context. Natively the binding exposes no
// scopes, so scope_native.go calls wgpuDevicePushErrorScope/PopErrorScope
// directly. Two native limits of wgpu-native v0.19 remain: errors raised by
// queue submit itself, and device loss, are fatal (the process aborts) —
// the binding's device-lost callback cannot be used (it trips cgocheck) —
// so the runtime never submits work the device could reject (see Flush).
// In the browser nothing is fatal: the device's lost promise marks the
// Device, and every later call returns ErrDeviceLost with the reason. There,
// popping a scope awaits a promise, so per-dispatch calls (bind groups) are
// not scoped one by one: one scope pair spans each command encoder, and its
// errors come back from the Flush or Read that submits it.
//
// Networks (network.go). Network runs a whole net.Spec: every layer's
// forward, softmax cross-entropy, every backward and every optimizer update
// of one training step are recorded into one command encoder and submitted
// once; the loss stays on the GPU until ReadLoss. It implements
// train.Backend, so core/train's loop drives it exactly as it drives the
// float64 CPU net, and the parity tests compare a whole step of the two.
//
// Custom kernels (custom.go). Exercise mode compiles a learner's WGSL with a
// fixed binding layout: compile errors come back with line and column in the
// learner's code, and every loop body gets a guard that breaks out after
// LoopBudget iterations and raises a flag, so an endless loop cannot hang the
// page (see custom_guard.go).
//
// Tests. go test ./core/gpu runs the parity suite on whatever adapter Open
// finds (lavapipe here); go test ./core/gpu/browsertest builds the same suite
// for GOOS=js and runs it in headless Chromium (SwiftShader WebGPU).
//
// js vs native. platform_native.go and platform_js.go hold everything that
// differs: device creation, error scopes, queue writes (the binding's
// WriteBuffer needs globalThis.wasm, so the js side calls
// queue.writeBuffer itself), buffer mapping, and waiting. Under GOOS=js,
// Open, Read and Sync wait on JavaScript promises: call them from main or a
// goroutine, never inside a js.FuncOf callback, or the page deadlocks.
package gpu
