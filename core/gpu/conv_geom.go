package gpu

import (
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// convGeom is a convolution's sizes, validated: x (n, c, h, w),
// w (f, cg, kh, kw), out (n, f, oh, ow), g groups of cg input channels and
// fg filters each.
type convGeom struct {
	n, c, h, w     int
	f, kh, kw      int
	stride, pad    int
	g, cg, fg      int
	oh, ow         int
	xShape, wShape []int
}

// convGeomOf checks x and w shapes against p with core/nn's rules (Groups 0
// means 1; the output size is floored, and a kernel that does not fit the
// padded input is an error). shapes are the caller's operand shapes, for
// the error message.
func convGeomOf(op string, xs, ws []int, p nn.ConvParam, shapes [][]int) (convGeom, error) {
	s, err := nn.CheckConvShapes(op, xs, ws, p, shapes)
	if err != nil {
		return convGeom{}, err
	}
	return convGeom{
		n: s.N, c: s.C, h: s.H, w: s.W,
		f: s.F, kh: s.HH, kw: s.WW,
		stride: s.Stride, pad: s.Pad,
		g: s.G, cg: s.Cg, fg: s.Fg,
		oh: s.Hout, ow: s.Wout,
		xShape: append([]int(nil), xs...),
		wShape: append([]int(nil), ws...),
	}, nil
}

func (g convGeom) outShape() []int { return []int{g.n, g.f, g.oh, g.ow} }

// checkDout checks that dout has the forward output's shape.
func (g convGeom) checkDout(op string, dout []int, shapes [][]int) error {
	if !tensor.SameShape(dout, g.outShape()) {
		return tensor.Errorf(op, shapes, "dout must have the forward output's shape %s", tensor.ShapeString(g.outShape()))
	}
	return nil
}

// params is the kernels' Params block (shaders/conv.wgsl), in declaration
// order. total, splits and chunk depend on the kernel.
func (g convGeom) params(total, splits, chunk int, hasBias bool) params {
	b := uint32(0)
	if hasBias {
		b = 1
	}
	return params{}.u32(
		uint32(g.n), uint32(g.c), uint32(g.h), uint32(g.w),
		uint32(g.f), uint32(g.kh), uint32(g.kw), uint32(g.stride),
		uint32(g.pad), uint32(g.oh), uint32(g.ow), uint32(g.cg),
		uint32(g.fg), uint32(g.g), b, uint32(total),
		uint32(splits), uint32(chunk), 0, 0)
}
