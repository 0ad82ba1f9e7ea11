package gpu

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"gradlab/core/tensor"
)

func TestOpenReportsAdapterAndLimits(t *testing.T) {
	d := device(t)
	info := d.Info()
	if info.Name == "" || info.Backend == "" {
		t.Fatalf("adapter info incomplete: %+v", info)
	}
	l := d.Limits()
	// WebGPU's guaranteed minimums; a device below them is misreported.
	if l.MaxStorageBufferBindingSize < 128<<20 || l.MaxComputeWorkgroupStorageSize < 16<<10 || l.MaxComputeWorkgroupsPerDimension < 65535 {
		t.Fatalf("limits below the WebGPU minimums: %+v", l)
	}
}

func TestUploadReadRoundTrip(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(1, 1))
	for _, shape := range [][]int{{1}, {3}, {2, 3}, {4, 1, 5}, {2, 3, 4, 5}, {1000, 3}} {
		data := randF32(r, shapeLen(shape))
		x := upload(t, d, data, shape...)
		got := read(t, x)
		for i := range data {
			if got[i] != data[i] {
				t.Fatalf("%v: element %d read back %v, uploaded %v", shape, i, got[i], data[i])
			}
		}
		if !shapeEq(x.Shape(), shape) {
			t.Fatalf("shape %v, want %v", x.Shape(), shape)
		}
		x.Release()
	}
	// The float64 path converts both ways.
	src, _ := tensor.FromData([]float64{1.5, -2.25, 3}, 3, 1)
	x, err := d.Upload(src)
	if err != nil {
		t.Fatal(err)
	}
	back, err := x.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !shapeEq(back.Shape, src.Shape) || back.Data[0] != 1.5 || back.Data[1] != -2.25 || back.Data[2] != 3 {
		t.Fatalf("Read gave %v %v", back.Shape, back.Data)
	}
	x.Release()
}

func TestFillAndZerosOverwritePooledGarbage(t *testing.T) {
	d := device(t)
	junk := upload(t, d, []float32{1, 2, 3, 4, 5, 6, 7}, 7)
	junk.Release()
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	z, err := d.Zeros(7)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range read(t, z) {
		if v != 0 {
			t.Fatalf("Zeros element %d = %v", i, v)
		}
	}
	f, err := d.Full(-2.5, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range read(t, f) {
		if v != -2.5 {
			t.Fatalf("Full element %d = %v", i, v)
		}
	}
	release(z, f)
}

func TestSizeClasses(t *testing.T) {
	prev := uint64(0)
	for n := uint64(1); n < 1<<22; n += 1 + n/7 {
		c := sizeClass(n)
		// A class fits the request, wastes at most 25% above the minimum
		// class, and is monotone in the request.
		if c < n || (n > minClassBytes && float64(c) > 1.25*float64(n)) || c < prev {
			t.Fatalf("sizeClass(%d) = %d (previous %d)", n, c, prev)
		}
		prev = c
	}
}

func TestPoolReusesReleasedBuffers(t *testing.T) {
	device(t)
	// A fresh device: the shared one's pool holds buffers from other tests.
	d, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := upload(t, d, make([]float32, 1000), 1000)
	buf := a.buf
	a.Release()
	before := d.PoolStats()
	// Until a submit, the buffer may still be read by recorded work, so the
	// pool must not hand it out.
	b := upload(t, d, make([]float32, 1000), 1000)
	if b.buf == buf {
		t.Fatal("a buffer released before the submit was reused immediately")
	}
	bufB := b.buf
	b.Release()
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	// Same size class (990 and 1000 floats round to one class): reused.
	c := upload(t, d, make([]float32, 990), 990)
	after := d.PoolStats()
	if after.Reused != before.Reused+1 || after.Created != before.Created+1 {
		t.Fatalf("want one new buffer (for b) and one reuse (for c); stats before %+v after %+v", before, after)
	}
	if c.buf != buf && c.buf != bufB {
		t.Fatal("reused buffer is neither of the released ones")
	}
	c.Release()
	// Double release is harmless and does not put the buffer in twice.
	c.Release()
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestOversizeTensorRefused(t *testing.T) {
	d := device(t)
	limit := d.Limits().MaxStorageBufferBindingSize
	n := int(limit/4) + 1
	_, err := d.Empty(n)
	if err == nil {
		t.Fatalf("a %d-element tensor (%d bytes) passed a %d-byte binding limit", n, 4*n, limit)
	}
	msg := err.Error()
	for _, want := range []string{"gpu.Empty", "maxStorageBufferBindingSize", "bytes"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("error %q does not mention %q", msg, want)
		}
	}
	var te *tensor.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %T is not a *tensor.Error", err)
	}
	// Exactly at the limit is accepted (checked without allocating, on a
	// device whose limit Options lowered).
	small, err := Open(Options{MaxBindingBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	x, err := small.Empty(1024)
	if err != nil {
		t.Fatalf("1024 floats at a 4096-byte limit: %v", err)
	}
	x.Release()
	if _, err := small.UploadF32(make([]float32, 1025), 1025); err == nil || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("1025 floats at a 4096-byte limit: err %v", err)
	}
}

func TestBadShapesAndArgumentsError(t *testing.T) {
	d := device(t)
	x := upload(t, d, []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	defer x.Release()
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"empty shape", func() error { _, err := d.Empty(); return err }, "no dimensions"},
		{"zero dim", func() error { _, err := d.Empty(3, 0); return err }, "positive"},
		{"negative dim", func() error { _, err := d.Zeros(-1); return err }, "positive"},
		{"data/shape mismatch", func() error { _, err := d.UploadF32([]float32{1, 2, 3}, 2, 2); return err }, "needs 4 values, got 3"},
		{"nil upload", func() error { _, err := d.Upload(nil); return err }, "nil"},
		{"bad float64 tensor", func() error { _, err := d.Upload(&tensor.Tensor{Shape: []int{2}, Data: []float64{1}}); return err }, "needs 2 values"},
		{"nil relu input", func() error { _, err := d.Relu(nil); return err }, "nil"},
		{"relu backward shapes", func() error { _, err := d.ReluBackward(x, mustEmpty(t, d, 3, 2)); return err }, "(2, 3), (3, 2)"},
		{"matmul inner dims", func() error { _, err := d.MatMul(x, x, false, false); return err }, "inner dimensions differ: 3 vs 2"},
		{"matmul 1-d", func() error { _, err := d.MatMul(mustEmpty(t, d, 3), x, false, false); return err }, "2-d"},
		{"affine w rows", func() error { _, err := d.AffineForward(x, mustEmpty(t, d, 2, 4), mustEmpty(t, d, 4)); return err }, "D = 3"},
		{"affine b size", func() error { _, err := d.AffineForward(x, mustEmpty(t, d, 3, 4), mustEmpty(t, d, 5)); return err }, "gpu.AffineForward"},
		{"affine backward dout", func() error { _, _, _, err := d.AffineBackward(x, x, mustEmpty(t, d, 3, 4)); return err }, "gpu.AffineBackward"},
		{"dropout p = 1", func() error { _, _, err := d.Dropout(x, 1, 0, 0, 0); return err }, "[0, 1)"},
		{"dropout p < 0", func() error { _, _, err := d.Dropout(x, -0.1, 0, 0, 0); return err }, "[0, 1)"},
		{"dropout p NaN", func() error { _, _, err := d.Dropout(x, nan(), 0, 0, 0); return err }, "[0, 1)"},
		{"spatial dropout 2-d", func() error { _, _, err := d.SpatialDropout(x, 0.5, 0, 0, 0); return err }, "NCHW"},
		{"dropout backward shapes", func() error { _, err := d.DropoutBackward(x, mustEmpty(t, d, 6)); return err }, "same shape"},
		{"spatial dropout backward mask", func() error {
			_, err := d.SpatialDropoutBackward(mustEmpty(t, d, 2, 3, 4, 5), mustEmpty(t, d, 2, 3, 4, 5))
			return err
		}, "(N, C, 1, 1)"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func mustEmpty(t *testing.T, d *Device, shape ...int) *Tensor {
	t.Helper()
	x, err := d.Empty(shape...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Release)
	return x
}

func TestReleasedAndForeignTensorsRefused(t *testing.T) {
	d := device(t)
	x := upload(t, d, []float32{1}, 1)
	x.Release()
	if _, err := d.Relu(x); err == nil || !strings.Contains(err.Error(), "released") {
		t.Fatalf("Relu of a released tensor: %v", err)
	}
	if _, err := x.ReadF32(); err == nil {
		t.Fatal("ReadF32 of a released tensor succeeded")
	}
	other, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	y := upload(t, other, []float32{1}, 1)
	if _, err := d.Relu(y); err == nil || !strings.Contains(err.Error(), "another device") {
		t.Fatalf("Relu of another device's tensor: %v", err)
	}
}

// A pipeline the device rejects must come back as a Go error with context,
// not abort the process (wgpu-native aborts on errors outside a scope).
func TestInvalidPipelineIsAnError(t *testing.T) {
	d := device(t)
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.pipelineFor(Kernel{Shader: "elementwise", Entry: "no_such_entry", Bindings: []Access{Uniform, Read, Unused, ReadWrite}})
	if err == nil || !strings.Contains(err.Error(), "elementwise.wgsl:no_such_entry") {
		t.Fatalf("missing entry point: err = %v", err)
	}
	// Layout says read-only where the shader writes: a validation error.
	_, err = d.pipelineFor(Kernel{Shader: "elementwise", Entry: "relu_forward", Bindings: []Access{Uniform, Read, Unused, Read}})
	if err == nil || !strings.Contains(err.Error(), "relu_forward") {
		t.Fatalf("mismatched layout: err = %v", err)
	}
	t.Logf("mismatched layout: %v", err)
	if _, err := d.pipelineFor(Kernel{Shader: "nope", Entry: "x", Bindings: []Access{Uniform}}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing shader: err = %v", err)
	}
}

func TestPipelineCacheKeysOnConstants(t *testing.T) {
	d := device(t)
	d.mu.Lock()
	defer d.mu.Unlock()
	p1, err := d.pipelineFor(matmulKernel(Tiled, false, false))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := d.pipelineFor(matmulKernel(Tiled, false, false))
	if err != nil {
		t.Fatal(err)
	}
	p3, err := d.pipelineFor(matmulKernel(Tiled, true, false))
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Fatal("same kernel compiled twice")
	}
	if p1 == p3 {
		t.Fatal("different constants share a pipeline")
	}
}

func TestDeviceLostIsReported(t *testing.T) {
	d, err := Open(Options{})
	if err != nil {
		t.Skip(err)
	}
	x := upload(t, d, []float32{1, -1}, 2)
	// Simulates the driver's lost callback: every later call must say so.
	d.markLost("test: simulated loss")
	for name, f := range map[string]func() error{
		"Relu":  func() error { _, err := d.Relu(x); return err },
		"Read":  func() error { _, err := x.ReadF32(); return err },
		"Flush": d.Flush,
		"Empty": func() error { _, err := d.Empty(1); return err },
	} {
		if err := f(); !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "simulated loss") {
			t.Errorf("%s after loss: %v", name, err)
		}
	}
	d.Close()
	if _, err := d.Empty(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Empty after Close: %v", err)
	}
}

func TestRecorderBatchesUntilRead(t *testing.T) {
	d := device(t)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	x := upload(t, d, []float32{-1, 2}, 2)
	y := x
	for i := 0; i < 10; i++ {
		z, err := d.Relu(y)
		if err != nil {
			t.Fatal(err)
		}
		if y != x {
			y.Release()
		}
		y = z
	}
	d.mu.Lock()
	n := d.rec.dispatches
	d.mu.Unlock()
	if n != 10 {
		t.Fatalf("%d dispatches pending before Read, want all 10 in one encoder", n)
	}
	got := read(t, y)
	if got[0] != 0 || got[1] != 2 {
		t.Fatalf("got %v", got)
	}
	d.mu.Lock()
	n = d.rec.dispatches
	d.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d dispatches still pending after Read", n)
	}
	release(x, y)
}

func nan() float64 { var z float64; return z / z }
