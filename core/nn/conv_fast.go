package nn

import (
	"runtime"
	"sync"

	"gradlab/core/tensor"
)

// The fast convolution turns each image's receptive fields into the columns
// of a matrix (im2col), so that a whole layer becomes one matrix product per
// image and group: out[f, p] = sum_k w[f, k] * cols[k, p], with k running over
// (channel, kh, kw) and p over output positions. Backward is two more
// products (dw += dout * cols^T, dcols = w^T * dout) and col2im, which adds
// each column entry back onto the pixel it was copied from; for the first
// product cols^T is built directly in the strip layout the product reads.
//
// Images are split into one contiguous run per CPU; every worker has its own
// column buffers, which for one image fit in cache, rather than one huge
// matrix for the whole batch. The products are gemmScratch's (conv_gemm.go).
// BenchmarkConvSpeedup in conv_bench_test.go measures the result against the
// naive loops.

// ConvForwardFast computes exactly what ConvForwardNaive does (same
// arguments, same errors, same cache type) by im2col and matrix products.
// Results differ from the naive loops only by rounding, since the sums run in
// another order (the tests hold them to a relative error below 1e-10).
func ConvForwardFast(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *ConvCache, error) {
	g, err := checkConv("nn.ConvForwardFast", x, w, b, p)
	if err != nil {
		return nil, nil, err
	}
	out := tensor.MustNew(g.N, g.F, g.Hout, g.Wout)
	K, P := g.Cg*g.HH*g.WW, g.Hout*g.Wout
	// The bias rides along in the product as one more column of the weights
	// (b) times one more row of cols (all ones), so the output is written
	// once, by the product, instead of filled with b and then added to.
	wk, kb := w.Data, K
	if b != nil {
		kb = K + 1
		wk = make([]float64, g.F*kb)
		for f := 0; f < g.F; f++ {
			copy(wk[f*kb:], w.Data[f*K:][:K])
			wk[f*kb+K] = b.Data[f]
		}
	}
	overBatch(g.N, func(_, lo, hi int) {
		var mm gemmScratch
		cols := make([]float64, kb*P)
		for i := K * P; i < kb*P; i++ {
			cols[i] = 1 // im2col never writes past row K
		}
		for n := lo; n < hi; n++ {
			for grp := 0; grp < g.G; grp++ {
				xs := x.Data[(n*g.C+grp*g.Cg)*g.H*g.W:][:g.Cg*g.H*g.W]
				im2col(xs, cols, &g)
				o := out.Data[(n*g.F+grp*g.Fg)*P:][:g.Fg*P]
				wg := wk[grp*g.Fg*kb:][:g.Fg*kb]
				mm.mulAdd(g.Fg, P, kb, wg, kb, 1, cols, P, 1, o, P, true)
			}
		}
	})
	return out, newConvCache(x, w, g), nil
}

// ConvBackwardFast returns the same gradients as ConvBackwardNaive. The
// columns are rebuilt from the cached x rather than kept from the forward
// pass: that costs one cheap copy per image and keeps the cache as small as
// the input instead of Cg*HH*WW times larger.
func ConvBackwardFast(dout *tensor.Tensor, c *ConvCache) (dx, dw, db *tensor.Tensor, err error) {
	// dout is checked for NaN inside the workers, image by image, while it
	// is in cache anyway: a separate pass over it cost a quarter of the time.
	const op = "nn.ConvBackwardFast"
	g, err := checkConvBackward(op, dout, c, false)
	if err != nil {
		return nil, nil, nil, err
	}
	x, w := c.x, c.w
	K, P := g.Cg*g.HH*g.WW, g.Hout*g.Wout
	kStrips := (K + gemmNR - 1) / gemmNR
	dx = tensor.ZerosLike(x)
	dw = tensor.ZerosLike(w)
	// Each worker sums its images' dw and db into its own buffers; these are
	// added in worker order afterwards, so the result does not depend on
	// scheduling.
	type partial struct {
		dw, db []float64
		bad    bool
	}
	parts := make([]partial, workersFor(g.N))
	overBatch(g.N, func(worker, lo, hi int) {
		var mm gemmScratch
		colsT := make([]float64, kStrips*P*gemmNR)
		dcols := make([]float64, K*P)
		pt := partial{dw: make([]float64, len(dw.Data)), db: make([]float64, g.F)}
		defer func() { parts[worker] = pt }()
		for n := lo; n < hi; n++ {
			for f := 0; f < g.F; f++ {
				s, z := 0.0, 0.0
				for _, v := range dout.Data[(n*g.F+f)*P:][:P] {
					s += v
					z += v * 0 // NaN iff some v is NaN or Inf (see allFinite)
				}
				if z != 0 {
					pt.bad = true
					return
				}
				pt.db[f] += s
			}
			for grp := 0; grp < g.G; grp++ {
				off := (n*g.C + grp*g.Cg) * g.H * g.W
				xs := x.Data[off:][:g.Cg*g.H*g.W]
				im2colPackedT(xs, colsT, &g)
				d := dout.Data[(n*g.F+grp*g.Fg)*P:][:g.Fg*P]
				wg := w.Data[grp*g.Fg*K:][:g.Fg*K]
				// dw_g (Fg x K) += dout_g (Fg x P) * cols^T (P x K)
				mm.mulAddPackedB(g.Fg, K, P, d, P, 1, colsT, pt.dw[grp*g.Fg*K:], K)
				// dcols (K x P) = w_g^T (K x Fg) * dout_g (Fg x P)
				mm.mulAdd(K, P, g.Fg, wg, 1, K, d, P, 1, dcols, P, true)
				col2im(dcols, dx.Data[off:][:g.Cg*g.H*g.W], &g)
			}
		}
	})
	for _, pt := range parts {
		if pt.bad {
			return nil, nil, nil, errConvDoutNaN(op, dout)
		}
	}
	for _, pt := range parts {
		for i, v := range pt.dw {
			dw.Data[i] += v
		}
	}
	if g.hasBias {
		db = tensor.MustNew(g.F)
		for _, pt := range parts {
			for i, v := range pt.db {
				db.Data[i] += v
			}
		}
	}
	return dx, dw, db, nil
}

// workersFor is how many goroutines overBatch uses for n images.
func workersFor(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n))
}

// overBatch splits images [0, n) into one contiguous run per worker and runs
// body on each run concurrently.
func overBatch(n int, body func(worker, lo, hi int)) {
	k := workersFor(n)
	if k == 1 {
		body(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		lo, hi := i*n/k, (i+1)*n/k
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(i, lo, hi)
		}()
	}
	wg.Wait()
}

// outRange is the half-open range of output positions o whose input index
// o*stride - pad + k lies inside [0, in): the positions where kernel offset k
// reads the image and not the zero padding.
func outRange(out, in, stride, pad, k int) (lo, hi int) {
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	last := in - 1 + pad - k
	if last < 0 {
		return 0, 0
	}
	hi = min(out, last/stride+1)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// im2col writes cols[(c, kh, kw), (oh, ow)] = x[c, oh*S-P+kh, ow*S-P+kw] (0 in
// the padding) for the Cg channels in xs.
func im2col(xs, cols []float64, g *convGeom) {
	P := g.Hout * g.Wout
	for c := 0; c < g.Cg; c++ {
		xc := xs[c*g.H*g.W:][:g.H*g.W]
		for kh := 0; kh < g.HH; kh++ {
			ohLo, ohHi := outRange(g.Hout, g.H, g.Stride, g.Pad, kh)
			for kw := 0; kw < g.WW; kw++ {
				owLo, owHi := outRange(g.Wout, g.W, g.Stride, g.Pad, kw)
				row := cols[((c*g.HH+kh)*g.WW+kw)*P:][:P]
				clear(row[:ohLo*g.Wout])
				clear(row[ohHi*g.Wout:])
				for oh := ohLo; oh < ohHi; oh++ {
					seg := row[oh*g.Wout:][:g.Wout]
					clear(seg[:owLo])
					clear(seg[owHi:])
					xr := xc[(oh*g.Stride-g.Pad+kh)*g.W:][:g.W]
					iw := owLo*g.Stride - g.Pad + kw
					if g.Stride == 1 {
						copy(seg[owLo:owHi], xr[iw:])
						continue
					}
					for ow := owLo; ow < owHi; ow++ {
						seg[ow] = xr[iw]
						iw += g.Stride
					}
				}
			}
		}
	}
}

// im2colPackedT writes the transpose of im2col's matrix straight into the
// strips mulAddPackedB reads: strip s holds, for every output position p,
// the values of rows (channel, kh, kw) = s*gemmNR .. s*gemmNR+gemmNR-1 of
// cols. Entries past the last row are never written, so they stay zero.
func im2colPackedT(xs, dst []float64, g *convGeom) {
	P := g.Hout * g.Wout
	for c := 0; c < g.Cg; c++ {
		xc := xs[c*g.H*g.W:][:g.H*g.W]
		for kh := 0; kh < g.HH; kh++ {
			ohLo, ohHi := outRange(g.Hout, g.H, g.Stride, g.Pad, kh)
			for kw := 0; kw < g.WW; kw++ {
				owLo, owHi := outRange(g.Wout, g.W, g.Stride, g.Pad, kw)
				kk := (c*g.HH+kh)*g.WW + kw
				strip := dst[kk/gemmNR*P*gemmNR:][:P*gemmNR]
				r := kk % gemmNR
				for oh := 0; oh < g.Hout; oh++ {
					row := strip[oh*g.Wout*gemmNR:][:g.Wout*gemmNR]
					if oh < ohLo || oh >= ohHi {
						for ow := 0; ow < g.Wout; ow++ {
							row[ow*gemmNR+r] = 0
						}
						continue
					}
					xr := xc[(oh*g.Stride-g.Pad+kh)*g.W:][:g.W]
					for ow := 0; ow < owLo; ow++ {
						row[ow*gemmNR+r] = 0
					}
					iw := owLo*g.Stride - g.Pad + kw
					for ow := owLo; ow < owHi; ow++ {
						row[ow*gemmNR+r] = xr[iw]
						iw += g.Stride
					}
					for ow := owHi; ow < g.Wout; ow++ {
						row[ow*gemmNR+r] = 0
					}
				}
			}
		}
	}
}

// col2im is im2col's adjoint: it adds every column entry back onto the pixel
// it was read from (entries from the padding are dropped).
func col2im(cols, xs []float64, g *convGeom) {
	P := g.Hout * g.Wout
	for c := 0; c < g.Cg; c++ {
		xc := xs[c*g.H*g.W:][:g.H*g.W]
		for kh := 0; kh < g.HH; kh++ {
			ohLo, ohHi := outRange(g.Hout, g.H, g.Stride, g.Pad, kh)
			for kw := 0; kw < g.WW; kw++ {
				owLo, owHi := outRange(g.Wout, g.W, g.Stride, g.Pad, kw)
				row := cols[((c*g.HH+kh)*g.WW+kw)*P:][:P]
				for oh := ohLo; oh < ohHi; oh++ {
					seg := row[oh*g.Wout:][:g.Wout]
					xr := xc[(oh*g.Stride-g.Pad+kh)*g.W:][:g.W]
					iw := owLo*g.Stride - g.Pad + kw
					for ow := owLo; ow < owHi; ow++ {
						xr[iw] += seg[ow]
						iw += g.Stride
					}
				}
			}
		}
	}
}
