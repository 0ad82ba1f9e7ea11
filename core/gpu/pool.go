package gpu

import (
	"math/bits"

	"github.com/cogentcore/webgpu/wgpu"
)

// Size classes: sizes round up to m * 2^e bytes with m in {4, 5, 6, 7}, i.e.
// four classes per power of two, so a pooled buffer wastes at most 25% while a
// training step that frees and re-allocates the same shapes every iteration
// hits the pool every time after the first.
const minClassBytes = 256

func sizeClass(n uint64) uint64 {
	if n <= minClassBytes {
		return minClassBytes
	}
	e := uint(bits.Len64(n-1)) - 3 // n-1 < 8 * 2^e
	for m := uint64(4); m <= 8; m++ {
		if c := m << e; c >= n {
			return c
		}
	}
	return 8 << e
}

// storageUsage is every tensor buffer's usage: bound as storage, copied to a
// staging buffer on Read, written by Upload.
const storageUsage = wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst

// stagingUsage is for readback buffers.
const stagingUsage = wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst

type poolKey struct {
	size  uint64
	usage wgpu.BufferUsage
}

// bufferPool reuses GPU buffers by (size class, usage). A released buffer
// first waits in pending: commands already recorded may still read it, and
// a queue write (Upload) into it would land before they run. Flush moves
// pending buffers to free after the submit.
type bufferPool struct {
	free    map[poolKey][]*wgpu.Buffer
	pending []pooled
	stats   PoolStats
}

type pooled struct {
	key poolKey
	buf *wgpu.Buffer
}

// PoolStats counts buffer-pool activity since Open.
type PoolStats struct {
	Created   int    // buffers created on the device
	Reused    int    // acquisitions served from the pool
	Free      int    // buffers waiting in the pool now
	FreeBytes uint64 // their total size
}

func (p *bufferPool) init() { p.free = map[poolKey][]*wgpu.Buffer{} }

// acquire returns a buffer of at least size bytes; contents are undefined.
func (d *Device) acquire(size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, uint64, error) {
	p := &d.pool
	k := poolKey{sizeClass(size), usage}
	if l := p.free[k]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[k] = l[:len(l)-1]
		p.stats.Reused++
		p.stats.Free--
		p.stats.FreeBytes -= k.size
		return b, k.size, nil
	}
	var buf *wgpu.Buffer
	err := d.scoped("allocating a GPU buffer", func() error {
		var err error
		buf, err = d.dev.CreateBuffer(&wgpu.BufferDescriptor{Size: k.size, Usage: usage})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	p.stats.Created++
	return buf, k.size, nil
}

// release hands buf back; it becomes reusable after the next submit.
func (d *Device) release(buf *wgpu.Buffer, size uint64, usage wgpu.BufferUsage) {
	d.pool.pending = append(d.pool.pending, pooled{poolKey{size, usage}, buf})
}

// recycle runs after a submit: pending buffers are now safe to overwrite.
func (p *bufferPool) recycle() {
	for _, b := range p.pending {
		p.free[b.key] = append(p.free[b.key], b.buf)
		p.stats.Free++
		p.stats.FreeBytes += b.key.size
	}
	p.pending = p.pending[:0]
}

func (p *bufferPool) destroyAll() {
	p.recycle()
	for k, l := range p.free {
		for _, b := range l {
			b.Destroy()
			b.Release()
		}
		delete(p.free, k)
	}
	p.stats.Free, p.stats.FreeBytes = 0, 0
}

// PoolStats reports buffer-pool activity.
func (d *Device) PoolStats() PoolStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pool.stats
}

// Trim destroys every idle pooled buffer, returning their memory to the
// driver (e.g. after a large benchmark).
func (d *Device) Trim() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flushLocked(); err != nil {
		return err
	}
	// Submitted work may still use the idle buffers: Destroy frees at once.
	d.wait()
	d.pool.destroyAll()
	return nil
}
