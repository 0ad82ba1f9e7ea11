//go:build js

package gpu

import (
	"errors"
	"testing"
	"time"
)

// In the browser a readback that does not settle in time is abandoned: the
// run reports ErrTimeout and the device is destroyed and marked lost, so the
// page can open a new one instead of hanging. A 1 ns timeout stands in for
// a kernel that runs too long. It uses its own device: the shared one must
// survive.
func TestCustomTimeoutResetsDevice(t *testing.T) {
	d, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	k, err := d.CompileCustom(customReluPrelude, customReluSrc, customReluLayout)
	if err != nil {
		t.Fatal(err)
	}
	run := customRun(64)
	run.Timeout = time.Nanosecond
	if _, err := k.Run(run); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if _, err := d.Empty(4); !errors.Is(err, ErrDeviceLost) {
		t.Fatalf("after a timeout the device gives %v, want ErrDeviceLost", err)
	}
	d2, err := Open(Options{})
	if err != nil {
		t.Fatalf("a new device after the timeout: %v", err)
	}
	defer d2.Close()
	k2, err := d2.CompileCustom(customReluPrelude, customReluSrc, customReluLayout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Run(customRun(64)); err != nil {
		t.Fatalf("the new device: %v", err)
	}
}
