// Package shaders holds gradlab's WGSL compute kernels, one file per op
// family, embedded into the binary so the same sources run natively (wgpu-
// native) and in the browser (WebGPU) with nothing to fetch at run time.
//
// Conventions every kernel follows (core/gpu relies on them):
//   - group 0 only; binding 0 is a small uniform struct of u32/f32 parameters,
//     storage buffers follow at 1, 2, ... (inputs first, outputs last). An entry
//     point may skip binding numbers it does not use.
//   - Kernels never assume a buffer's length: sizes come in the uniform, and
//     every invocation bounds-checks, because pooled buffers are larger than
//     the tensors they hold.
//   - Compile-time constants (e.g. TRANS_A in matmul.wgsl) are NOT declared in
//     the file: core/gpu prepends `const NAME: T = v;` lines for each
//     specialisation, so one source yields several pipelines.
//   - Element-wise kernels use a 1-D index folded from a 2-D grid,
//     i = gid.x + gid.y * num_workgroups.x * WG, because one grid dimension is
//     capped at 65535 workgroups.
package shaders

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.wgsl
var files embed.FS

// Source returns the WGSL text of one op family, by file name without the
// .wgsl suffix ("matmul", "dropout", ...).
func Source(name string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("shaders: no shader %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return string(b), nil
}

// Names lists the embedded shader families, sorted.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".wgsl"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
