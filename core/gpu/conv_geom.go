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
	var g convGeom
	if len(xs) != 4 {
		return g, tensor.Errorf(op, shapes, "x must be 4-d (N, C, H, W), got %d-d", len(xs))
	}
	if len(ws) != 4 {
		return g, tensor.Errorf(op, shapes, "w must be 4-d (F, C/groups, KH, KW), got %d-d", len(ws))
	}
	for _, s := range [][]int{xs, ws} {
		if _, err := tensor.CheckShape(op, s); err != nil {
			return g, err
		}
	}
	g.n, g.c, g.h, g.w = xs[0], xs[1], xs[2], xs[3]
	g.f, g.kh, g.kw = ws[0], ws[2], ws[3]
	g.stride, g.pad, g.g = p.Stride, p.Pad, p.Groups
	if g.g == 0 {
		g.g = 1
	}
	switch {
	case p.Stride < 1:
		return g, tensor.Errorf(op, shapes, "stride must be >= 1, got %d", p.Stride)
	case p.Pad < 0:
		return g, tensor.Errorf(op, shapes, "pad must be >= 0, got %d", p.Pad)
	case g.g < 0:
		return g, tensor.Errorf(op, shapes, "groups must be >= 0, got %d", p.Groups)
	case g.c%g.g != 0 || g.f%g.g != 0:
		return g, tensor.Errorf(op, shapes, "groups %d must divide both the %d input channels and the %d filters", g.g, g.c, g.f)
	}
	g.cg, g.fg = g.c/g.g, g.f/g.g
	if ws[1] != g.cg {
		return g, tensor.Errorf(op, shapes, "w has %d channels per filter, want C/groups = %d/%d = %d", ws[1], g.c, g.g, g.cg)
	}
	if g.h+2*g.pad < g.kh || g.w+2*g.pad < g.kw {
		return g, tensor.Errorf(op, shapes, "kernel %dx%d is bigger than the padded input %dx%d (pad %d)", g.kh, g.kw, g.h+2*g.pad, g.w+2*g.pad, g.pad)
	}
	g.oh = 1 + (g.h+2*g.pad-g.kh)/g.stride
	g.ow = 1 + (g.w+2*g.pad-g.kw)/g.stride
	if _, err := tensor.CheckShape(op, g.outShape()); err != nil {
		return g, err
	}
	g.xShape = append([]int(nil), xs...)
	g.wShape = append([]int(nil), ws...)
	return g, nil
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
