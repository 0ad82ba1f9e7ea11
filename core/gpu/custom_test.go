package gpu

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// customReluPrelude is the fixed part of a small custom kernel: what an
// exercise page shows above the editor.
const customReluPrelude = `struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
`

var customReluLayout = CustomLayout{Entry: "main", ParamWords: 1, Buffers: []Access{Read, ReadWrite}, WorkgroupSize: 64}

const customReluSrc = `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) { return; }
    out[i] = max(x[i], 0.0);
}
`

func customRun(n int) CustomRun {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i) - float32(n)/2
	}
	return CustomRun{Params: []uint32{uint32(n)}, Data: [][]float32{x, make([]float32, n)}, Grid: [3]uint32{uint32((n + 63) / 64), 1, 1}}
}

func TestCustomKernelRuns(t *testing.T) {
	d := device(t)
	k, err := d.CompileCustom(customReluPrelude, customReluSrc, customReluLayout)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	run := customRun(100)
	res, err := k.Run(run)
	if err != nil {
		t.Fatal(err)
	}
	if res.BudgetHit {
		t.Error("a loop-free kernel reported the loop budget hit")
	}
	if res.Outputs[0] != nil {
		t.Error("a Read binding was read back")
	}
	for i, v := range res.Outputs[1] {
		if want := max(run.Data[0][i], 0); v != want {
			t.Fatalf("out[%d] = %v, want %v", i, v, want)
		}
	}
}

// A syntax error must come back as a CompileError at the learner's line
// (the prelude's lines and the guard's are not counted), and a loop guard
// inserted on the same line must not shift the column.
func TestCustomCompileErrorPosition(t *testing.T) {
	d := device(t)
	cases := []struct {
		name, src string
		line      int
	}{
		{"missing semicolon", strings.Replace(customReluSrc, "let i = gid.x;", "let i = gid.x", 1), 4},
		{"unknown name", strings.Replace(customReluSrc, "max(x[i], 0.0)", "max(y[i], 0.0)", 1), 5},
		{"after a guarded loop", "@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n    for (var j = 0u; j < 2u; j++) { out[j] = zz; }\n}\n", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.CompileCustom(customReluPrelude, c.src, customReluLayout)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CompileError", err)
			}
			t.Logf("%v", ce)
			m := ce.Messages[0]
			if m.Line != c.line {
				t.Errorf("error at line %d, want %d: %v", m.Line, c.line, m)
			}
			if c.name == "after a guarded loop" {
				want := strings.Index(strings.Split(c.src, "\n")[2], "zz") + 1
				if m.Col != want {
					t.Errorf("error at column %d, want %d (the guard shifted it?)", m.Col, want)
				}
			}
		})
	}
}

func TestCustomInfiniteLoopIsContained(t *testing.T) {
	d := device(t)
	srcs := map[string]string{
		"loop":  "@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n    var s = 0.0;\n    loop { s += 1.0; }\n    out[gid.x] = s;\n}\n",
		"while": "@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n    var i = 0u;\n    while (i < 10u) { out[0] = 1.0; }\n}\n",
		// The inner loop exits, the outer never does: nested guards share
		// the one counter.
		"nested for": "@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n    for (var i = 0u; i < 1u; i = i) {\n        for (var j = 0u; j < 3u; j++) { out[0] = 2.0; }\n    }\n}\n",
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			k, err := d.CompileCustom(customReluPrelude, src, customReluLayout)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Release()
			res, err := k.Run(customRun(64))
			if err != nil {
				t.Fatal(err)
			}
			if !res.BudgetHit {
				t.Error("an endless loop did not report the loop budget hit")
			}
		})
	}
	// A loop that ends well within the budget is not flagged.
	k, err := d.CompileCustom(customReluPrelude, "@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>) {\n    var s = 0.0;\n    for (var j = 0u; j < 1000u; j++) { s += 1.0; }\n    if (gid.x < p.n) { out[gid.x] = s; }\n}\n", customReluLayout)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	res, err := k.Run(customRun(64))
	if err != nil {
		t.Fatal(err)
	}
	if res.BudgetHit || res.Outputs[1][5] != 1000 {
		t.Errorf("a bounded loop: budget hit %v, out[5] = %v; want false, 1000", res.BudgetHit, res.Outputs[1][5])
	}
}

func TestCustomLayoutMismatch(t *testing.T) {
	d := device(t)
	// The learner made the input writable: it compiles, but not against
	// the fixed layout.
	prelude := strings.Replace(customReluPrelude, "var<storage, read> x", "var<storage, read_write> x", 1)
	_, err := d.CompileCustom(prelude, customReluSrc, customReluLayout)
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "bindings") {
		t.Fatalf("got %v, want a CompileError about the bindings", err)
	}
	_, err = d.CompileCustom(customReluPrelude, customReluSrc+"\nfn _gl_x() {}\n", customReluLayout)
	if !errors.As(err, &ce) || ce.Messages[0].Line != 8 {
		t.Fatalf("got %v, want a CompileError at line 8 for the reserved name", err)
	}
	k, err := d.CompileCustom(customReluPrelude, customReluSrc, customReluLayout)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	if _, err := k.Run(CustomRun{Params: []uint32{1}, Data: [][]float32{{1}}}); err == nil {
		t.Error("a run with too few buffers was accepted")
	}
	if _, err := k.Run(CustomRun{Data: [][]float32{{1}, {1}}}); err == nil {
		t.Error("a run with too few parameter words was accepted")
	}
	if _, err := k.Run(CustomRun{Params: []uint32{1}, Data: [][]float32{{1}, {1}}, Grid: [3]uint32{math.MaxUint32, 1, 1}}); err == nil {
		t.Error("a grid over the per-dimension limit was accepted")
	}
}
