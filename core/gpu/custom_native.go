//go:build !js

package gpu

import (
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// compileModule compiles WGSL natively. wgpu-native reports a compile error
// only as the text of a validation error (naga's report, with the position
// as "wgsl:LINE:COL"), so the position is parsed out of it.
func (d *Device) compileModule(code string) (*wgpu.ShaderModule, []CompileMessage, error) {
	ref := devRef(d.dev)
	pushScopes(ref)
	mod, ferr := d.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
		Label:          "custom",
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: code},
	})
	serr, lost := popScopes(ref)
	if lost {
		d.markLost(serr.Error())
		return nil, nil, d.alive()
	}
	switch {
	case serr != nil:
		return mod, parseNativeMessages(serr.Error()), nil
	case ferr != nil:
		return mod, parseNativeMessages(ferr.Error()), nil
	}
	return mod, nil, nil
}

// mapReadTimeout is mapRead: natively the wait is a blocking poll that
// cannot be abandoned, which is safe because custom kernels' loops are
// bounded (custom_guard.go) and WGSL has no recursion.
func (d *Device) mapReadTimeout(staging *wgpu.Buffer, size uint64, _ time.Duration) ([]byte, error) {
	return d.mapRead(staging, size)
}

// LoseForTest marks the device lost, as a driver reset would: the next calls
// return ErrDeviceLost. (Natively a real loss aborts the process; see doc.go.)
func (d *Device) LoseForTest() {
	d.markLost("lost on purpose by a test")
}
