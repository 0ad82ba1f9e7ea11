package shaders

import (
	"strings"
	"testing"
)

func TestEveryFamilyIsEmbedded(t *testing.T) {
	names := Names()
	for _, want := range []string{"affine", "dropout", "elementwise", "matmul"} {
		src, err := Source(want)
		if err != nil {
			t.Fatalf("Source(%q): %v (have %v)", want, err, names)
		}
		if !strings.Contains(src, "@compute") {
			t.Fatalf("%s.wgsl has no compute entry point", want)
		}
	}
}

func TestUnknownShaderNamesTheKnownOnes(t *testing.T) {
	_, err := Source("conv9d")
	if err == nil || !strings.Contains(err.Error(), "conv9d") || !strings.Contains(err.Error(), "matmul") {
		t.Fatalf("Source(conv9d): %v", err)
	}
}

// Kernels follow the conventions core/gpu relies on: binding 0 is the
// uniform parameter block, and no file declares the constants core/gpu
// prepends (a redeclaration would not compile).
func TestBindingConventions(t *testing.T) {
	for _, n := range Names() {
		src, _ := Source(n)
		if !strings.Contains(src, "@group(0) @binding(0) var<uniform>") {
			t.Errorf("%s.wgsl: binding 0 is not the uniform parameters", n)
		}
		if strings.Contains(src, "const TRANS_A") || strings.Contains(src, "const TRANS_B") {
			t.Errorf("%s.wgsl declares a constant core/gpu prepends", n)
		}
	}
}
