package nn

// useFMA reports whether the CPU and OS support AVX (with YMM state saved
// on context switches) and FMA3, which the assembly kernel needs.
var useFMA = detectFMA()

func detectFMA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 1 {
		return false
	}
	_, _, ecx, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx&fma == 0 || ecx&osxsave == 0 || ecx&avx == 0 {
		return false
	}
	xcr0, _ := xgetbv()
	return xcr0&6 == 6 // XMM and YMM state enabled by the OS
}

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// gemmKernelFMA is gemmKernelGo in AVX/FMA assembly, with strides in
// elements; store is 1 to overwrite C, 0 to add to it.
//
//go:noescape
func gemmKernelFMA(kc int, a *float64, ars, acs int, b *float64, ldb int, c *float64, ldc int, store int)

func gemmKernel(kc int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, store bool) {
	// The assembly cannot check bounds; these panic on a bug here instead
	// of corrupting memory.
	_ = a[(gemmMR-1)*ars+(kc-1)*acs]
	_ = b[(kc-1)*ldb+gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	if useFMA {
		st := 0
		if store {
			st = 1
		}
		gemmKernelFMA(kc, &a[0], ars, acs, &b[0], ldb, &c[0], ldc, st)
		return
	}
	gemmKernelGo(kc, a, ars, acs, b, ldb, c, ldc, store)
}
