package gpu

import (
	"errors"
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// recorder accumulates dispatches and copies into one command encoder, with
// one compute pass kept open across dispatches (WebGPU orders storage writes
// between dispatches of a pass, so no barrier is needed between ops). It is
// submitted as one command buffer by Flush, Read or Close; nothing is
// submitted per dispatch.
type recorder struct {
	enc        *wgpu.CommandEncoder
	pass       *wgpu.ComputePassEncoder
	bindGroups []*wgpu.BindGroup // released after the submit
	dispatches int
}

func (d *Device) encoder() (*wgpu.CommandEncoder, error) {
	if d.rec.enc == nil {
		enc, err := d.dev.CreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "gradlab"})
		if err != nil {
			return nil, fmt.Errorf("gpu: creating a command encoder: %w", err)
		}
		d.rec.enc = enc
		d.openRecordingScope()
	}
	return d.rec.enc, nil
}

func (d *Device) computePass() (*wgpu.ComputePassEncoder, error) {
	if d.rec.pass != nil {
		return d.rec.pass, nil
	}
	enc, err := d.encoder()
	if err != nil {
		return nil, err
	}
	d.rec.pass = enc.BeginComputePass(&wgpu.ComputePassDescriptor{})
	return d.rec.pass, nil
}

// endPass closes the open compute pass, if any, so copies can be recorded.
func (d *Device) endPass() error {
	if d.rec.pass == nil {
		return nil
	}
	p := d.rec.pass
	d.rec.pass = nil
	err := endPass(p)
	p.Release()
	if err != nil {
		return fmt.Errorf("gpu: recording compute pass: %w", err)
	}
	return nil
}

// grid1D spreads n workgroups over x, then y, because one dimension holds at
// most maxComputeWorkgroupsPerDimension (65535 by default). Kernels fold the
// index back with gid.x + gid.y * num_workgroups.x * WG, and bounds-check.
func (d *Device) grid1D(op string, n uint32) ([3]uint32, error) {
	maxDim := d.limits.MaxComputeWorkgroupsPerDimension
	if n == 0 {
		n = 1
	}
	if n <= maxDim {
		return [3]uint32{n, 1, 1}, nil
	}
	y := (n + maxDim - 1) / maxDim
	if y > maxDim {
		return [3]uint32{}, fmt.Errorf("gpu: %s: %d workgroups exceed %d x %d", op, n, maxDim, maxDim)
	}
	return [3]uint32{maxDim, y, 1}, nil
}

// dispatch records one compute dispatch of k over grid workgroups, with p as
// its uniform parameters and bufs bound to k's storage slots in order.
// Callers hold d.mu and have checked shapes; a buffer may not appear twice
// when one of its slots is ReadWrite (WebGPU forbids that aliasing, and we
// want the error here, attributed, not at submit).
func (d *Device) dispatch(k Kernel, grid [3]uint32, p params, bufs ...*Tensor) error {
	if err := d.alive(); err != nil {
		return err
	}
	pl, err := d.pipelineFor(k)
	if err != nil {
		return err
	}
	ub, err := d.uniform(p.padded())
	if err != nil {
		return err
	}
	maxDim := d.limits.MaxComputeWorkgroupsPerDimension
	for _, g := range grid {
		if g > maxDim {
			return fmt.Errorf("gpu: %s: grid %v exceeds %d workgroups per dimension", k.Entry, grid, maxDim)
		}
	}
	entries := []wgpu.BindGroupEntry{{Binding: 0, Buffer: ub, Size: wgpu.WholeSize}}
	slot := 0
	writes := map[*wgpu.Buffer]bool{}
	reads := map[*wgpu.Buffer]bool{}
	for i, a := range k.Bindings[1:] {
		if a == Unused {
			continue
		}
		if slot >= len(bufs) {
			return fmt.Errorf("gpu: %s: needs more than %d buffers", k.Entry, len(bufs))
		}
		t := bufs[slot]
		slot++
		if t == nil || t.buf == nil {
			return fmt.Errorf("gpu: %s: buffer %d is nil or released", k.Entry, slot)
		}
		if t.dev != d {
			return fmt.Errorf("gpu: %s: buffer %d belongs to another device", k.Entry, slot)
		}
		if writes[t.buf] || (a == ReadWrite && reads[t.buf]) {
			return fmt.Errorf("gpu: %s: buffer %d is bound twice with a writable slot", k.Entry, slot)
		}
		if a == ReadWrite {
			writes[t.buf] = true
		} else {
			reads[t.buf] = true
		}
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i + 1), Buffer: t.buf, Size: t.bytes()})
	}
	if slot != len(bufs) {
		return fmt.Errorf("gpu: %s: got %d buffers, kernel binds %d", k.Entry, len(bufs), slot)
	}
	var bg *wgpu.BindGroup
	err = d.recordScoped("binding buffers for "+k.Entry, func() error {
		var err error
		bg, err = d.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: pl.layout, Entries: entries})
		return err
	})
	if err != nil {
		return err
	}
	pass, err := d.computePass()
	if err != nil {
		return err
	}
	pass.SetPipeline(pl.pipe)
	pass.SetBindGroup(0, bg, nil)
	pass.DispatchWorkgroups(grid[0], grid[1], grid[2])
	d.rec.bindGroups = append(d.rec.bindGroups, bg)
	d.rec.dispatches++
	return nil
}

// Flush submits everything recorded since the last submit and returns any
// validation or out-of-memory error the device raised for it. It does not
// wait for the GPU to finish; Read does.
//
// Natively, wgpu-native (v0.19, in this binding) reports errors raised by
// the submit itself as fatal, whatever the scopes: the runtime must never
// submit work the device could reject. Hence the rules kept here and in
// pool.go: buffers are destroyed only after the submit that last used them,
// staging buffers are unmapped before they are reused, and every shape,
// size and binding is checked in Go before a dispatch is recorded.
func (d *Device) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushLocked()
}

// Sync submits everything recorded and waits until the GPU has finished it:
// for timing (benchmarks), not needed for correctness (Read waits itself).
func (d *Device) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flushLocked(); err != nil {
		return err
	}
	d.wait()
	return d.alive()
}

func (d *Device) flushLocked() error {
	if err := d.alive(); err != nil {
		return err
	}
	if d.rec.enc == nil {
		d.pool.recycle()
		return nil
	}
	n := d.rec.dispatches
	err := d.scoped(fmt.Sprintf("submitting %d dispatches", n), func() error {
		if err := d.endPass(); err != nil {
			return err
		}
		cmd, err := d.rec.enc.Finish(nil)
		if err != nil {
			return err
		}
		d.queue.Submit(cmd)
		cmd.Release()
		return nil
	})
	if rerr := d.closeRecordingScope(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	d.rec.discard()
	d.pool.recycle()
	d.uniforms.trim(d.wait)
	return err
}

// discard drops the recorded state after a submit (or on Close).
func (r *recorder) discard() {
	if r.pass != nil {
		endPass(r.pass)
		r.pass.Release()
		r.pass = nil
	}
	if r.enc != nil {
		r.enc.Release()
		r.enc = nil
	}
	for _, bg := range r.bindGroups {
		bg.Release()
	}
	r.bindGroups = r.bindGroups[:0]
	r.dispatches = 0
}
