package gpu

import (
	"encoding/binary"
	"math"

	"github.com/cogentcore/webgpu/wgpu"
)

// params builds a kernel's uniform struct: a flat run of 32-bit u32/f32
// fields in WGSL declaration order, padded to 16 bytes (uniform structs are
// 16-byte aligned). Keep every WGSL Params struct to scalars of 4 bytes.
type params []byte

func (p params) u32(v ...uint32) params {
	for _, x := range v {
		p = binary.LittleEndian.AppendUint32(p, x)
	}
	return p
}

func (p params) f32(v ...float32) params {
	for _, x := range v {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(x))
	}
	return p
}

func (p params) padded() []byte {
	for len(p)%16 != 0 || len(p) == 0 {
		p = append(p, 0)
	}
	return p
}

// uniformCache keeps one immutable uniform buffer per distinct parameter
// block. A training step repeats the same shapes every iteration, so after
// the first step no dispatch allocates or writes a uniform buffer. The cache
// is emptied at a submit boundary once it holds maxUniforms entries.
type uniformCache struct {
	bufs map[string]*wgpu.Buffer
}

const maxUniforms = 4096

func (u *uniformCache) init() { u.bufs = map[string]*wgpu.Buffer{} }

func (d *Device) uniform(data []byte) (*wgpu.Buffer, error) {
	if b := d.uniforms.bufs[string(data)]; b != nil {
		return b, nil
	}
	var buf *wgpu.Buffer
	err := d.scoped("creating a uniform buffer", func() error {
		var err error
		// Created with its contents (mapped at creation): no queue write, so
		// it needs no globalThis.wasm in the browser and no ordering care.
		buf, err = d.dev.CreateBufferInit(&wgpu.BufferInitDescriptor{Contents: data, Usage: wgpu.BufferUsageUniform})
		return err
	})
	if err != nil {
		return nil, err
	}
	d.uniforms.bufs[string(data)] = buf
	return buf, nil
}

// trim runs after a submit, when no recorded command refers to the buffers;
// submitted work may still read them, so it waits for the GPU (wait) before
// destroying: an explicit Destroy frees the memory at once, in use or not.
func (u *uniformCache) trim(wait func()) {
	if len(u.bufs) >= maxUniforms {
		wait()
		u.destroyAll()
	}
}

func (u *uniformCache) destroyAll() {
	for k, b := range u.bufs {
		b.Destroy()
		b.Release()
		delete(u.bufs, k)
	}
}
