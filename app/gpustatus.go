package app

// GPUState is the outcome of looking for WebGPU, as a stable word the page
// carries in a data attribute so tests and styles can key on it.
type GPUState string

const (
	// GPUChecking: the check has not finished (or has not started, as in the
	// pre-rendered HTML before the wasm program runs).
	GPUChecking GPUState = "checking"
	// GPUWebGPU: navigator.gpu returned an adapter.
	GPUWebGPU GPUState = "webgpu"
	// GPUFallback: no usable adapter; gradlab computes on the CPU instead.
	GPUFallback GPUState = "cpu"
	// GPUNotBrowser: the code runs natively (server pre-render, tests).
	GPUNotBrowser GPUState = "native"
)

// GPUStatus is what the home page says about WebGPU in this browser.
type GPUStatus struct {
	State GPUState
	// Text is the sentence shown to the learner.
	Text string
	// Adapter describes the adapter (vendor, architecture, device) when
	// State is GPUWebGPU.
	Adapter string
	// Fallback reports an adapter that is itself a software implementation
	// (e.g. SwiftShader): WebGPU works but runs on the CPU.
	Fallback bool
}

func checkingStatus() GPUStatus {
	return GPUStatus{State: GPUChecking, Text: "Checking whether this browser offers WebGPU…"}
}

func fallbackStatus(why string) GPUStatus {
	return GPUStatus{
		State: GPUFallback,
		Text:  "No WebGPU here (" + why + "): CPU fallback is on, so gradlab runs its float64 reference layers on the CPU instead, more slowly.",
	}
}
