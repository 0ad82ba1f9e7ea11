package gpu

import "gradlab/core/tensor"

// MatMulAlgo picks a matmul kernel. Tiled is the default; Naive is the
// readable oracle and the benchmark baseline.
type MatMulAlgo int

const (
	Tiled MatMulAlgo = iota
	Naive
)

func (a MatMulAlgo) String() string {
	if a == Naive {
		return "naive"
	}
	return "tiled"
}

const (
	naiveTile = 16 // outputs per workgroup side, matmul_naive
	tiledTile = 64 // outputs per workgroup side, matmul_tiled
)

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

// MatMul returns op(a) op(b) with the tiled kernel, where op transposes when
// its flag is set: a is (M, K), or (K, M) with transA; b is (K, N), or (N, K)
// with transB. The transposes are read in place, never materialised.
func (d *Device) MatMul(a, b *Tensor, transA, transB bool) (*Tensor, error) {
	return d.MatMulWith(Tiled, a, b, transA, transB)
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
	tile := tiledTile
	if algo == Naive {
		tile = naiveTile
	}
	grid := [3]uint32{uint32((n + tile - 1) / tile), uint32((m + tile - 1) / tile), 1}
	p := params{}.u32(uint32(m), uint32(n), uint32(k))
	return d.dispatch(matmulKernel(algo, transA, transB), grid, p, a, b, c)
}
