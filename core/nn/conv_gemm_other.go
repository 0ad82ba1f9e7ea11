//go:build !amd64

package nn

// useFMA is false off amd64: there is no assembly kernel there.
var useFMA = false

func gemmKernel(kc int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, store bool) {
	gemmKernelGo(kc, a, ars, acs, b, ldb, c, ldc, store)
}
