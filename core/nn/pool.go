package nn

import "gradlab/core/tensor"

// PoolCache records, for every pooled output, which input element was the
// maximum; backward needs nothing else.
type PoolCache struct {
	xShape   []int
	outShape []int
	argmax   []int // flat index into x for each output element
}

// MaxPoolForward takes the maximum of each Height x Width window of every
// channel, moving the window by Stride. Windows may overlap (Stride smaller
// than the window). The output is (N, C, Hout, Wout) with
// Hout = 1 + (H - Height) / Stride rounded down, like ConvOutSize without
// padding: rows and columns no window reaches are ignored. A window larger
// than the input is an error.
//
// When several elements of a window tie for the maximum, the first one in
// row-major order (top row first, then left to right) is the argmax; it alone
// receives the gradient in MaxPoolBackward.
func MaxPoolForward(x *tensor.Tensor, p PoolParam) (*tensor.Tensor, *PoolCache, error) {
	const op = "nn.MaxPoolForward"
	if x == nil {
		return nil, nil, tensor.Errorf(op, nil, "x is nil")
	}
	if len(x.Shape) != 4 {
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "x must be 4-d (N, C, H, W)")
	}
	size, err := tensor.CheckShape(op, x.Shape)
	if err != nil {
		return nil, nil, err
	}
	if size != len(x.Data) {
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "x holds %d values for a shape of %d", len(x.Data), size)
	}
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	switch {
	case p.Height < 1 || p.Width < 1:
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "pool window %dx%d must be at least 1x1", p.Height, p.Width)
	case p.Stride < 1:
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "stride must be >= 1, got %d", p.Stride)
	case p.Height > H || p.Width > W:
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "pool window %dx%d is larger than the %dx%d input", p.Height, p.Width, H, W)
	}
	if x.HasNaN() {
		// NaN is not ordered, so a max over it is meaningless.
		return nil, nil, tensor.Errorf(op, [][]int{x.Shape}, "x contains NaN or Inf")
	}
	Hout, Wout := 1+(H-p.Height)/p.Stride, 1+(W-p.Width)/p.Stride
	out := tensor.MustNew(N, C, Hout, Wout)
	argmax := make([]int, len(out.Data))
	o := 0
	for nc := 0; nc < N*C; nc++ {
		base := nc * H * W
		for oh := 0; oh < Hout; oh++ {
			for ow := 0; ow < Wout; ow++ {
				best := base + oh*p.Stride*W + ow*p.Stride
				for i := 0; i < p.Height; i++ {
					row := base + (oh*p.Stride+i)*W + ow*p.Stride
					for j := 0; j < p.Width; j++ {
						// Strictly greater keeps the first of equal maxima.
						if x.Data[row+j] > x.Data[best] {
							best = row + j
						}
					}
				}
				out.Data[o] = x.Data[best]
				argmax[o] = best
				o++
			}
		}
	}
	cache := &PoolCache{
		xShape:   append([]int(nil), x.Shape...),
		outShape: append([]int(nil), out.Shape...),
		argmax:   argmax,
	}
	return out, cache, nil
}

// MaxPoolBackward sends each dout entry to the input element that won its
// window (the first maximum on ties). With overlapping windows one element
// can win several and then receives the sum.
func MaxPoolBackward(dout *tensor.Tensor, c *PoolCache) (*tensor.Tensor, error) {
	const op = "nn.MaxPoolBackward"
	if c == nil || c.argmax == nil {
		return nil, tensor.Errorf(op, nil, "cache is nil; pass the cache MaxPoolForward returned")
	}
	if dout == nil {
		return nil, tensor.Errorf(op, nil, "dout is nil")
	}
	if !tensor.SameShape(dout.Shape, c.outShape) || len(dout.Data) != len(c.argmax) {
		return nil, tensor.Errorf(op, [][]int{dout.Shape, c.outShape}, "dout must have the forward output's shape")
	}
	if dout.HasNaN() {
		return nil, tensor.Errorf(op, [][]int{dout.Shape}, "dout contains NaN or Inf")
	}
	dx := tensor.MustNew(c.xShape...)
	for o, i := range c.argmax {
		dx.Data[i] += dout.Data[o]
	}
	return dx, nil
}
