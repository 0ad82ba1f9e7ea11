//go:build !js

package app

// DetectWebGPU outside a browser: there is no navigator to ask.
func DetectWebGPU() GPUStatus {
	return GPUStatus{State: GPUNotBrowser, Text: "not in a browser"}
}
