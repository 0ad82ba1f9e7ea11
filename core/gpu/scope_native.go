//go:build !js

package gpu

// The binding (cogentcore/webgpu v0.23.0) wraps each Create* call in its own
// validation scope but exposes neither error scopes nor an uncaptured-error
// callback, and wgpu-native aborts the process on an uncaptured error. So we
// call the two C entry points ourselves. They are declared here rather than
// through wgpu.h, whose path inside the module cache we cannot name; the
// static library is linked by the binding's own cgo flags. wgpu-native calls
// the pop callback before wgpuDevicePopErrorScope returns, which is what lets
// the result live on the C stack.

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct WGPUDeviceImpl* WGPUDevice;
typedef void (*gradlab_error_cb)(uint32_t type, char const * message, void * userdata);
void wgpuDevicePushErrorScope(WGPUDevice device, uint32_t filter);
void wgpuDevicePopErrorScope(WGPUDevice device, gradlab_error_cb callback, void * userdata);

typedef struct { uint32_t type; char * msg; size_t cap; } gradlab_scope_result;

static void gradlab_scope_cb(uint32_t type, char const * message, void * userdata) {
	gradlab_scope_result * r = (gradlab_scope_result *)userdata;
	r->type = type;
	if (message != NULL && r->cap > 0) {
		strncpy(r->msg, message, r->cap - 1);
		r->msg[r->cap - 1] = 0;
	}
}

// Filters: 0 validation, 1 out-of-memory.
static void gradlab_push_scopes(WGPUDevice dev) {
	wgpuDevicePushErrorScope(dev, 1);
	wgpuDevicePushErrorScope(dev, 0);
}

// Pops validation then out-of-memory; returns the first error type found
// (0 none, 1 validation, 2 out of memory, 3 internal, 4 unknown, 5 lost).
static uint32_t gradlab_pop_scopes(WGPUDevice dev, char * msg, size_t cap) {
	gradlab_scope_result v = {0, msg, cap};
	wgpuDevicePopErrorScope(dev, gradlab_scope_cb, &v);
	if (v.type != 0) {
		gradlab_scope_result o = {0, NULL, 0};
		wgpuDevicePopErrorScope(dev, gradlab_scope_cb, &o);
		return v.type;
	}
	gradlab_scope_result o = {0, msg, cap};
	wgpuDevicePopErrorScope(dev, gradlab_scope_cb, &o);
	return o.type;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// devRef is the C handle inside a wgpu.Device (its only field; openPlatform
// checks the size).
func devRef(dev *wgpu.Device) C.WGPUDevice {
	return *(*C.WGPUDevice)(unsafe.Pointer(dev))
}

func pushScopes(ref C.WGPUDevice) { C.gradlab_push_scopes(ref) }

var errorTypeNames = map[uint32]string{1: "validation error", 2: "out of memory", 3: "internal error", 4: "unknown error", 5: "device lost"}

// popScopes returns the scopes' error, and whether it was a device loss.
func popScopes(ref C.WGPUDevice) (error, bool) {
	const capacity = 4096
	buf := (*C.char)(C.calloc(capacity, 1))
	defer C.free(unsafe.Pointer(buf))
	typ := uint32(C.gradlab_pop_scopes(ref, buf, capacity))
	if typ == 0 {
		return nil, false
	}
	return fmt.Errorf("%s: %s", errorTypeNames[typ], C.GoString(buf)), typ == 5
}
