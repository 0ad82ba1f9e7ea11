// Package exercise holds gradlab's kernel-writing exercises: for each layer,
// the task, the fixed WGSL declarations (parameters, bindings, helpers), a
// skeleton whose body the learner writes, hints, gradlab's own reference
// kernel (solutions/*.wgsl, naive and readable on purpose) and a checker
// that runs the learner's kernel on the GPU (core/gpu's custom kernels)
// against core/nn's float64 layers on several shapes.
//
// A failing check says where (shape, output, first mismatching index) and,
// when the learner's output matches a known mistake computed in Go (the
// dropout scale forgotten, the unbiased variance, an off-by-one padding
// offset, the wrong reduction axis...), what the mistake probably is.
//
// Error measure. Each output element's error is |got - want| / max(|want|,
// floor) with floor = 1e-2 · max|want| (and at least 1e-6): an f32 sum of
// terms of size S cannot resolve an element much smaller than S relatively,
// so elements far below the output's scale are judged at 1% of that scale.
// The thresholds per exercise (Exercise.Threshold, shown on the page) are
// the course's float64 expectations (rel. error ~1e-7..1e-9) moved to f32,
// whose unit roundoff is 6e-8: 1e-6 where the kernel only selects or
// multiplies once, 1e-4 where it sums tens of terms, 1e-3 for the batchnorm
// backward pass and for numerical gradient checks (cancellation).
package exercise

import (
	"embed"
	"fmt"
	"strings"

	"gradlab/core/gpu"
)

//go:embed solutions/*.wgsl
var solutions embed.FS

// WorkgroupSize is WG in every exercise: the checker dispatches
// ceil(threads / WG) workgroups along x.
const WorkgroupSize = 64

// Exercise is one kernel to write.
type Exercise struct {
	Slug  string // URL segment: /exercises/<slug>
	Title string
	// Task explains what to compute, in paragraphs.
	Task []string
	// Threads says what one invocation computes ("one per output element").
	Threads string
	// Prelude is the fixed WGSL placed before the learner's code: the
	// parameter struct and the bindings (which the learner must not change)
	// and any helpers.
	Prelude string
	// Skeleton is the learner's starting point: the entry point with the
	// body left to write.
	Skeleton string
	Hints    []string
	// Threshold is the largest error (see the package doc) a check accepts.
	Threshold float64
	// ThresholdNote says where the threshold comes from.
	ThresholdNote string
	// GradThreshold, for backward kernels, bounds the numerical gradient
	// check; 0 means the exercise has none.
	GradThreshold float64
	// Outputs name the ReadWrite bindings, in binding order.
	Outputs []string
	Layout  gpu.CustomLayout

	cases    func() []*Case
	mistakes []Mistake
	// numeric computes, in float64 by finite differences of core/nn's
	// forward pass, what each output of a backward kernel should be.
	numeric func(c *Case) ([][]float64, error)
}

// Reference returns gradlab's own solution: the code the learner's editor
// would hold, with the skeleton's body written.
func (e *Exercise) Reference() string {
	b, err := solutions.ReadFile("solutions/" + e.file())
	if err != nil {
		panic("exercise: missing embedded solution " + e.file()) // a build error, caught by the tests
	}
	return string(b)
}

func (e *Exercise) file() string { return strings.ReplaceAll(e.Slug, "-", "_") + ".wgsl" }

// Case is one shape the checker runs: the kernel's parameters and inputs
// and core/nn's outputs for them.
type Case struct {
	Label   string // the shapes, for the results table
	Params  []uint32
	Inputs  [][]float64 // one per Read binding, in binding order
	Want    [][]float64 // one per ReadWrite binding (Exercise.Outputs)
	Threads int         // invocations needed
	// Aux carries what mistake variants and the gradient check need (the
	// layer's parameters), per exercise.
	Aux any
}

// Mistake is a known wrong answer: when the learner's outputs match
// Variant's (within the exercise's threshold) and not the reference, the
// report shows Message.
type Mistake struct {
	Message string
	Variant func(c *Case) [][]float64
}

var all []*Exercise

func register(e *Exercise) *Exercise {
	all = append(all, e)
	return e
}

// All lists the exercises in course order.
func All() []*Exercise {
	out := make([]*Exercise, 0, len(all))
	for _, slug := range order {
		if e := BySlug(slug); e != nil {
			out = append(out, e)
		}
	}
	return out
}

var order = []string{
	"relu", "dropout-forward", "dropout-backward",
	"batchnorm-forward", "batchnorm-backward", "spatial-batchnorm-forward",
	"conv-forward", "conv-backward-data", "conv-backward-weights",
	"maxpool-forward", "maxpool-backward",
}

// BySlug finds an exercise, or returns nil.
func BySlug(slug string) *Exercise {
	for _, e := range all {
		if e.Slug == slug {
			return e
		}
	}
	return nil
}

// prelude assembles the fixed declarations: WG, the Params struct from
// fields ("n: u32"), then one binding per buffer.
func prelude(fields []string, bufs []binding, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "const WG: u32 = %du;\n\nstruct Params {\n", WorkgroupSize)
	for _, f := range fields {
		decl, comment, ok := strings.Cut(f, " // ")
		if ok {
			comment = " // " + comment
		}
		fmt.Fprintf(&b, "    %s,%s\n", decl, comment)
	}
	b.WriteString("}\n\n@group(0) @binding(0) var<uniform> p: Params;\n")
	for i, bd := range bufs {
		access := "read"
		if bd.write {
			access = "read_write"
		}
		fmt.Fprintf(&b, "@group(0) @binding(%d) var<storage, %s> %s: array<f32>;", i+1, access, bd.name)
		if bd.doc != "" {
			fmt.Fprintf(&b, " // %s", bd.doc)
		}
		b.WriteString("\n")
	}
	if extra != "" {
		b.WriteString("\n")
		b.WriteString(extra)
	}
	return b.String()
}

type binding struct {
	name  string
	write bool
	doc   string
}

func layoutOf(bufs []binding) ([]gpu.Access, []string) {
	var acc []gpu.Access
	var outs []string
	for _, b := range bufs {
		if b.write {
			acc = append(acc, gpu.ReadWrite)
			outs = append(outs, b.name)
		} else {
			acc = append(acc, gpu.Read)
		}
	}
	return acc, outs
}

// skeleton is the entry point with a TODO body.
func skeleton(todo string) string {
	return "@compute @workgroup_size(WG)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n" +
		"    let i = gid.x;\n" +
		"    // TODO: " + strings.ReplaceAll(todo, "\n", "\n    // ") + "\n}\n"
}

// define fills the layout fields shared by every exercise and registers it.
func define(e *Exercise, fields []string, bufs []binding, extra string) *Exercise {
	e.Prelude = prelude(fields, bufs, extra)
	acc, outs := layoutOf(bufs)
	e.Outputs = outs
	e.Layout = gpu.CustomLayout{Entry: "main", ParamWords: len(fields), Buffers: acc, WorkgroupSize: WorkgroupSize}
	return register(e)
}
