package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// matmulShapes (M, K, N): degenerate 1s, odd sizes, sizes around and off the
// 16 (naive), 64 (tiled) and 128 (tiled128) tiles and its 8-deep K steps,
// tall/skinny and short/wide. Tiled128 has a vec4 load path per operand,
// taken when the operand's stored rows are multiples of 4: the shapes mix
// dimensions that are and are not, so under every transpose each (VEC_A,
// VEC_B) combination that transpose allows runs (with transB alone both
// operands' rows are K long, so there VEC_A = VEC_B).
var matmulShapes = [][3]int{
	{1, 1, 1}, {1, 1, 7}, {7, 1, 1}, {2, 3, 4}, {3, 5, 7}, {16, 16, 16}, {17, 15, 13},
	{63, 64, 65}, {64, 64, 64}, {65, 63, 64}, {127, 65, 33}, {33, 127, 65}, {1, 200, 1},
	{200, 1, 200}, {100, 3, 5}, {5, 300, 2}, {129, 17, 130}, {31, 31, 31}, {96, 80, 40},
	{1, 64, 128}, {128, 1, 64},
	{128, 256, 128}, {260, 36, 132}, {131, 9, 257}, {4, 12, 8}, {132, 20, 5}, {7, 44, 136},
}

// refMatmul computes op(a) op(b) in float64 from a stored (M,K) or (K,M) and
// b stored (K,N) or (N,K), and the error bound for an f32 evaluation.
//
// Tolerance: any f32 evaluation of a length-K dot product, in any order,
// with or without fused multiply-add, is within gamma_K * sum_k |a_ik b_kj|
// of the exact value, gamma_K = K u / (1 - K u) (Higham, Accuracy and
// Stability of Numerical Algorithms, 2nd ed., eq. 3.5), and the stored
// result adds at most one rounding, u |c|. The inputs are exact f32 values,
// so this bound is rigorous: a correct kernel can never exceed it, while a
// wrong index or a dropped term is off by about one |a_ik b_kj| (~1 here),
// orders of magnitude above it (for K = 300 the bound is ~2e-5 * sum).
func refMatmul(a, b []float32, m, k, n int, transA, transB bool) (c, bound []float64) {
	c = make([]float64, m*n)
	bound = make([]float64, m*n)
	gamma := float64(k) * u / (1 - float64(k)*u)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			for kk := 0; kk < k; kk++ {
				av := a[i*k+kk]
				if transA {
					av = a[kk*m+i]
				}
				bv := b[kk*n+j]
				if transB {
					bv = b[j*k+kk]
				}
				p := float64(av) * float64(bv)
				s += p
				abs += math.Abs(p)
			}
			c[i*n+j] = s
			bound[i*n+j] = gamma*abs + u*math.Abs(s)
		}
	}
	return c, bound
}

func TestMatMulParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(3, 3))
	for _, s := range matmulShapes {
		m, k, n := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			transA, transB := tr[0], tr[1]
			as, bs := randF32(r, m*k), randF32(r, k*n)
			aShape, bShape := []int{m, k}, []int{k, n}
			if transA {
				aShape = []int{k, m}
			}
			if transB {
				bShape = []int{n, k}
			}
			a, b := upload(t, d, as, aShape...), upload(t, d, bs, bShape...)
			want, bound := refMatmul(as, bs, m, k, n, transA, transB)
			for _, algo := range MatMulAlgos() {
				c, err := d.MatMulWith(algo, a, b, transA, transB)
				if err != nil {
					t.Fatalf("%s %v trans %v: %v", algo, s, tr, err)
				}
				if !shapeEq(c.Shape(), []int{m, n}) {
					t.Fatalf("%s %v: shape %v", algo, s, c.Shape())
				}
				checkBound(t, fmt.Sprintf("%s M,K,N=%v transA=%t transB=%t", algo, s, transA, transB), read(t, c), want, bound)
				c.Release()
			}
			release(a, b)
		}
	}
}

// Auto must hand small outputs to the 64x64 kernel and large ones to
// Tiled128, and never return Auto itself.
func TestMatMulAutoPicksBySize(t *testing.T) {
	cases := []struct {
		m, n int
		want MatMulAlgo
	}{
		{1, 1, Tiled}, {512, 512, Tiled}, {1024, 2048, Tiled128}, {4096, 4096, Tiled128}, {16384, 129, Tiled128},
	}
	for _, c := range cases {
		if got := pickMatMul(Auto, c.m, c.n); got != c.want {
			t.Errorf("pickMatMul(Auto, %d, %d) = %s, want %s", c.m, c.n, got, c.want)
		}
	}
	for _, a := range MatMulAlgos() {
		if got := pickMatMul(a, 4096, 4096); got != a {
			t.Errorf("explicit %s became %s", a, got)
		}
	}
}
