package app

import (
	"math"
	"os"
	"testing"

	"gradlab/core/gpu"
	"gradlab/core/tensor"
)

// The page's CPU gradient checks must pass the course thresholds: a wrong
// layer, a wrong numerical gradient or a mis-wired check fails here.
func TestP5CPUChecksPass(t *testing.T) {
	for _, c := range LayerChecks() {
		errs, err := c.CPU()
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if len(errs) == 0 {
			t.Fatalf("%s: no errors reported", c.Name)
		}
		for _, e := range errs {
			t.Logf("%s %s: %.3g (threshold %.0g)", c.Name, e.Name, e.Err, e.Threshold)
			if !e.Pass() || math.IsNaN(e.Err) {
				t.Errorf("%s %s: rel error %.3g above the threshold %.0g", c.Name, e.Name, e.Err, e.Threshold)
			}
		}
	}
}

// GPU parity on the native adapter (lavapipe here): skipped without one,
// failed in CI, as core/gpu's tests do.
func TestP5GPUChecksPass(t *testing.T) {
	d, err := gpu.Open(gpu.Options{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no WebGPU adapter in CI: %v", err)
		}
		t.Skipf("no WebGPU adapter: %v", err)
	}
	defer d.Close()
	n := 0
	for _, c := range LayerChecks() {
		if c.GPU == nil {
			continue
		}
		n++
		res, err := c.GPU(d)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if res.Tolerance == "" || len(res.Errors) == 0 {
			t.Fatalf("%s: empty result %+v", c.Name, res)
		}
		for _, e := range res.Errors {
			t.Logf("%s %s: ratio %.3g, max diff %.3g of max %.3g", c.Name, e.Name, e.Ratio, e.MaxDiff, e.Scale)
			if !e.Pass() {
				t.Errorf("%s %s: |gpu - ref| / bound = %.3g > 1 (max diff %.3g)", c.Name, e.Name, e.Ratio, e.MaxDiff)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d layers have a GPU check", n)
	}
}

// compare flags an element outside its bound, and a NaN, and accepts one
// inside: the GPU checks' verdict rests on it.
func TestP5CompareFlagsErrors(t *testing.T) {
	d, err := gpu.Open(gpu.Options{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no WebGPU adapter in CI: %v", err)
		}
		t.Skipf("no WebGPU adapter: %v", err)
	}
	defer d.Close()
	want, _ := tensor.FromData([]float64{1, 2, 3}, 3)
	g, err := d.Upload(want)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Release()
	for _, c := range []struct {
		shift, bound float64
		pass         bool
	}{{0, 0, true}, {1e-3, 2e-3, true}, {1e-3, 5e-4, false}, {1e-3, 0, false}, {math.NaN(), 1, false}} {
		w := want.Clone()
		w.Data[1] += c.shift
		e, err := compare("x", g, w, []float64{c.bound, c.bound, c.bound})
		if err != nil {
			t.Fatal(err)
		}
		if e.Pass() != c.pass {
			t.Errorf("shift %g, bound %g: pass %v (ratio %g), want %v", c.shift, c.bound, e.Pass(), e.Ratio, c.pass)
		}
	}
	short, _ := tensor.FromData([]float64{1, 2}, 2)
	if _, err := compare("x", g, short, []float64{0, 0}); err == nil {
		t.Error("sizes 3 and 2 compared without an error")
	}
}
