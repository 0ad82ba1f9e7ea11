package gpu

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// Custom kernels are WGSL written by someone other than gradlab (the
// exercise pages' learners). They get a fixed binding layout chosen by the
// caller, their loops are bounded (custom_guard.go), their compile errors
// come back with line and column in their own source, and a readback that
// does not settle in time is reported instead of hanging the page.

// ErrTimeout is returned (wrapped) by RunCustom when the GPU did not finish
// in time. The device is then marked lost: Close it and Open a new one.
var ErrTimeout = errors.New("gpu: the kernel did not finish in time")

// CustomLayout is the binding layout a custom kernel must use: binding 0 is
// a uniform block of ParamWords 4-byte words, bindings 1..len(Buffers) are
// storage buffers (Read or ReadWrite).
type CustomLayout struct {
	Entry      string
	ParamWords int
	Buffers    []Access
	// WorkgroupSize is the x size the caller dispatches for (informational:
	// the grid is the caller's).
	WorkgroupSize uint32
}

// CompileMessage is one compiler diagnostic. Line and Col are 1-based in
// the learner's source; Line 0 means the message has no position, and a
// negative Line is a line of the fixed prelude (-1 its first line).
type CompileMessage struct {
	Line, Col int
	Kind      string // "error", "warning" or "info"
	Text      string
}

func (m CompileMessage) String() string {
	switch {
	case m.Line > 0:
		return fmt.Sprintf("line %d:%d: %s: %s", m.Line, m.Col, m.Kind, m.Text)
	case m.Line < 0:
		return fmt.Sprintf("fixed declarations line %d: %s: %s", -m.Line, m.Kind, m.Text)
	}
	return fmt.Sprintf("%s: %s", m.Kind, m.Text)
}

// CompileError is returned by CompileCustom when the shader does not compile
// or does not fit the layout. Messages holds at least one error.
type CompileError struct{ Messages []CompileMessage }

func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString("gpu: the shader does not compile")
	for _, m := range e.Messages {
		b.WriteString("\n  ")
		b.WriteString(m.String())
	}
	return b.String()
}

// CustomKernel is a compiled custom shader, bound to its Device.
type CustomKernel struct {
	dev    *Device
	layout CustomLayout
	pipe   *pipeline
	module *wgpu.ShaderModule
}

// CustomRun is one dispatch of a custom kernel.
type CustomRun struct {
	Params []uint32 // the uniform block; f32 fields via math.Float32bits
	// Data holds the initial contents of each storage binding, in layout
	// order; ReadWrite buffers are read back after the run.
	Data [][]float32
	Grid [3]uint32
	// Timeout bounds the wait for the result; 0 means 10 s.
	Timeout time.Duration
}

// CustomResult is what a run produced.
type CustomResult struct {
	// Outputs[i] is binding i+1's contents after the run (nil for Read
	// bindings).
	Outputs [][]float32
	// BudgetHit is true when some invocation ran more than LoopBudget loop
	// iterations and was stopped: the outputs are then incomplete.
	BudgetHit bool
}

// reservedPrefix names what the loop guard declares.
const reservedPrefix = "_gl_"

// CompileCustom compiles prelude (fixed declarations the learner does not
// edit: structs, bindings, helpers) followed by src (the learner's code)
// against layout. Every loop in src is bounded by LoopBudget. A compile
// error is a *CompileError whose positions refer to src.
func (d *Device) CompileCustom(prelude, src string, layout CustomLayout) (*CustomKernel, error) {
	if layout.Entry == "" {
		return nil, fmt.Errorf("gpu.CompileCustom: no entry point named")
	}
	for i, a := range layout.Buffers {
		if a != Read && a != ReadWrite {
			return nil, fmt.Errorf("gpu.CompileCustom: binding %d must be Read or ReadWrite", i+1)
		}
	}
	if len(layout.Buffers)+1 >= customFlagBinding {
		return nil, fmt.Errorf("gpu.CompileCustom: %d storage bindings, at most %d", len(layout.Buffers), customFlagBinding-2)
	}
	if strings.Contains(src, reservedPrefix) {
		line, col := position(src, strings.Index(src, reservedPrefix))
		return nil, &CompileError{[]CompileMessage{{Line: line, Col: col, Kind: "error",
			Text: "names starting with " + reservedPrefix + " are reserved for gradlab's loop guard"}}}
	}
	if !strings.HasSuffix(prelude, "\n") {
		prelude += "\n"
	}
	head := prelude + guardPrelude
	guarded, edits := guardLoops(src)
	code := head + guarded
	headLines := strings.Count(head, "\n")
	preludeLines := strings.Count(prelude, "\n")
	fix := func(msgs []CompileMessage) []CompileMessage {
		for i, m := range msgs {
			switch {
			case m.Line > headLines:
				msgs[i].Line = m.Line - headLines
				msgs[i].Col = unguardColumn(edits, msgs[i].Line, m.Col)
			case m.Line > 0 && m.Line <= preludeLines:
				msgs[i].Line = -m.Line
			case m.Line > 0:
				msgs[i].Line = 0 // inside the guard declarations
			}
		}
		return msgs
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.alive(); err != nil {
		return nil, err
	}
	mod, msgs, err := d.compileModule(code)
	if err != nil {
		return nil, err
	}
	if len(msgs) > 0 {
		if mod != nil {
			mod.Release()
		}
		return nil, &CompileError{fix(msgs)}
	}
	p, err := d.customPipeline(mod, layout)
	if err != nil {
		mod.Release()
		// The module compiled, so this is a mismatch with the fixed
		// layout (a binding changed, the entry point renamed).
		return nil, &CompileError{[]CompileMessage{{Kind: "error", Text: "the shader compiles but does not fit the exercise's bindings or entry point " + layout.Entry + ": " + err.Error()}}}
	}
	return &CustomKernel{dev: d, layout: layout, pipe: p, module: mod}, nil
}

// Release frees the kernel's pipeline and module.
func (k *CustomKernel) Release() {
	if k == nil || k.pipe == nil {
		return
	}
	k.dev.mu.Lock()
	defer k.dev.mu.Unlock()
	if !k.dev.closed {
		k.pipe.release()
		k.module.Release()
	}
	k.pipe = nil
}

func (d *Device) customPipeline(mod *wgpu.ShaderModule, layout CustomLayout) (*pipeline, error) {
	entries := []wgpu.BindGroupLayoutEntry{{Binding: 0, Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform}}}
	for i, a := range layout.Buffers {
		t := wgpu.BufferBindingTypeReadOnlyStorage
		if a == ReadWrite {
			t = wgpu.BufferBindingTypeStorage
		}
		entries = append(entries, wgpu.BindGroupLayoutEntry{Binding: uint32(i + 1), Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: t}})
	}
	entries = append(entries, wgpu.BindGroupLayoutEntry{Binding: customFlagBinding, Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeStorage}})
	p := &pipeline{}
	err := d.scoped("creating the custom pipeline", func() error {
		var err error
		if p.layout, err = d.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: "custom", Entries: entries}); err != nil {
			return err
		}
		if p.pipeLayout, err = d.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: "custom", BindGroupLayouts: []*wgpu.BindGroupLayout{p.layout}}); err != nil {
			return err
		}
		p.pipe, err = d.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
			Layout:  p.pipeLayout,
			Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: layout.Entry},
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Run dispatches the kernel once on fresh buffers holding run.Data, waits
// (at most run.Timeout) and reads back every ReadWrite binding.
func (k *CustomKernel) Run(run CustomRun) (*CustomResult, error) {
	if k == nil || k.pipe == nil {
		return nil, fmt.Errorf("gpu: Run of a nil or released custom kernel")
	}
	l := k.layout
	if len(run.Data) != len(l.Buffers) {
		return nil, fmt.Errorf("gpu: custom kernel %s binds %d buffers, run has %d", l.Entry, len(l.Buffers), len(run.Data))
	}
	if len(run.Params) != l.ParamWords {
		return nil, fmt.Errorf("gpu: custom kernel %s takes %d parameter words, run has %d", l.Entry, l.ParamWords, len(run.Params))
	}
	timeout := run.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	d := k.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.alive(); err != nil {
		return nil, err
	}
	for _, g := range run.Grid {
		if g > d.limits.MaxComputeWorkgroupsPerDimension {
			return nil, fmt.Errorf("gpu: custom kernel %s: grid %v exceeds %d workgroups per dimension", l.Entry, run.Grid, d.limits.MaxComputeWorkgroupsPerDimension)
		}
	}
	// Everything recorded before belongs to someone else: submit it first
	// so a failure below is this kernel's alone.
	if err := d.flushLocked(); err != nil {
		return nil, err
	}
	var bufs []*Tensor
	defer func() {
		for _, t := range bufs {
			d.release(t.buf, t.cap, storageUsage)
		}
	}()
	op := "gpu.custom " + l.Entry
	for i, data := range run.Data {
		if len(data) == 0 {
			// WebGPU bindings may not be empty.
			data = []float32{0}
		}
		t, err := d.newTensor(op, []int{len(data)})
		if err != nil {
			return nil, fmt.Errorf("%s binding %d: %w", op, i+1, err)
		}
		bufs = append(bufs, t)
		if err := d.writeBuffer(t.buf, wgpu.ToBytes(data)); err != nil {
			return nil, err
		}
	}
	flag, err := d.newTensor(op, []int{1})
	if err != nil {
		return nil, err
	}
	bufs = append(bufs, flag)
	if err := d.writeBuffer(flag.buf, make([]byte, 4)); err != nil {
		return nil, err
	}
	ub, err := d.uniform(params{}.u32(run.Params...).padded())
	if err != nil {
		return nil, err
	}
	entries := []wgpu.BindGroupEntry{{Binding: 0, Buffer: ub, Size: wgpu.WholeSize}}
	for i, t := range bufs[:len(bufs)-1] {
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i + 1), Buffer: t.buf, Size: t.bytes()})
	}
	entries = append(entries, wgpu.BindGroupEntry{Binding: customFlagBinding, Buffer: flag.buf, Size: 4})
	var bg *wgpu.BindGroup
	if err := d.recordScoped("binding buffers for "+l.Entry, func() error {
		var err error
		bg, err = d.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: k.pipe.layout, Entries: entries})
		return err
	}); err != nil {
		return nil, err
	}
	pass, err := d.computePass()
	if err != nil {
		return nil, err
	}
	pass.SetPipeline(k.pipe.pipe)
	pass.SetBindGroup(0, bg, nil)
	pass.DispatchWorkgroups(run.Grid[0], run.Grid[1], run.Grid[2])
	d.rec.bindGroups = append(d.rec.bindGroups, bg)
	d.rec.dispatches++
	if err := d.endPass(); err != nil {
		return nil, err
	}
	// One staging buffer holds every output and the flag, so one map
	// (and one timeout) covers the whole readback.
	var total uint64
	offsets := make([]uint64, len(bufs))
	for i, t := range bufs {
		if i < len(l.Buffers) && l.Buffers[i] != ReadWrite {
			continue
		}
		offsets[i] = total
		total += t.bytes()
	}
	staging, c, err := d.acquire(total, stagingUsage)
	if err != nil {
		return nil, err
	}
	enc, err := d.encoder()
	if err != nil {
		return nil, err
	}
	for i, t := range bufs {
		if i < len(l.Buffers) && l.Buffers[i] != ReadWrite {
			continue
		}
		if err := enc.CopyBufferToBuffer(t.buf, 0, staging, offsets[i], t.bytes()); err != nil {
			return nil, fmt.Errorf("%s: readback: %w", op, err)
		}
	}
	if err := d.flushLocked(); err != nil {
		return nil, err
	}
	raw, err := d.mapReadTimeout(staging, total, timeout)
	if errors.Is(err, ErrTimeout) {
		// The staging buffer may still be mapped by a late promise: leak
		// it rather than hand it back to the pool.
		return nil, fmt.Errorf("%s: %w (waited %v); the device was reset", op, ErrTimeout, timeout)
	}
	d.release(staging, c, stagingUsage)
	if err != nil {
		return nil, fmt.Errorf("%s: readback: %w", op, err)
	}
	res := &CustomResult{Outputs: make([][]float32, len(l.Buffers))}
	for i, t := range bufs {
		if i < len(l.Buffers) && l.Buffers[i] != ReadWrite {
			continue
		}
		if i == len(bufs)-1 {
			res.BudgetHit = math.Float32bits(wgpu.FromBytes[float32](raw[offsets[i] : offsets[i]+4])[0]) != 0
			continue
		}
		vals := make([]float32, len(run.Data[i]))
		copy(vals, wgpu.FromBytes[float32](raw[offsets[i]:offsets[i]+t.bytes()]))
		res.Outputs[i] = vals
	}
	return res, nil
}

// lineColRE finds "line:col" positions in native compiler messages (naga's
// "wgsl:12:5" or ":12:5"), the browser gives them as fields instead.
var (
	lineColRE     = regexp.MustCompile(`wgsl:(\d+):(\d+)`)
	nagaSummaryRE = regexp.MustCompile(`(?m)(?:parsing|validation) error: (.+)$`)
	nagaLabelRE   = regexp.MustCompile(`(?m)\^+ (.+)$`)
)

// parseNativeMessages turns a native error text into messages: the first
// line:col found is the position; naga puts it after the summary.
func parseNativeMessages(text string) []CompileMessage {
	m := CompileMessage{Kind: "error", Text: strings.TrimSpace(text)}
	// Keep naga's summary and its caret label, not the wrapping.
	if sub := nagaSummaryRE.FindStringSubmatch(text); sub != nil {
		m.Text = strings.TrimSpace(sub[1])
		if lab := nagaLabelRE.FindStringSubmatch(text); lab != nil {
			m.Text += " (" + strings.TrimSpace(lab[1]) + ")"
		}
	}
	if sub := lineColRE.FindStringSubmatch(text); sub != nil {
		m.Line, _ = strconv.Atoi(sub[1])
		m.Col, _ = strconv.Atoi(sub[2])
	}
	return []CompileMessage{m}
}

// position is the 1-based line and column of byte offset off in s.
func position(s string, off int) (int, int) {
	line := 1 + strings.Count(s[:off], "\n")
	col := off - strings.LastIndex(s[:off], "\n")
	return line, col
}
