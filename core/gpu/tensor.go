package gpu

import (
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"

	"gradlab/core/tensor"
)

// Tensor is an f32 array on the GPU: a pooled storage buffer and a row-major
// shape. Its contents stay on the device until Read; ops return new Tensors,
// and Release returns the buffer to the pool. A Tensor belongs to one Device
// and is not safe to Release while another goroutine uses it.
type Tensor struct {
	dev   *Device
	buf   *wgpu.Buffer
	cap   uint64 // size class of buf, in bytes
	shape []int
	n     int
}

// Shape returns a copy of the tensor's shape.
func (t *Tensor) Shape() []int { return append([]int(nil), t.shape...) }

// Len is the element count.
func (t *Tensor) Len() int { return t.n }

func (t *Tensor) bytes() uint64 { return uint64(t.n) * 4 }

// Release returns the buffer to the device's pool. It is reused only after
// the commands already recorded with it are submitted, so releasing a tensor
// right after the op that consumed it is safe. Release twice is a no-op.
func (t *Tensor) Release() {
	if t == nil || t.buf == nil {
		return
	}
	d := t.dev
	d.mu.Lock()
	if !d.closed {
		d.release(t.buf, t.cap, storageUsage)
	}
	d.mu.Unlock()
	t.buf = nil
}

// newTensor allocates an uninitialised tensor. Callers hold d.mu.
func (d *Device) newTensor(op string, shape []int) (*Tensor, error) {
	if err := d.alive(); err != nil {
		return nil, err
	}
	n, err := tensor.CheckShape(op, shape)
	if err != nil {
		return nil, err
	}
	size := uint64(n) * 4
	limit := min(d.limits.MaxStorageBufferBindingSize, d.limits.MaxBufferSize)
	// Element indices are u32 in every kernel.
	if size > limit || n > math.MaxUint32 {
		return nil, tensor.Errorf(op, [][]int{shape}, "needs %d bytes of f32, more than this device's maxStorageBufferBindingSize (%d bytes; adapter %s)", size, limit, d.info.Name)
	}
	buf, c, err := d.acquire(size, storageUsage)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, tensor.ShapeString(shape), err)
	}
	return &Tensor{dev: d, buf: buf, cap: c, shape: append([]int(nil), shape...), n: n}, nil
}

// Empty allocates a tensor whose contents are undefined (pooled memory is not
// cleared); for outputs a kernel overwrites entirely.
func (d *Device) Empty(shape ...int) (*Tensor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.newTensor("gpu.Empty", shape)
}

// Full allocates a tensor with every element set to v (on the GPU, in order
// with the recorded work).
func (d *Device) Full(v float32, shape ...int) (*Tensor, error) {
	const op = "gpu.Full"
	d.mu.Lock()
	defer d.mu.Unlock()
	t, err := d.newTensor(op, shape)
	if err != nil {
		return nil, err
	}
	if err := d.elementwise(op, kFill, t.n, params{}.u32(uint32(t.n)).f32(v), t); err != nil {
		d.release(t.buf, t.cap, storageUsage)
		return nil, err
	}
	return t, nil
}

// Zeros is Full(0, shape...): pooled memory is not cleared otherwise.
func (d *Device) Zeros(shape ...int) (*Tensor, error) { return d.Full(0, shape...) }

// Upload copies a float64 tensor to the GPU as f32.
func (d *Device) Upload(x *tensor.Tensor) (*Tensor, error) {
	if x == nil {
		return nil, tensor.Errorf("gpu.Upload", nil, "input is nil")
	}
	if len(x.Data) != shapeLen(x.Shape) {
		return nil, tensor.Errorf("gpu.Upload", [][]int{x.Shape}, "shape needs %d values, tensor has %d", shapeLen(x.Shape), len(x.Data))
	}
	return d.upload("gpu.Upload", x.Float32(), x.Shape)
}

// UploadF32 copies data to the GPU with the given shape.
func (d *Device) UploadF32(data []float32, shape ...int) (*Tensor, error) {
	return d.upload("gpu.UploadF32", data, shape)
}

func (d *Device) upload(op string, data []float32, shape []int) (*Tensor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, err := tensor.CheckShape(op, shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, tensor.Errorf(op, [][]int{shape}, "shape needs %d values, got %d", n, len(data))
	}
	t, err := d.newTensor(op, shape)
	if err != nil {
		return nil, err
	}
	if err := d.writeBuffer(t.buf, wgpu.ToBytes(data)); err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, tensor.ShapeString(shape), err)
	}
	return t, nil
}

func shapeLen(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// ReadF32 submits all recorded work, waits for it, and copies the tensor
// back. This is the only place the CPU waits for the GPU.
func (t *Tensor) ReadF32() ([]float32, error) {
	if t == nil || t.buf == nil {
		return nil, fmt.Errorf("gpu: Read of a nil or released tensor")
	}
	d := t.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.alive(); err != nil {
		return nil, err
	}
	size := t.bytes()
	staging, c, err := d.acquire(size, stagingUsage)
	if err != nil {
		return nil, err
	}
	if err := d.endPass(); err != nil {
		return nil, err
	}
	enc, err := d.encoder()
	if err != nil {
		return nil, err
	}
	if err := enc.CopyBufferToBuffer(t.buf, 0, staging, 0, size); err != nil {
		return nil, fmt.Errorf("gpu: Read %s: %w", tensor.ShapeString(t.shape), err)
	}
	if err := d.flushLocked(); err != nil {
		return nil, err
	}
	raw, err := d.mapRead(staging, size)
	d.release(staging, c, stagingUsage)
	if err != nil {
		return nil, fmt.Errorf("gpu: Read %s: %w", tensor.ShapeString(t.shape), err)
	}
	out := make([]float32, t.n)
	copy(out, wgpu.FromBytes[float32](raw))
	return out, nil
}

// Read is ReadF32 converted to a float64 tensor of the same shape.
func (t *Tensor) Read() (*tensor.Tensor, error) {
	data, err := t.ReadF32()
	if err != nil {
		return nil, err
	}
	return tensor.FromFloat32(data, t.shape...)
}
