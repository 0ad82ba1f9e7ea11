//go:build !js

// Package browsertest runs core/gpu's test suite under GOOS=js in headless
// Chromium, whose WebGPU (SwiftShader without a GPU) is a different
// implementation from wgpu-native: same kernels, same parity assertions,
// browser code paths (platform_js.go). It needs the chromium binary; it
// skips without it unless CI=true.
package browsertest
