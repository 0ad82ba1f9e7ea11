package gpu

import (
	"math"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// bnChunk is how many samples of one channel one workgroup reduces in the
// partial passes (16 per invocation): large enough that the partials are
// few, small enough that a layer with 32 channels of 131072 samples (the
// reference CNN at batch 128) spreads over 4096 workgroups instead of 32.
const bnChunk = 1024

// bnReduceWG is RWG in shaders/batchnorm.wgsl, the reductions' workgroup
// size. 64 rather than 256: a 1-D batchnorm has few samples per channel,
// and software adapters (SwiftShader, lavapipe) pay per invocation at each
// barrier.
const bnReduceWG = 64

// bnKernel lays out a batchnorm kernel's bind group from the binding
// numbers it uses (see shaders/batchnorm.wgsl: 1-9 read, 10-18 written).
func bnKernel(entry string, used ...int) Kernel {
	b := make([]Access, 19)
	b[0] = Uniform
	for _, n := range used {
		b[n] = Read
		if n >= 10 {
			b[n] = ReadWrite
		}
	}
	last := 0
	for i, a := range b {
		if a != Unused {
			last = i
		}
	}
	return Kernel{Shader: "batchnorm", Entry: entry, Bindings: b[:last+1]}
}

var (
	kBNStatsPartial = bnKernel("bn_stats_partial", 1, 12)
	kBNStatsCombine = bnKernel("bn_stats_combine", 2, 6, 10, 11, 13)
	kBNStatsRunning = bnKernel("bn_stats_running", 2, 10, 11, 13)
	kBNNormalize    = bnKernel("bn_normalize", 1, 2, 3, 7, 14, 15)
	kBNGradPartial  = bnKernel("bn_grad_partial", 4, 5, 12)
	kBNGradCombine  = bnKernel("bn_grad_combine", 6, 17, 18)
	kBNDx           = bnKernel("bn_dx", 4, 5, 7, 8, 9, 16)
)

// BatchnormState is a batchnorm layer's running statistics on the GPU, the
// counterpart of nn.BatchnormParam without the mode (each forward call says
// whether it trains). Train-mode forwards update RunningMean and RunningVar
// in place: running = Momentum*running + (1-Momentum)*batch, with the biased
// batch variance, as core/nn does.
type BatchnormState struct {
	RunningMean, RunningVar *Tensor // (C,)
	Eps, Momentum           float64
}

// NewBatchnormState uploads p's running statistics for c channels. Missing
// statistics start as zeros (the variance too), as in core/nn; a nil p
// means nn.NewBatchnormParam()'s defaults.
func (d *Device) NewBatchnormState(p *nn.BatchnormParam, c int) (*BatchnormState, error) {
	const op = "gpu.NewBatchnormState"
	if p == nil {
		p = nn.NewBatchnormParam()
	}
	if c < 1 {
		return nil, tensor.Errorf(op, nil, "need at least one channel, got %d", c)
	}
	if err := checkBNScalars(op, p.Eps, p.Momentum); err != nil {
		return nil, err
	}
	st := &BatchnormState{Eps: p.Eps, Momentum: p.Momentum}
	for _, r := range []struct {
		name string
		t    *tensor.Tensor
		dst  **Tensor
	}{{"running mean", p.RunningMean, &st.RunningMean}, {"running var", p.RunningVar, &st.RunningVar}} {
		var err error
		if r.t == nil {
			*r.dst, err = d.Zeros(c)
		} else if len(r.t.Shape) != 1 || r.t.Shape[0] != c || len(r.t.Data) != c {
			err = tensor.Errorf(op, [][]int{r.t.Shape}, "%s must be (%d,), one value per channel", r.name, c)
		} else if bad := firstBadStat(r.t.Data, r.dst == &st.RunningVar); bad >= 0 {
			err = tensor.Errorf(op, [][]int{r.t.Shape}, "%s entry %d is %v", r.name, bad, r.t.Data[bad])
		} else {
			*r.dst, err = d.Upload(r.t)
		}
		if err != nil {
			st.Release()
			return nil, err
		}
	}
	return st, nil
}

// Read copies the running statistics back (submitting and waiting, like
// Tensor.Read) into an nn.BatchnormParam in test mode, the form core/nn
// and checkpoints use.
func (s *BatchnormState) Read() (*nn.BatchnormParam, error) {
	if s == nil || s.RunningMean == nil || s.RunningVar == nil {
		return nil, tensor.Errorf("gpu.BatchnormState.Read", nil, "state is nil or incomplete")
	}
	mean, err := s.RunningMean.Read()
	if err != nil {
		return nil, err
	}
	v, err := s.RunningVar.Read()
	if err != nil {
		return nil, err
	}
	return &nn.BatchnormParam{Mode: nn.Test, Eps: s.Eps, Momentum: s.Momentum, RunningMean: mean, RunningVar: v}, nil
}

// Release frees the running statistics.
func (s *BatchnormState) Release() {
	if s != nil {
		s.RunningMean.Release()
		s.RunningVar.Release()
	}
}

// firstBadStat returns the index of the first NaN or infinite entry, or
// negative one when variance is set, or -1.
func firstBadStat(v []float64, variance bool) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) || (variance && x < 0) {
			return i
		}
	}
	return -1
}

func checkBNScalars(op string, eps, momentum float64) error {
	if !(eps > 0) || math.IsInf(eps, 1) {
		return tensor.Errorf(op, nil, "eps must be positive and finite, got %v", eps)
	}
	if !(momentum >= 0 && momentum <= 1) {
		return tensor.Errorf(op, nil, "momentum must be in [0, 1], got %v", momentum)
	}
	return nil
}

// BatchnormCache holds, on the GPU, what the backward pass needs: xhat
// (x's shape) and Stats (4, C), whose rows are the mean, the biased
// variance, 1/sqrt(var+eps) and gamma/sqrt(var+eps) that the forward pass
// used (batch statistics in train mode, running ones in test mode). The
// cache owns both tensors: Release it after the backward pass.
type BatchnormCache struct {
	Xhat, Stats        *Tensor
	train              bool
	outer, c, inner, m int
}

// Release frees the cache's tensors.
func (c *BatchnormCache) Release() {
	if c != nil {
		c.Xhat.Release()
		c.Stats.Release()
	}
}

// BatchnormForward normalises each of the D features of x (N, D) and scales
// by gamma (D,) and shifts by beta (D,), like nn.BatchnormForward. Train
// mode uses the batch mean and biased variance and updates st's running
// statistics; test mode uses the running statistics. Nothing is read back.
func (d *Device) BatchnormForward(x, gamma, beta *Tensor, st *BatchnormState, train bool) (*Tensor, *BatchnormCache, error) {
	return d.bnForward("gpu.BatchnormForward", false, x, gamma, beta, st, train, bnChunk)
}

// SpatialBatchnormForward is batchnorm for x (N, C, H, W): each channel is
// normalised over N, H and W together; gamma and beta are (C,). Same
// modes and state as BatchnormForward, like nn.SpatialBatchnormForward.
func (d *Device) SpatialBatchnormForward(x, gamma, beta *Tensor, st *BatchnormState, train bool) (*Tensor, *BatchnormCache, error) {
	return d.bnForward("gpu.SpatialBatchnormForward", true, x, gamma, beta, st, train, bnChunk)
}

// bnForward views x (N, D) as (N, D, 1) and x (N, C, H, W) as (N, C, H*W).
// chunkLen >= m gives one workgroup per channel: the plain kernel, which the
// tests and benchmarks compare with the chunked one.
func (d *Device) bnForward(op string, spatial bool, x, gamma, beta *Tensor, st *BatchnormState, train bool, chunkLen int) (*Tensor, *BatchnormCache, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.own(op, x); err != nil {
		return nil, nil, err
	}
	s := x.shape
	switch {
	case spatial && len(s) == 4:
		return d.batchnormForward(op, x, gamma, beta, st, train, s[0], s[1], s[2]*s[3], chunkLen)
	case !spatial && len(s) == 2:
		return d.batchnormForward(op, x, gamma, beta, st, train, s[0], s[1], 1, chunkLen)
	case spatial:
		return nil, nil, tensor.Errorf(op, [][]int{s}, "x must be (N, C, H, W)")
	}
	return nil, nil, tensor.Errorf(op, [][]int{s}, "x must be (N, D)")
}

// bnParams is the uniform block every batchnorm entry point shares.
func bnParams(outer, c, inner, chunks, chunkLen int, train bool, eps, momentum float64) params {
	t := uint32(0)
	if train {
		t = 1
	}
	m := outer * inner
	return params{}.u32(uint32(outer), uint32(c), uint32(inner), uint32(m), uint32(chunks), uint32(chunkLen), t, uint32(m*c)).
		f32(float32(eps), float32(momentum), float32(1-momentum))
}

// bnChunks is the number of partial workgroups per channel for m samples.
func bnChunks(m, chunkLen int) int { return (m + chunkLen - 1) / chunkLen }

// batchnormForward records the forward pass of x viewed as (outer, c,
// inner). chunkLen = m gives one workgroup per channel (the reference
// kernel, tested and benchmarked against the chunked one). Callers hold
// d.mu and have checked x.
func (d *Device) batchnormForward(op string, x, gamma, beta *Tensor, st *BatchnormState, train bool, outer, c, inner, chunkLen int) (*Tensor, *BatchnormCache, error) {
	if st == nil {
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "state is nil; create it with NewBatchnormState")
	}
	if err := d.own(op, gamma, beta, st.RunningMean, st.RunningVar); err != nil {
		return nil, nil, err
	}
	for _, p := range []struct {
		name string
		t    *Tensor
	}{{"gamma", gamma}, {"beta", beta}, {"running mean", st.RunningMean}, {"running var", st.RunningVar}} {
		if len(p.t.shape) != 1 || p.t.shape[0] != c {
			return nil, nil, tensor.Errorf(op, [][]int{x.shape, p.t.shape}, "%s must be (%d,), one value per channel", p.name, c)
		}
	}
	if st.RunningMean.buf == st.RunningVar.buf {
		return nil, nil, tensor.Errorf(op, [][]int{x.shape}, "running mean and running var are the same tensor")
	}
	if err := checkBNScalars(op, st.Eps, st.Momentum); err != nil {
		return nil, nil, err
	}
	m := outer * inner
	chunkLen = max(1, min(chunkLen, m))
	chunks := bnChunks(m, chunkLen)
	prm := bnParams(outer, c, inner, chunks, chunkLen, train, st.Eps, st.Momentum)

	var made []*Tensor
	fail := func(err error) (*Tensor, *BatchnormCache, error) {
		for _, t := range made {
			d.release(t.buf, t.cap, storageUsage)
		}
		return nil, nil, err
	}
	alloc := func(shape ...int) (*Tensor, error) {
		t, err := d.newTensor(op, shape)
		if err == nil {
			made = append(made, t)
		}
		return t, err
	}
	stats, err := alloc(4, c)
	if err != nil {
		return fail(err)
	}
	if train {
		if err := d.recordBNStats(op, x, gamma, st, stats, prm, c, chunks); err != nil {
			return fail(err)
		}
	} else if err := d.elementwise(op, kBNStatsRunning, c, prm, gamma, st.RunningMean, st.RunningVar, stats); err != nil {
		return fail(err)
	}
	out, err := alloc(x.shape...)
	if err != nil {
		return fail(err)
	}
	xhat, err := alloc(x.shape...)
	if err != nil {
		return fail(err)
	}
	if err := d.elementwise(op, kBNNormalize, x.n, prm, x, gamma, beta, stats, out, xhat); err != nil {
		return fail(err)
	}
	return out, &BatchnormCache{Xhat: xhat, Stats: stats, train: train, outer: outer, c: c, inner: inner, m: m}, nil
}

// recordBNStats records the two train-mode statistics passes into stats.
func (d *Device) recordBNStats(op string, x, gamma *Tensor, st *BatchnormState, stats *Tensor, prm params, c, chunks int) error {
	part, err := d.newTensor(op, []int{c * chunks, 2})
	if err != nil {
		return err
	}
	// Released once the combine is recorded: the pool hands it out again
	// only after the submit that runs both passes.
	defer d.release(part.buf, part.cap, storageUsage)
	grid, err := d.grid1D(op, uint32(c*chunks))
	if err != nil {
		return err
	}
	if err := d.dispatch(kBNStatsPartial, grid, prm, x, part); err != nil {
		return err
	}
	if grid, err = d.grid1D(op, uint32(c)); err != nil {
		return err
	}
	return d.dispatch(kBNStatsCombine, grid, prm, gamma, part, st.RunningMean, st.RunningVar, stats)
}

// BatchnormBackward returns dx (x's shape), dgamma (C,) and dbeta (C,) for
// the cache of BatchnormForward or SpatialBatchnormForward, with the
// closed form of nn.BatchnormBackwardAlt in train mode and the constant-
// statistics gradient in test mode. Nothing is read back.
func (d *Device) BatchnormBackward(dout *Tensor, cache *BatchnormCache) (dx, dgamma, dbeta *Tensor, err error) {
	return d.bnBackward("gpu.BatchnormBackward", dout, cache, bnChunk)
}

// SpatialBatchnormBackward is BatchnormBackward for a spatial cache; it
// exists to mirror core/nn's API.
func (d *Device) SpatialBatchnormBackward(dout *Tensor, cache *BatchnormCache) (dx, dgamma, dbeta *Tensor, err error) {
	return d.bnBackward("gpu.SpatialBatchnormBackward", dout, cache, bnChunk)
}

func (d *Device) bnBackward(op string, dout *Tensor, cache *BatchnormCache, chunkLen int) (dx, dgamma, dbeta *Tensor, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cache == nil || cache.Xhat == nil || cache.Stats == nil {
		return nil, nil, nil, tensor.Errorf(op, nil, "cache is nil; pass the cache the forward pass returned")
	}
	if cache.Xhat.buf == nil || cache.Stats.buf == nil {
		return nil, nil, nil, tensor.Errorf(op, [][]int{cache.Xhat.shape}, "cache was released")
	}
	if err := d.own(op, dout, cache.Xhat, cache.Stats); err != nil {
		return nil, nil, nil, err
	}
	if !tensor.SameShape(dout.shape, cache.Xhat.shape) {
		return nil, nil, nil, tensor.Errorf(op, [][]int{dout.shape, cache.Xhat.shape}, "dout must have the forward output's shape")
	}
	outer, c, inner, m := cache.outer, cache.c, cache.inner, cache.m
	chunkLen = max(1, min(chunkLen, m))
	chunks := bnChunks(m, chunkLen)
	prm := bnParams(outer, c, inner, chunks, chunkLen, cache.train, 0, 0)

	var made []*Tensor
	fail := func(err error) (*Tensor, *Tensor, *Tensor, error) {
		for _, t := range made {
			d.release(t.buf, t.cap, storageUsage)
		}
		return nil, nil, nil, err
	}
	alloc := func(shape ...int) (*Tensor, error) {
		t, err := d.newTensor(op, shape)
		if err == nil {
			made = append(made, t)
		}
		return t, err
	}
	part, err := alloc(c*chunks, 2)
	if err != nil {
		return fail(err)
	}
	if dgamma, err = alloc(c); err != nil {
		return fail(err)
	}
	if dbeta, err = alloc(c); err != nil {
		return fail(err)
	}
	if dx, err = alloc(dout.shape...); err != nil {
		return fail(err)
	}
	grid, err := d.grid1D(op, uint32(c*chunks))
	if err != nil {
		return fail(err)
	}
	if err := d.dispatch(kBNGradPartial, grid, prm, dout, cache.Xhat, part); err != nil {
		return fail(err)
	}
	if grid, err = d.grid1D(op, uint32(c)); err != nil {
		return fail(err)
	}
	if err := d.dispatch(kBNGradCombine, grid, prm, part, dgamma, dbeta); err != nil {
		return fail(err)
	}
	if err := d.elementwise(op, kBNDx, dout.n, prm, dout, cache.Xhat, cache.Stats, dgamma, dbeta, dx); err != nil {
		return fail(err)
	}
	d.release(part.buf, part.cap, storageUsage)
	return dx, dgamma, dbeta, nil
}
