package gpu

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cogentcore/webgpu/wgpu"

	"gradlab/shaders"
)

// Access is how a kernel uses one binding slot.
type Access uint8

const (
	Unused    Access = iota // the entry point does not use this binding number
	Uniform                 // var<uniform> parameters (always binding 0)
	Read                    // var<storage, read>
	ReadWrite               // var<storage, read_write>
)

// Const is a compile-time WGSL constant. The pipeline cache prepends
// `const Name: T = Value;` to the shader source, T from Value's Go type:
// bool, uint32 (u32), int32 (i32) or float32 (f32). The binding supports no
// pipeline-overridable constants in the browser, so source text it is.
type Const struct {
	Name  string
	Value any
}

// Kernel names one compute entry point and its bind-group layout.
//
// Bindings is indexed by binding number in group 0: Bindings[0] is the
// Uniform parameter struct, then storage buffers in the order the dispatch
// passes them; Unused skips a number the entry point does not touch. The
// layout is always explicit (never "auto"): auto layouts panic in the browser
// binding and differ per entry point.
type Kernel struct {
	Shader    string // file in shaders/ without .wgsl
	Entry     string
	Consts    []Const
	Bindings  []Access
	Workgroup [2]uint32 // workgroup_size (x, y) in the WGSL; y 0 means 1
}

type pipeline struct {
	layout     *wgpu.BindGroupLayout
	pipeLayout *wgpu.PipelineLayout
	pipe       *wgpu.ComputePipeline
	kernel     Kernel
}

func (p *pipeline) release() {
	p.pipe.Release()
	p.pipeLayout.Release()
	p.layout.Release()
}

func constPrelude(cs []Const) (string, error) {
	sorted := append([]Const(nil), cs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b strings.Builder
	for _, c := range sorted {
		switch v := c.Value.(type) {
		case bool:
			fmt.Fprintf(&b, "const %s: bool = %t;\n", c.Name, v)
		case uint32:
			fmt.Fprintf(&b, "const %s: u32 = %du;\n", c.Name, v)
		case int32:
			fmt.Fprintf(&b, "const %s: i32 = %di;\n", c.Name, v)
		case float32:
			fmt.Fprintf(&b, "const %s: f32 = %g;\n", c.Name, v)
		default:
			return "", fmt.Errorf("gpu: constant %s has unsupported type %T", c.Name, c.Value)
		}
	}
	return b.String(), nil
}

// pipelineFor returns the cached pipeline for k, compiling the shader module
// (once per shader and constant set) and the pipeline (once per entry point)
// on first use. Callers hold d.mu.
func (d *Device) pipelineFor(k Kernel) (*pipeline, error) {
	prelude, err := constPrelude(k.Consts)
	if err != nil {
		return nil, err
	}
	modKey := k.Shader + "\x00" + prelude
	// The layout is part of the key: the same entry point bound differently
	// is a different pipeline (or an invalid one that must not hide behind
	// a cached valid one).
	key := fmt.Sprintf("%s\x00%s\x00%v", modKey, k.Entry, k.Bindings)
	if p := d.pipes[key]; p != nil {
		return p, nil
	}
	what := fmt.Sprintf("creating pipeline %s.wgsl:%s", k.Shader, k.Entry)
	mod := d.modules[modKey]
	if mod == nil {
		src, err := shaders.Source(k.Shader)
		if err != nil {
			return nil, err
		}
		err = d.scoped(what, func() error {
			var err error
			mod, err = d.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
				Label:          k.Shader,
				WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: prelude + src},
			})
			return err
		})
		if err != nil {
			return nil, err
		}
		d.modules[modKey] = mod
	}
	if len(k.Bindings) == 0 || k.Bindings[0] != Uniform {
		return nil, fmt.Errorf("gpu: %s: binding 0 must be the Uniform parameters", what)
	}
	entries := make([]wgpu.BindGroupLayoutEntry, 0, len(k.Bindings))
	for i, a := range k.Bindings {
		var t wgpu.BufferBindingType
		switch a {
		case Unused:
			continue
		case Uniform:
			t = wgpu.BufferBindingTypeUniform
		case Read:
			t = wgpu.BufferBindingTypeReadOnlyStorage
		case ReadWrite:
			t = wgpu.BufferBindingTypeStorage
		}
		entries = append(entries, wgpu.BindGroupLayoutEntry{
			Binding:    uint32(i),
			Visibility: wgpu.ShaderStageCompute,
			Buffer:     wgpu.BufferBindingLayout{Type: t},
		})
	}
	p := &pipeline{kernel: k}
	err = d.scoped(what, func() error {
		var err error
		if p.layout, err = d.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: k.Entry, Entries: entries}); err != nil {
			return err
		}
		if p.pipeLayout, err = d.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: k.Entry, BindGroupLayouts: []*wgpu.BindGroupLayout{p.layout}}); err != nil {
			return err
		}
		p.pipe, err = d.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
			Layout:  p.pipeLayout,
			Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: k.Entry},
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	d.pipes[key] = p
	return p, nil
}
