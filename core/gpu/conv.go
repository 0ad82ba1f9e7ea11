package gpu

import (
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// ConvAlgo picks the convolution kernels (shaders/conv.wgsl). ConvTiled is
// the default; ConvNaive is the readable oracle and the benchmark baseline.
type ConvAlgo int

const (
	// ConvTiled runs each pass as an implicit GEMM tiled in workgroup
	// memory, unless the GEMM would be mostly padding (see useGEMM); then
	// it runs a direct kernel.
	ConvTiled ConvAlgo = iota
	// ConvNaive runs one invocation per output element of each pass.
	// Each dw invocation loops over all N*OH*OW positions; Mesa 22's
	// lavapipe silently ends an invocation after 65535 loop iterations in
	// total, so there ConvNaive's dw is wrong past that (batch 64 at
	// 32x32). ConvTiled keeps every invocation's loops short.
	ConvNaive
	// convDirect always takes ConvTiled's direct kernels, and the
	// convGEMM* choices always its GEMMs with that block, so that tests
	// reach every kernel with every shape.
	convDirect
	convGEMM64x64
	convGEMM32x128
	convGEMM32x64
	convGEMM64x128
	convGEMM32x256
	convGEMM64x256
	convGEMM128x128
	convGEMM32x128w
)

// check refuses values that name no kernel choice.
func (a ConvAlgo) check(op string) error {
	if a < ConvTiled || a > convGEMM32x128w {
		return tensor.Errorf(op, nil, "unknown ConvAlgo %d", int(a))
	}
	return nil
}

func (a ConvAlgo) String() string {
	switch a {
	case ConvNaive:
		return "naive"
	case convDirect:
		return "direct"
	case convGEMM64x64:
		return "gemm64x64"
	case convGEMM32x128:
		return "gemm32x128"
	case convGEMM32x64:
		return "gemm32x64"
	case convGEMM64x128:
		return "gemm64x128"
	case convGEMM32x256:
		return "gemm32x256"
	case convGEMM64x256:
		return "gemm64x256"
	case convGEMM128x128:
		return "gemm128x128"
	case convGEMM32x128w:
		return "gemm32x128w"
	}
	return "tiled"
}

// convTile is a GEMM kernel's output block, rows x cols per workgroup, with
// its reduction step tk and workgroup width wx (of 256 invocations; each
// keeps a rows/(256/wx) x cols/wx register tile). The blocks wider than 128
// columns or taller than 64 rows take tk = 8, so that their workgroup
// memory stays within WebGPU's guaranteed 16 KiB. 32x128w is 32x128 on a
// 32x8 workgroup: a 4x4 register tile instead of 2x8 (fewer reads per
// multiply-add, see cost), for GEMMs too narrow for 32x256 such as the
// 32 x 288 weight gradient of a 32->32 3x3 layer.
type convTile struct{ rows, cols, tk, wx int }

var (
	tile64x64   = convTile{64, 64, 16, 16}
	tile32x128  = convTile{32, 128, 16, 16}
	tile32x64   = convTile{32, 64, 16, 16}
	tile64x128  = convTile{64, 128, 16, 16}
	tile32x256  = convTile{32, 256, 8, 32}
	tile64x256  = convTile{64, 256, 8, 32}
	tile128x128 = convTile{128, 128, 8, 16}
	tile32x128w = convTile{32, 128, 16, 32}
)

// tileFor picks the block for a rows x cols GEMM with the least estimated
// cost: the multiply-adds of the padded GEMM (32 filters fill a 32-row
// block but half a 64-row one), each weighted by the workgroup-memory
// reads that feed it, (ceil(WM/4) + WN/4) / (WM*WN) for a WM x WN register
// tile (see mma in the shader; 8x8 in 64x256 and 128x128: 0.0625, 4x8 in
// 64x128 and 32x256: 0.094, 4x4 in 64x64 and 32x128w: 0.125, 2x8 in
// 32x128: 0.19, 2x4 in 32x64: 0.25).
func (a ConvAlgo) tileFor(rows, cols int) convTile {
	switch a {
	case convGEMM64x64:
		return tile64x64
	case convGEMM32x128:
		return tile32x128
	case convGEMM32x64:
		return tile32x64
	case convGEMM64x128:
		return tile64x128
	case convGEMM32x256:
		return tile32x256
	case convGEMM64x256:
		return tile64x256
	case convGEMM128x128:
		return tile128x128
	case convGEMM32x128w:
		return tile32x128w
	}
	// Not 64x256: on lavapipe it was no faster than 64x128 for 64-row
	// GEMMs and slower for 32-row ones (BenchmarkConvPass); it stays as
	// an option for GPUs to benchmark.
	best := tile64x64
	for _, t := range []convTile{tile64x128, tile32x128, tile32x64, tile32x256, tile128x128, tile32x128w} {
		if t.cost(rows, cols) < best.cost(rows, cols) {
			best = t
		}
	}
	return best
}

func (t convTile) cost(rows, cols int) float64 {
	wm, wn := t.rows/(256/t.wx), t.cols/t.wx
	reads := float64(convCeilDiv(wm, 4)+wn/4) / float64(wm*wn)
	return float64(t.padded(rows, cols)) * (1 + reads)
}

func (t convTile) padded(rows, cols int) int {
	return convCeilDiv(rows, t.rows) * t.rows * convCeilDiv(cols, t.cols) * t.cols
}

// useGEMM says whether the forward or dx pass, with a rows x cols GEMM,
// runs it. ConvTiled does unless a group has one input channel (depthwise:
// the forward reduction is only KH*KW taps) or the best block would be
// mostly padding (filled below convMinGEMMFill), e.g. dx of a 3-channel
// input (3 of 32 rows; on lavapipe the direct kernel was 5x faster there).
func (a ConvAlgo) useGEMM(g convGeom, rows, cols int) bool {
	switch a {
	case ConvNaive, convDirect:
		return false
	case convGEMM64x64, convGEMM32x128, convGEMM32x64, convGEMM64x128, convGEMM32x256, convGEMM64x256, convGEMM128x128, convGEMM32x128w:
		return true
	}
	return g.cg > 1 && float64(rows*cols) >= convMinGEMMFill*float64(a.tileFor(rows, cols).padded(rows, cols))
}

// tiles is the number of blocks of t covering rows x cols.
func (t convTile) tiles(rows, cols int) int {
	return convCeilDiv(rows, t.rows) * convCeilDiv(cols, t.cols)
}

// convKernel is an entry point of conv.wgsl, compiled with the block t
// that sizes the file's workgroup arrays (the direct kernels use none and
// all take 64x64, so they share one module).
func convKernel(entry string, t convTile, bindings ...Access) Kernel {
	return Kernel{
		Shader:   "conv",
		Entry:    entry,
		Consts:   []Const{{"TM", uint32(t.rows)}, {"TN", uint32(t.cols)}, {"TK", uint32(t.tk)}, {"WX", uint32(t.wx)}},
		Bindings: append([]Access{Uniform}, bindings...),
	}
}

var (
	fwdBindings = []Access{Read, Read, Read, ReadWrite} // x or dout, w or x, bias, out
	bwdBindings = []Access{Read, Read, Unused, ReadWrite}
	redBindings = []Access{Read, Unused, Unused, ReadWrite}

	kConvFwdNaive     = convKernel("conv_fwd_naive", tile64x64, fwdBindings...)
	kConvBwdDataNaive = convKernel("conv_bwd_data_naive", tile64x64, bwdBindings...)
	kConvBwdDataDir   = convKernel("conv_bwd_data_direct", tile64x64, bwdBindings...)
	kConvBwdWNaive    = convKernel("conv_bwd_weights_naive", tile64x64, bwdBindings...)
	kConvBwdWRows     = convKernel("conv_bwd_weights_rows", tile64x64, bwdBindings...)
	kConvSplitReduce  = convKernel("conv_split_reduce", tile64x64, redBindings...)
	kConvBwdBias      = convKernel("conv_bwd_bias", tile64x64, redBindings...)
)

const (
	convTileK          = 16   // the largest reduction step of the *_tiled kernels (TK)
	convMinGEMMFill    = 0.35 // useful fraction of a padded GEMM below which ConvTiled goes direct
	convSplitTargetWGs = 1024
	convSplitMinChunk  = 512
	convSplitMaxChunk  = 1 << 15
	convScratchMax     = 64 << 20 // bytes of split-K partial sums
)

func convCeilDiv(a, b int) int { return (a + b - 1) / b }

// ConvForward returns the convolution of x (N, C, H, W) with w
// (F, C/Groups, KH, KW) plus b (F), or no bias when b is nil: out
// (N, F, OH, OW) with OH = 1 + (H + 2 Pad - KH) / Stride rounded down, as
// nn.ConvForwardNaive computes it.
func (d *Device) ConvForward(x, w, b *Tensor, p nn.ConvParam) (*Tensor, error) {
	return d.ConvForwardWith(ConvTiled, x, w, b, p)
}

// ConvForwardWith is ConvForward with an explicit kernel choice.
func (d *Device) ConvForwardWith(algo ConvAlgo, x, w, b *Tensor, p nn.ConvParam) (*Tensor, error) {
	const op = "gpu.ConvForward"
	if err := algo.check(op); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, x, w); err != nil {
		return nil, err
	}
	shapes := [][]int{x.shape, w.shape}
	if b != nil {
		if err := d.own(op, b); err != nil {
			return nil, err
		}
		shapes = append(shapes, b.shape)
	}
	g, err := convGeomOf(op, x.shape, w.shape, p, shapes)
	if err != nil {
		return nil, err
	}
	if b != nil && (len(b.shape) != 1 || b.shape[0] != g.f) {
		return nil, tensor.Errorf(op, shapes, "b must have shape (%d,), one bias per filter", g.f)
	}
	out, err := d.newTensor(op, g.outShape())
	if err != nil {
		return nil, err
	}
	// Without a bias the kernel never reads slot 3, but WGSL wants it bound.
	bb := b
	if b == nil {
		bb = w
	}
	if !algo.useGEMM(g, g.fg, g.n*g.oh*g.ow) {
		err = d.elementwise(op, kConvFwdNaive, out.n, g.params(out.n, 0, 0, b != nil), x, w, bb, out)
	} else {
		t := algo.tileFor(g.fg, g.n*g.oh*g.ow)
		tiles := t.tiles(g.fg, g.n*g.oh*g.ow) * g.g
		err = d.convTiles(op, convKernel("conv_fwd_tiled", t, fwdBindings...), tiles, g.params(tiles, 0, 0, b != nil), x, w, bb, out)
	}
	if err != nil {
		d.release(out.buf, out.cap, storageUsage)
		return nil, err
	}
	return out, nil
}

// convTiles records a kernel that takes one workgroup per tile, on a grid
// folded into two dimensions (the kernel bounds-checks against total).
func (d *Device) convTiles(op string, k Kernel, total int, p params, bufs ...*Tensor) error {
	grid, err := d.grid1D(op, uint32(total))
	if err != nil {
		return err
	}
	return d.dispatch(k, grid, p, bufs...)
}

// ConvBackwardData returns dx (xShape) for the convolution's output
// gradient dout (N, F, OH, OW) and weights w.
func (d *Device) ConvBackwardData(dout, w *Tensor, xShape []int, p nn.ConvParam) (*Tensor, error) {
	return d.ConvBackwardDataWith(ConvTiled, dout, w, xShape, p)
}

// ConvBackwardDataWith is ConvBackwardData with an explicit kernel choice.
func (d *Device) ConvBackwardDataWith(algo ConvAlgo, dout, w *Tensor, xShape []int, p nn.ConvParam) (*Tensor, error) {
	const op = "gpu.ConvBackwardData"
	if err := algo.check(op); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, w); err != nil {
		return nil, err
	}
	shapes := [][]int{dout.shape, w.shape, xShape}
	g, err := convGeomOf(op, xShape, w.shape, p, shapes)
	if err != nil {
		return nil, err
	}
	if err := g.checkDout(op, dout.shape, shapes); err != nil {
		return nil, err
	}
	return d.convBackwardData(op, algo, g, dout, w)
}

func (d *Device) convBackwardData(op string, algo ConvAlgo, g convGeom, dout, w *Tensor) (*Tensor, error) {
	dx, err := d.newTensor(op, g.xShape)
	if err != nil {
		return nil, err
	}
	// One tile range per stride phase, sized for the largest phase.
	s := g.stride
	cols := g.n * convCeilDiv(g.h, s) * convCeilDiv(g.w, s)
	switch {
	case algo == ConvNaive:
		err = d.elementwise(op, kConvBwdDataNaive, dx.n, g.params(dx.n, 0, 0, false), dout, w, dx)
	case !algo.useGEMM(g, g.cg, cols):
		err = d.elementwise(op, kConvBwdDataDir, dx.n, g.params(dx.n, 0, 0, false), dout, w, dx)
	default:
		t := algo.tileFor(g.cg, cols)
		tiles := t.tiles(g.cg, cols) * g.g * s * s
		err = d.convTiles(op, convKernel("conv_bwd_data_tiled", t, bwdBindings...), tiles, g.params(tiles, 0, 0, false), dout, w, dx)
	}
	if err != nil {
		d.release(dx.buf, dx.cap, storageUsage)
		return nil, err
	}
	return dx, nil
}

// ConvBackwardWeights returns dw (wShape) for the convolution's output
// gradient dout (N, F, OH, OW) and input x.
func (d *Device) ConvBackwardWeights(dout, x *Tensor, wShape []int, p nn.ConvParam) (*Tensor, error) {
	return d.ConvBackwardWeightsWith(ConvTiled, dout, x, wShape, p)
}

// ConvBackwardWeightsWith is ConvBackwardWeights with an explicit kernel
// choice.
func (d *Device) ConvBackwardWeightsWith(algo ConvAlgo, dout, x *Tensor, wShape []int, p nn.ConvParam) (*Tensor, error) {
	const op = "gpu.ConvBackwardWeights"
	if err := algo.check(op); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, x); err != nil {
		return nil, err
	}
	shapes := [][]int{dout.shape, x.shape, wShape}
	g, err := convGeomOf(op, x.shape, wShape, p, shapes)
	if err != nil {
		return nil, err
	}
	if err := g.checkDout(op, dout.shape, shapes); err != nil {
		return nil, err
	}
	return d.convBackwardWeights(op, algo, g, dout, x)
}

func (d *Device) convBackwardWeights(op string, algo ConvAlgo, g convGeom, dout, x *Tensor) (*Tensor, error) {
	dw, err := d.newTensor(op, g.wShape)
	if err != nil {
		return nil, err
	}
	switch {
	case algo == ConvNaive:
		err = d.elementwise(op, kConvBwdWNaive, dw.n, g.params(dw.n, 0, 0, false), dout, x, dw)
	case algo == convDirect || (algo == ConvTiled && g.cg == 1):
		// Not useGEMM: the split-K GEMM beat this kernel even for the
		// 3->32 layer's dw (32 x 27 in a 32x64 block; several times
		// faster on lavapipe), the reduction over the batch being long
		// enough to pay for the padding.
		err = d.convTiles(op, kConvBwdWRows, dw.n, g.params(dw.n, 0, 0, false), dout, x, dw)
	default:
		err = d.convBackwardWeightsTiled(op, algo, g, dout, x, dw)
	}
	if err != nil {
		d.release(dw.buf, dw.cap, storageUsage)
		return nil, err
	}
	return dw, nil
}

// convBackwardWeightsTiled splits the reduction over the batch (length
// N*OH*OW, e.g. 131072 for a 32x32 layer at batch 128) so that a weight
// gradient of only a few 64x64 tiles still occupies about
// convSplitTargetWGs workgroups; each split sums at least convSplitMinChunk
// terms so the partial sums stay cheap next to the GEMM work, and at most
// convSplitMaxChunk, which bounds each invocation's loop (lavapipe ends an
// invocation after 65535 loop iterations, see ConvNaive).
func (d *Device) convBackwardWeightsTiled(op string, algo ConvAlgo, g convGeom, dout, x, dw *Tensor) error {
	red := g.n * g.oh * g.ow
	cols := g.cg * g.kh * g.kw
	t := algo.tileFor(g.fg, cols)
	k := convKernel("conv_bwd_weights_tiled", t, bwdBindings...)
	base := t.tiles(g.fg, cols) * g.g
	splits := max(1, min(convCeilDiv(convSplitTargetWGs, base), red/convSplitMinChunk))
	// A TK = 8 block takes twice the K steps per chunk of a TK = 16 one.
	splits = max(splits, convCeilDiv(red, convSplitMaxChunk*t.tk/convTileK))
	splits = min(splits, max(1, convScratchMax/(4*dw.n)))
	chunk := convCeilDiv(convCeilDiv(red, splits), convTileK) * convTileK
	splits = convCeilDiv(red, chunk)
	tiles := base * splits
	prm := g.params(tiles, splits, chunk, false)
	if splits == 1 {
		return d.convTiles(op, k, tiles, prm, dout, x, dw)
	}
	scratch, err := d.newTensor(op, []int{splits, dw.n})
	if err != nil {
		return err
	}
	// Released now, reused only after the submit that runs both kernels.
	defer d.release(scratch.buf, scratch.cap, storageUsage)
	if err := d.convTiles(op, k, tiles, prm, dout, x, scratch); err != nil {
		return err
	}
	return d.elementwise(op, kConvSplitReduce, dw.n, g.params(dw.n, splits, 0, false), scratch, dw)
}

// ConvBackwardBias returns db (F): dout (N, F, OH, OW) summed over N, OH
// and OW.
func (d *Device) ConvBackwardBias(dout *Tensor) (*Tensor, error) {
	const op = "gpu.ConvBackwardBias"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout); err != nil {
		return nil, err
	}
	if len(dout.shape) != 4 {
		return nil, tensor.Errorf(op, [][]int{dout.shape}, "dout must be 4-d (N, F, OH, OW)")
	}
	s := dout.shape
	return d.convBackwardBias(op, convGeom{n: s[0], f: s[1], oh: s[2], ow: s[3]}, dout)
}

func (d *Device) convBackwardBias(op string, g convGeom, dout *Tensor) (*Tensor, error) {
	db, err := d.newTensor(op, []int{g.f})
	if err != nil {
		return nil, err
	}
	if err := d.convTiles(op, kConvBwdBias, g.f, g.params(g.f, 0, 0, false), dout, db); err != nil {
		d.release(db.buf, db.cap, storageUsage)
		return nil, err
	}
	return db, nil
}

// ConvBackward returns dx, dw and, when hasBias, db for the convolution
// whose forward inputs were x and w (db is nil otherwise), as
// nn.ConvBackwardNaive does.
func (d *Device) ConvBackward(dout, x, w *Tensor, p nn.ConvParam, hasBias bool) (dx, dw, db *Tensor, err error) {
	return d.ConvBackwardWith(ConvTiled, dout, x, w, p, hasBias)
}

// ConvBackwardWith is ConvBackward with an explicit kernel choice.
func (d *Device) ConvBackwardWith(algo ConvAlgo, dout, x, w *Tensor, p nn.ConvParam, hasBias bool) (dx, dw, db *Tensor, err error) {
	const op = "gpu.ConvBackward"
	if err := algo.check(op); err != nil {
		return nil, nil, nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, dout, x, w); err != nil {
		return nil, nil, nil, err
	}
	shapes := [][]int{dout.shape, x.shape, w.shape}
	g, err := convGeomOf(op, x.shape, w.shape, p, shapes)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := g.checkDout(op, dout.shape, shapes); err != nil {
		return nil, nil, nil, err
	}
	var made []*Tensor
	fail := func(e error) (*Tensor, *Tensor, *Tensor, error) {
		for _, t := range made {
			d.release(t.buf, t.cap, storageUsage)
		}
		return nil, nil, nil, e
	}
	if dx, err = d.convBackwardData(op, algo, g, dout, w); err != nil {
		return fail(err)
	}
	made = append(made, dx)
	if dw, err = d.convBackwardWeights(op, algo, g, dout, x); err != nil {
		return fail(err)
	}
	made = append(made, dw)
	if hasBias {
		if db, err = d.convBackwardBias(op, g, dout); err != nil {
			return fail(err)
		}
	}
	return dx, dw, db, nil
}
