package gpu

import (
	"errors"
	"os"
	"sync"
	"testing"
)

var (
	testOnce sync.Once
	testDev  *Device
	testErr  error
)

// device returns the package's shared test device. Without an adapter the
// test skips, except under CI=true, where a missing adapter (CI installs
// lavapipe) must fail rather than silently skip the GPU suite.
func device(t testing.TB) *Device {
	t.Helper()
	testOnce.Do(func() {
		testDev, testErr = Open(Options{})
		if testErr == nil {
			t.Logf("adapter: %s", testDev.Info())
		}
	})
	if testErr != nil {
		if errors.Is(testErr, ErrNoAdapter) && os.Getenv("CI") != "true" {
			t.Skipf("no WebGPU adapter (install mesa-vulkan-drivers for lavapipe): %v", testErr)
		}
		t.Fatalf("Open: %v", testErr)
	}
	return testDev
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testDev != nil {
		testDev.Close()
	}
	os.Exit(code)
}
