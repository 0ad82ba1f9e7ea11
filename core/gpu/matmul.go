package gpu

import "gradlab/core/tensor"

// MatMulAlgo picks a matmul kernel. Naive is the readable oracle and the
// benchmark baseline, Tiled the 64x64 teaching kernel, Tiled128 the
// register-tiled one for real GPUs; Auto (what MatMul uses) picks by size.
type MatMulAlgo int

const (
	Tiled MatMulAlgo = iota
	Naive
	Tiled128
	Auto
)

func (a MatMulAlgo) String() string {
	switch a {
	case Naive:
		return "naive"
	case Tiled128:
		return "tiled128"
	case Auto:
		return "auto"
	}
	return "tiled"
}

// MatMulAlgos lists the explicit kernels, baseline first, for benchmarks.
func MatMulAlgos() []MatMulAlgo { return []MatMulAlgo{Naive, Tiled, Tiled128} }

const (
	naiveTile = 16  // outputs per workgroup side, matmul_naive
	tiledTile = 64  // outputs per workgroup side, matmul_tiled
	bigTile   = 128 // outputs per workgroup side, matmul_tiled128
)

// autoMinBlocks is the number of 128x128 output blocks from which Auto uses
// Tiled128. Below it the 64x64 kernel's four times as many workgroups keep
// more of a large GPU busy (an H100 has 132 SMs; 128 blocks is one wave).
// It is a first guess to be confirmed by BenchmarkMatMul on a real GPU.
const autoMinBlocks = 128

// pickMatMul resolves Auto for an (m, n) output.
func pickMatMul(algo MatMulAlgo, m, n int) MatMulAlgo {
	if algo != Auto {
		return algo
	}
	if ((m+bigTile-1)/bigTile)*((n+bigTile-1)/bigTile) >= autoMinBlocks {
		return Tiled128
	}
	return Tiled
}

func matmulKernel(algo MatMulAlgo, transA, transB bool) Kernel {
	entry := "matmul_tiled"
	if algo == Naive {
		entry = "matmul_naive"
	}
	return Kernel{
		Shader:   "matmul",
		Entry:    entry,
		Consts:   []Const{{"TRANS_A", transA}, {"TRANS_B", transB}},
		Bindings: []Access{Uniform, Read, Read, ReadWrite},
	}
}

// kMatMul128 takes transposes and alignment as uniform flags, so one
// pipeline serves every call (see matmul_vec4.wgsl).
var kMatMul128 = Kernel{Shader: "matmul_vec4", Entry: "matmul_tiled128", Bindings: []Access{Uniform, Read, Read, ReadWrite}}

// MatMul returns op(a) op(b), where op transposes when its flag is set: a is
// (M, K), or (K, M) with transA; b is (K, N), or (N, K) with transB. The
// transposes are read in place, never materialised. The kernel is chosen by
// size (Auto).
func (d *Device) MatMul(a, b *Tensor, transA, transB bool) (*Tensor, error) {
	return d.MatMulWith(Auto, a, b, transA, transB)
}

// MatMulWith is MatMul with an explicit kernel choice.
func (d *Device) MatMulWith(algo MatMulAlgo, a, b *Tensor, transA, transB bool) (*Tensor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.matmul("gpu.MatMul", algo, a, b, transA, transB)
}

// matmulDims validates shapes and returns (M, N, K). Callers hold d.mu.
func matmulDims(op string, a, b *Tensor, transA, transB bool) (m, n, k int, err error) {
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return 0, 0, 0, tensor.Errorf(op, [][]int{a.shape, b.shape}, "both operands must be 2-d")
	}
	m, k = a.shape[0], a.shape[1]
	if transA {
		m, k = k, m
	}
	kb, n := b.shape[0], b.shape[1]
	if transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, tensor.Errorf(op, [][]int{a.shape, b.shape}, "inner dimensions differ: %d vs %d (transA=%t, transB=%t)", k, kb, transA, transB)
	}
	return m, n, k, nil
}

func (d *Device) matmul(op string, algo MatMulAlgo, a, b *Tensor, transA, transB bool) (*Tensor, error) {
	if err := d.own(op, a, b); err != nil {
		return nil, err
	}
	m, n, k, err := matmulDims(op, a, b, transA, transB)
	if err != nil {
		return nil, err
	}
	c, err := d.newTensor(op, []int{m, n})
	if err != nil {
		return nil, err
	}
	if err := d.recordMatmul(algo, a, b, c, m, n, k, transA, transB); err != nil {
		d.release(c.buf, c.cap, storageUsage)
		return nil, err
	}
	return c, nil
}

// recordMatmul records c = op(a) op(b) into an existing c of shape (m, n).
func (d *Device) recordMatmul(algo MatMulAlgo, a, b, c *Tensor, m, n, k int, transA, transB bool) error {
	algo = pickMatMul(algo, m, n)
	if algo == Tiled128 {
		return d.recordMatmul128(a, b, c, m, n, k, transA, transB)
	}
	tile := tiledTile
	if algo == Naive {
		tile = naiveTile
	}
	grid := [3]uint32{uint32((n + tile - 1) / tile), uint32((m + tile - 1) / tile), 1}
	p := params{}.u32(uint32(m), uint32(n), uint32(k))
	return d.dispatch(matmulKernel(algo, transA, transB), grid, p, a, b, c)
}

func (d *Device) recordMatmul128(a, b, c *Tensor, m, n, k int, transA, transB bool) error {
	// The contiguous (stored row) length of each operand.
	rowA, rowB := k, n
	if transA {
		rowA = m
	}
	if transB {
		rowB = k
	}
	av, err := d.vec4View("gpu.MatMul", a)
	if err != nil {
		return err
	}
	bv, err := d.vec4View("gpu.MatMul", b)
	if err != nil {
		return err
	}
	grid := [3]uint32{uint32((n + bigTile - 1) / bigTile), uint32((m + bigTile - 1) / bigTile), 1}
	var flags uint32
	for i, set := range []bool{rowA%4 == 0, rowB%4 == 0, transA, transB} {
		if set {
			flags |= 1 << i
		}
	}
	p := params{}.u32(uint32(m), uint32(n), uint32(k), flags)
	return d.dispatch(kMatMul128, grid, p, av, bv, c)
}

// vec4View returns t with its length rounded up to whole vec4s, for binding
// as array<vec4<f32>>: the binding must cover the tensor's last, partial
// vec4. The extra floats lie inside t's buffer, because every buffer comes
// from the pool and holds at least sizeClass(t.bytes()) bytes, a multiple of
// 64 (views such as affine's reshapes carry no cap of their own, hence
// sizeClass rather than t.cap). The kernel never uses the extra floats. The
// view shares t's buffer and must not be released.
func (d *Device) vec4View(op string, t *Tensor) (*Tensor, error) {
	v := *t
	v.n = (t.n + 3) &^ 3
	if v.bytes() > sizeClass(t.bytes()) || v.bytes() > d.limits.MaxStorageBufferBindingSize {
		return nil, tensor.Errorf(op, [][]int{t.shape}, "cannot bind %d bytes as vec4s (binding limit %d)", v.bytes(), d.limits.MaxStorageBufferBindingSize)
	}
	return &v, nil
}
