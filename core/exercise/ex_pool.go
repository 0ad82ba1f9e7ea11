package exercise

import (
	"fmt"

	"gradlab/core/gradcheck"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

type poolShape struct{ n, c, h, w, ph, pw, stride int }

// poolShapes: the course's 2x2 stride 2, an odd input that leaves a
// border unused, overlapping 3x3 windows with stride 2, batch 1 with C = 5.
var poolShapes = []poolShape{
	{2, 3, 4, 4, 2, 2, 2},
	{1, 5, 5, 7, 2, 2, 2},
	{2, 2, 7, 7, 3, 3, 2},
	{1, 1, 3, 4, 2, 3, 1},
}

type poolAux struct {
	s          poolShape
	x, dout    []float64
	hout, wout int
	cache      *nn.PoolCache
}

var poolFields = []string{"N: u32", "C: u32", "H: u32", "W: u32", "PH: u32 // window height", "PW: u32 // window width", "stride: u32", "Hout: u32", "Wout: u32"}

func poolCase(k int, s poolShape) *Case {
	x := randVals(uint64(600+k), s.n*s.c*s.h*s.w)
	out, cache := must2(nn.MaxPoolForward(tt(x, s.n, s.c, s.h, s.w), nn.PoolParam{Height: s.ph, Width: s.pw, Stride: s.stride}))
	hout, wout := out.Shape[2], out.Shape[3]
	return &Case{
		Label:  fmt.Sprintf("x %dx%dx%dx%d, window %dx%d, stride %d", s.n, s.c, s.h, s.w, s.ph, s.pw, s.stride),
		Params: []uint32{uint32(s.n), uint32(s.c), uint32(s.h), uint32(s.w), uint32(s.ph), uint32(s.pw), uint32(s.stride), uint32(hout), uint32(wout)},
		Want:   [][]float64{out.Data},
		Aux:    &poolAux{s, x, randVals(uint64(610+k), len(out.Data)), hout, wout, cache},
	}
}

// poolWindows calls f(o, members) for each output o with the flat x
// indices of its window, row-major.
func poolWindows(a *poolAux, stride int, f func(o int, members []int)) {
	s := a.s
	var m []int
	for nc := 0; nc < s.n*s.c; nc++ {
		for oh := 0; oh < a.hout; oh++ {
			for ow := 0; ow < a.wout; ow++ {
				m = m[:0]
				for kh := 0; kh < s.ph; kh++ {
					for kw := 0; kw < s.pw; kw++ {
						h, w := oh*stride+kh, ow*stride+kw
						if h < s.h && w < s.w {
							m = append(m, (nc*s.h+h)*s.w+w)
						}
					}
				}
				f((nc*a.hout+oh)*a.wout+ow, m)
			}
		}
	}
}

var _ = define(&Exercise{
	Slug:  "maxpool-forward",
	Title: "Max pooling forward",
	Task: []string{
		"x is (N, C, H, W). Each output out[n, c, oh, ow] is the maximum of the PH×PW window of channel c of image n whose top-left corner is (oh·stride, ow·stride). Windows may overlap (stride smaller than the window); Hout = 1 + (H − PH) / stride, rounded down, so a border may be left out.",
	},
	Threads:  "one invocation per output element (N·C·Hout·Wout)",
	Skeleton: skeleton("decompose i into (n·C + c, oh, ow) and take the maximum over the window."),
	Hints: []string{
		"Channel (n, c) starts at (n·C + c)·H·W; row h, column w of it is at + h·W + w.",
		"Start the running maximum at the window's first element, not at 0: all values may be negative.",
		"The window's rows are oh·stride .. oh·stride + PH − 1.",
	},
	Threshold:     1e-6,
	ThresholdNote: "Max pooling only selects values: the result should be exact.",
	cases: func() []*Case {
		var cs []*Case
		for k, s := range poolShapes {
			c := poolCase(k, s)
			a := c.Aux.(*poolAux)
			c.Inputs = [][]float64{a.x}
			c.Threads = len(c.Want[0])
			cs = append(cs, c)
		}
		return cs
	},
	mistakes: []Mistake{
		{"You averaged the window: max pooling takes its maximum.", func(c *Case) [][]float64 {
			return poolForwardVariant(c, a0(c).s.stride, func(x []float64, m []int) float64 {
				var s float64
				for _, i := range m {
					s += x[i]
				}
				return s / float64(len(m))
			})
		}},
		{"Your maximum starts at 0: windows whose values are all negative must give their (negative) maximum.", func(c *Case) [][]float64 {
			return poolForwardVariant(c, a0(c).s.stride, func(x []float64, m []int) float64 {
				best := 0.0
				for _, i := range m {
					best = max(best, x[i])
				}
				return best
			})
		}},
		{"Your windows ignore the stride: window (oh, ow) starts at (oh·stride, ow·stride).", func(c *Case) [][]float64 {
			if a0(c).s.stride == 1 {
				return nil
			}
			return poolForwardVariant(c, 1, maxOf)
		}},
	},
}, poolFields, []binding{{"x", false, "(N, C, H, W)"}, {"out", true, "(N, C, Hout, Wout)"}}, "")

func a0(c *Case) *poolAux { return c.Aux.(*poolAux) }

func maxOf(x []float64, m []int) float64 {
	best := x[m[0]]
	for _, i := range m {
		best = max(best, x[i])
	}
	return best
}

func poolForwardVariant(c *Case, stride int, agg func(x []float64, m []int) float64) [][]float64 {
	a := a0(c)
	out := make([]float64, len(c.Want[0]))
	poolWindows(a, stride, func(o int, m []int) { out[o] = agg(a.x, m) })
	return [][]float64{out}
}

var _ = define(&Exercise{
	Slug:  "maxpool-backward",
	Title: "Max pooling backward",
	Task: []string{
		"Given dout (N, C, Hout, Wout) and the forward input x, compute dx (N, C, H, W): each window passes its dout to the element that was its maximum (the first one, in row-major order, if several tie) and nothing to the others.",
		"Windows may overlap, so one element can receive gradient from several windows: write this as a gather, one invocation per element of dx, summing over the windows that contain it (then no two invocations write the same place).",
	},
	Threads:  "one invocation per element of dx (N·C·H·W)",
	Skeleton: skeleton("decompose i into (n·C + c, h, w); for each window containing (h, w),\nadd its dout if this element is the window's maximum."),
	Hints: []string{
		"Window (oh, ow) contains row h iff oh·stride ≤ h < oh·stride + PH.",
		"Recompute each window's argmax from x: the first strictly greater value wins, so ties go to the first element.",
		"Overlapping windows (stride < window) can each pick the same element: add, don't overwrite.",
	},
	Threshold:     1e-6,
	ThresholdNote: "Each dx element is a sum of at most a few dout values.",
	GradThreshold: 1e-4,
	cases: func() []*Case {
		var cs []*Case
		for k, s := range poolShapes {
			c := poolCase(k, s)
			a := c.Aux.(*poolAux)
			dx := must(nn.MaxPoolBackward(tt(a.dout, s.n, s.c, a.hout, a.wout), a.cache))
			c.Inputs = [][]float64{a.dout, a.x}
			c.Want = [][]float64{dx.Data}
			c.Threads = len(dx.Data)
			cs = append(cs, c)
		}
		return cs
	},
	numeric: func(c *Case) ([][]float64, error) {
		a := a0(c)
		x := tt(append([]float64(nil), a.x...), a.s.n, a.s.c, a.s.h, a.s.w)
		num, err := gradcheck.NumericalArray(func() (*tensor.Tensor, error) {
			out, _, err := nn.MaxPoolForward(x, nn.PoolParam{Height: a.s.ph, Width: a.s.pw, Stride: a.s.stride})
			return out, err
		}, x, tt(a.dout, a.s.n, a.s.c, a.hout, a.wout), gradcheck.H)
		if err != nil {
			return nil, err
		}
		return [][]float64{num.Data}, nil
	},
	mistakes: []Mistake{
		{"You spread each window's gradient over the whole window (average-pool backward): only the maximum gets it.", func(c *Case) [][]float64 {
			return poolBackwardVariant(c, func(x []float64, m []int, g float64, dx []float64, first bool) {
				for _, i := range m {
					dx[i] += g / float64(len(m))
				}
			})
		}},
		{"You gave every element of the window the full gradient: only the window's maximum gets it.", func(c *Case) [][]float64 {
			return poolBackwardVariant(c, func(x []float64, m []int, g float64, dx []float64, first bool) {
				for _, i := range m {
					dx[i] += g
				}
			})
		}},
		{"Overlapping windows overwrite each other: an element that is the maximum of several windows gets the sum of their gradients.", func(c *Case) [][]float64 {
			a := a0(c)
			if a.s.stride >= a.s.ph && a.s.stride >= a.s.pw {
				return nil
			}
			return poolBackwardVariant(c, func(x []float64, m []int, g float64, dx []float64, first bool) {
				best := m[0]
				for _, i := range m {
					if x[i] > x[best] {
						best = i
					}
				}
				dx[best] = g
			})
		}},
	},
}, poolFields, []binding{{"dout", false, "(N, C, Hout, Wout)"}, {"x", false, "(N, C, H, W) forward input"}, {"dx", true, "(N, C, H, W)"}}, "")

func poolBackwardVariant(c *Case, route func(x []float64, m []int, g float64, dx []float64, first bool)) [][]float64 {
	a := a0(c)
	dx := make([]float64, len(a.x))
	poolWindows(a, a.s.stride, func(o int, m []int) { route(a.x, m, a.dout[o], dx, true) })
	return [][]float64{dx}
}
