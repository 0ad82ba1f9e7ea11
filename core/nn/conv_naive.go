package nn

import "gradlab/core/tensor"

// ConvForwardNaive is the convolution written as its definition: for every
// image n, filter f and output position (oh, ow), the sum over the filter's
// input channels c and kernel offsets (kh, kw) of w * x, where x is read as 0
// outside the image (zero padding). It is the readable oracle the fast path
// and the GPU kernels are checked against, so it is deliberately not tuned.
//
// x is (N, C, H, W), w is (F, C/Groups, HH, WW), b is (F) or nil for no bias.
// With Groups = G, filter f sees only the input channels of its group
// f / (F/G); Groups = C with F = C is a depthwise convolution. The output is
// (N, F, Hout, Wout) with Hout = 1 + (H + 2*Pad - HH) / Stride rounded down
// (see ConvOutSize).
func ConvForwardNaive(x, w, b *tensor.Tensor, p ConvParam) (*tensor.Tensor, *ConvCache, error) {
	g, err := checkConv("nn.ConvForwardNaive", x, w, b, p)
	if err != nil {
		return nil, nil, err
	}
	out := tensor.MustNew(g.N, g.F, g.Hout, g.Wout)
	for n := 0; n < g.N; n++ {
		for f := 0; f < g.F; f++ {
			c0 := (f / g.Fg) * g.Cg // first input channel of f's group
			for oh := 0; oh < g.Hout; oh++ {
				for ow := 0; ow < g.Wout; ow++ {
					s := 0.0
					if b != nil {
						s = b.Data[f]
					}
					for c := 0; c < g.Cg; c++ {
						for kh := 0; kh < g.HH; kh++ {
							ih := oh*g.Stride - g.Pad + kh
							if ih < 0 || ih >= g.H {
								continue
							}
							for kw := 0; kw < g.WW; kw++ {
								iw := ow*g.Stride - g.Pad + kw
								if iw < 0 || iw >= g.W {
									continue
								}
								s += w.Data[((f*g.Cg+c)*g.HH+kh)*g.WW+kw] *
									x.Data[((n*g.C+c0+c)*g.H+ih)*g.W+iw]
							}
						}
					}
					out.Data[((n*g.F+f)*g.Hout+oh)*g.Wout+ow] = s
				}
			}
		}
	}
	return out, newConvCache(x, w, g), nil
}

// ConvBackwardNaive runs the forward loops again and, for each product
// w * x that made an output, sends dout back to both factors: dx gets
// w * dout, dw gets x * dout. db is the sum of dout over n, oh and ow, and is
// nil when the forward pass had no bias. Padding positions had no x, so
// nothing flows to them.
func ConvBackwardNaive(dout *tensor.Tensor, c *ConvCache) (dx, dw, db *tensor.Tensor, err error) {
	g, err := checkConvBackward("nn.ConvBackwardNaive", dout, c, true)
	if err != nil {
		return nil, nil, nil, err
	}
	x, w := c.x, c.w
	dx = tensor.ZerosLike(x)
	dw = tensor.ZerosLike(w)
	if g.hasBias {
		db = tensor.MustNew(g.F)
	}
	for n := 0; n < g.N; n++ {
		for f := 0; f < g.F; f++ {
			c0 := (f / g.Fg) * g.Cg
			for oh := 0; oh < g.Hout; oh++ {
				for ow := 0; ow < g.Wout; ow++ {
					d := dout.Data[((n*g.F+f)*g.Hout+oh)*g.Wout+ow]
					if db != nil {
						db.Data[f] += d
					}
					for ch := 0; ch < g.Cg; ch++ {
						for kh := 0; kh < g.HH; kh++ {
							ih := oh*g.Stride - g.Pad + kh
							if ih < 0 || ih >= g.H {
								continue
							}
							for kw := 0; kw < g.WW; kw++ {
								iw := ow*g.Stride - g.Pad + kw
								if iw < 0 || iw >= g.W {
									continue
								}
								wi := ((f*g.Cg+ch)*g.HH+kh)*g.WW + kw
								xi := ((n*g.C+c0+ch)*g.H+ih)*g.W + iw
								dx.Data[xi] += w.Data[wi] * d
								dw.Data[wi] += x.Data[xi] * d
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db, nil
}
