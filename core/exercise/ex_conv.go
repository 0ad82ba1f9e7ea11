package exercise

import (
	"fmt"

	"gradlab/core/gradcheck"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// convShape is one convolution the checker runs.
type convShape struct{ n, c, h, w, f, hh, ww, stride, pad int }

// convShapes: the course's 3x3 pad 1, stride 2 with an odd input, a 2x2
// kernel without padding, C and F not multiples of 4, batch 1, pad 2.
var convShapes = []convShape{
	{1, 3, 5, 5, 2, 3, 3, 1, 1},
	{2, 2, 7, 6, 3, 3, 3, 2, 1},
	{2, 5, 4, 4, 4, 2, 2, 2, 0},
	{1, 1, 4, 5, 1, 3, 3, 1, 2},
}

type convAux struct {
	s          convShape
	x, w, b    []float64
	dout       []float64
	hout, wout int
	cache      *nn.ConvCache
	param      nn.ConvParam
}

func (s convShape) label() string {
	return fmt.Sprintf("x %dx%dx%dx%d, w %dx%dx%dx%d, stride %d, pad %d", s.n, s.c, s.h, s.w, s.f, s.c, s.hh, s.ww, s.stride, s.pad)
}

func convCase(k int, s convShape) *Case {
	x := randVals(uint64(500+k), s.n*s.c*s.h*s.w)
	w := randVals(uint64(510+k), s.f*s.c*s.hh*s.ww)
	b := randVals(uint64(520+k), s.f)
	param := nn.ConvParam{Stride: s.stride, Pad: s.pad, Groups: 1}
	out, cache := must2(nn.ConvForwardNaive(tt(x, s.n, s.c, s.h, s.w), tt(w, s.f, s.c, s.hh, s.ww), tt(b, s.f), param))
	hout, wout := out.Shape[2], out.Shape[3]
	dout := randVals(uint64(530+k), len(out.Data))
	a := &convAux{s, x, w, b, dout, hout, wout, cache, param}
	return &Case{
		Label:  s.label(),
		Params: []uint32{uint32(s.n), uint32(s.c), uint32(s.h), uint32(s.w), uint32(s.f), uint32(s.hh), uint32(s.ww), uint32(s.stride), uint32(s.pad), uint32(hout), uint32(wout)},
		Want:   [][]float64{out.Data},
		Aux:    a,
	}
}

var convFields = []string{"N: u32", "C: u32", "H: u32", "W: u32", "F: u32", "HH: u32", "WW: u32", "stride: u32", "pad: u32", "Hout: u32", "Wout: u32"}

// convKnobs are the mistakes a variant reproduces.
type convKnobs struct {
	shiftH int  // window origin off by this many rows
	shiftW int  // and columns
	noBias bool // forgot b
	clamp  bool // padding reads the nearest edge pixel instead of 0
	flip   bool // kernel taps reversed
	batch0 bool // dw/db summed over the first image only
}

// convTaps calls f(n, f, oh, ow, c, kh, kw, xi) for every tap that reads
// input element xi (-1 for a padding zero), under the knobs.
func convTaps(a *convAux, k convKnobs, f func(n, fo, oh, ow, c, kh, kw, xi int)) {
	s := a.s
	for n := 0; n < s.n; n++ {
		for fo := 0; fo < s.f; fo++ {
			for oh := 0; oh < a.hout; oh++ {
				for ow := 0; ow < a.wout; ow++ {
					for c := 0; c < s.c; c++ {
						for kh := 0; kh < s.hh; kh++ {
							for kw := 0; kw < s.ww; kw++ {
								h := oh*s.stride + kh - s.pad + k.shiftH
								w := ow*s.stride + kw - s.pad + k.shiftW
								xi := -1
								if k.clamp {
									h, w = min(max(h, 0), s.h-1), min(max(w, 0), s.w-1)
								}
								if h >= 0 && h < s.h && w >= 0 && w < s.w {
									xi = ((n*s.c+c)*s.h+h)*s.w + w
								}
								tkh, tkw := kh, kw
								if k.flip {
									tkh, tkw = s.hh-1-kh, s.ww-1-kw
								}
								f(n, fo, oh, ow, c, tkh, tkw, xi)
							}
						}
					}
				}
			}
		}
	}
}

func (a *convAux) oidx(n, f, oh, ow int) int { return ((n*a.s.f+f)*a.hout+oh)*a.wout + ow }
func (a *convAux) widx(f, c, kh, kw int) int { return ((f*a.s.c+c)*a.s.hh+kh)*a.s.ww + kw }

func convForwardVariant(c *Case, k convKnobs) [][]float64 {
	a := c.Aux.(*convAux)
	out := make([]float64, a.s.n*a.s.f*a.hout*a.wout)
	if !k.noBias {
		for i := range out {
			out[i] = a.b[(i/(a.hout*a.wout))%a.s.f]
		}
	}
	convTaps(a, k, func(n, f, oh, ow, ch, kh, kw, xi int) {
		if xi >= 0 {
			out[a.oidx(n, f, oh, ow)] += a.x[xi] * a.w[a.widx(f, ch, kh, kw)]
		}
	})
	return [][]float64{out}
}

func convBackwardVariant(c *Case, k convKnobs) (dx, dw, db []float64) {
	a := c.Aux.(*convAux)
	dx = make([]float64, len(a.x))
	dw = make([]float64, len(a.w))
	db = make([]float64, a.s.f)
	convTaps(a, k, func(n, f, oh, ow, ch, kh, kw, xi int) {
		g := a.dout[a.oidx(n, f, oh, ow)]
		if xi >= 0 {
			dx[xi] += g * a.w[a.widx(f, ch, kh, kw)]
			if !k.batch0 || n == 0 {
				dw[a.widx(f, ch, kh, kw)] += g * a.x[xi]
			}
		}
	})
	for i, g := range a.dout {
		n := i / (a.s.f * a.hout * a.wout)
		if !k.batch0 || n == 0 {
			db[(i/(a.hout*a.wout))%a.s.f] += g
		}
	}
	return dx, dw, db
}

// padMistakes are the off-by-one padding variants, for every conv exercise.
func padMistakes(pick func(c *Case, k convKnobs) [][]float64) []Mistake {
	msg := "Your window is off by one pixel: the tap (kh, kw) of output (oh, ow) reads x at (oh·stride + kh − pad, ow·stride + kw − pad). Check the padding offset."
	var ms []Mistake
	for _, d := range [][2]int{{1, 0}, {0, 1}, {1, 1}, {-1, 0}, {0, -1}, {-1, -1}} {
		ms = append(ms, Mistake{msg, func(c *Case) [][]float64 { return pick(c, convKnobs{shiftH: d[0], shiftW: d[1]}) }})
	}
	return append(ms, []Mistake{
		{"Padding must read zeros: your kernel read the nearest edge pixel for taps outside the image.", func(c *Case) [][]float64 {
			if c.Aux.(*convAux).s.pad == 0 {
				return nil
			}
			return pick(c, convKnobs{clamp: true})
		}},
		{"Your kernel is flipped (w[HH−1−kh][WW−1−kw]): the course's convolution is a cross-correlation, w[kh][kw] with no flip.", func(c *Case) [][]float64 { return pick(c, convKnobs{flip: true}) }},
	}...)
}

var _ = define(&Exercise{
	Slug:  "conv-forward",
	Title: "Convolution forward",
	Task: []string{
		"x is (N, C, H, W), w is (F, C, HH, WW), b is (F); all row-major. Each output out[n, f, oh, ow] = b[f] + Σ over c, kh, kw of x[n, c, oh·stride + kh − pad, ow·stride + kw − pad] · w[f, c, kh, kw], where positions outside x (the zero padding) contribute nothing.",
		"Hout = 1 + (H + 2·pad − HH) / stride and Wout likewise, given in p.",
	},
	Threads:  "one invocation per output element (N·F·Hout·Wout)",
	Skeleton: skeleton("decompose i into (n, f, oh, ow), then sum over c, kh and kw.\nRemember the padding: some taps fall outside x."),
	Hints: []string{
		"Decompose the flat index: ow = i % Wout, oh = (i / Wout) % Hout, f = (i / (Wout·Hout)) % F, n = i / (Wout·Hout·F).",
		"The input row of tap kh is oh·stride + kh − pad; it can be negative, so compute it as i32.",
		"Skip taps outside 0 ≤ h < H, 0 ≤ w < W (that is the zero padding); don't clamp them to the edge.",
		"Start the sum at b[f].",
	},
	Threshold:     1e-4,
	ThresholdNote: "f32 dot products of C·HH·WW ≤ 45 terms; course float64 expectation ~1e-8 (rel_error).",
	cases: func() []*Case {
		var cs []*Case
		for k, s := range convShapes {
			c := convCase(k, s)
			a := c.Aux.(*convAux)
			c.Inputs = [][]float64{a.x, a.w, a.b}
			c.Threads = len(c.Want[0])
			cs = append(cs, c)
		}
		return cs
	},
	mistakes: append(padMistakes(convForwardVariant),
		Mistake{"The bias is missing: start each output at b[f].", func(c *Case) [][]float64 { return convForwardVariant(c, convKnobs{noBias: true}) }},
	),
}, convFields, []binding{{"x", false, "(N, C, H, W)"}, {"w", false, "(F, C, HH, WW)"}, {"b", false, "(F)"}, {"out", true, "(N, F, Hout, Wout)"}}, "")

var _ = define(&Exercise{
	Slug:  "conv-backward-data",
	Title: "Convolution backward: dx",
	Task: []string{
		"Given dout (N, F, Hout, Wout) and the weights w (F, C, HH, WW), compute dx (N, C, H, W), the gradient of the convolution with respect to its input.",
		"Write it as a gather: one invocation per dx element (n, c, h, w) adds dout[n, f, oh, ow] · w[f, c, kh, kw] for every output position and tap that read x[n, c, h, w] in the forward pass, i.e. oh·stride + kh − pad = h and ow·stride + kw − pad = w.",
	},
	Threads:  "one invocation per element of dx (N·C·H·W)",
	Skeleton: skeleton("decompose i into (n, c, h, w); for each f, kh, kw find the output\nposition (oh, ow) whose window used x[n, c, h, w] through tap (kh, kw)."),
	Hints: []string{
		"For tap kh, the output row is oh = (h + pad − kh) / stride — only when that is ≥ 0, divides exactly, and oh < Hout.",
		"Integer division rounds: check (h + pad − kh) % stride == 0 before dividing, or stride-2 shapes go wrong.",
		"Use i32 arithmetic for h + pad − kh: it can be negative.",
	},
	Threshold:     1e-4,
	ThresholdNote: "f32 sums of at most F·HH·WW terms; course float64 expectation ~1e-8.",
	GradThreshold: 1e-3,
	cases: func() []*Case {
		var cs []*Case
		for k, s := range convShapes {
			c := convCase(k, s)
			a := c.Aux.(*convAux)
			dx, _, _ := must3(nn.ConvBackwardNaive(tt(a.dout, s.n, s.f, a.hout, a.wout), a.cache))
			c.Inputs = [][]float64{a.dout, a.w}
			c.Want = [][]float64{dx.Data}
			c.Threads = len(dx.Data)
			cs = append(cs, c)
		}
		return cs
	},
	numeric: func(c *Case) ([][]float64, error) {
		a := c.Aux.(*convAux)
		x := tt(append([]float64(nil), a.x...), a.s.n, a.s.c, a.s.h, a.s.w)
		num, err := gradcheck.NumericalArray(convForwardOf(a, x, nil), x, tt(a.dout, a.s.n, a.s.f, a.hout, a.wout), gradcheck.H)
		if err != nil {
			return nil, err
		}
		return [][]float64{num.Data}, nil
	},
	mistakes: append(padMistakes(func(c *Case, k convKnobs) [][]float64 {
		dx, _, _ := convBackwardVariant(c, k)
		return [][]float64{dx}
	}), strideMistakes()...),
}, convFields, []binding{{"dout", false, "(N, F, Hout, Wout)"}, {"w", false, "(F, C, HH, WW)"}, {"dx", true, "(N, C, H, W)"}}, "")

func strideMistakes() []Mistake {
	var ms []Mistake
	for _, d := range [][2]bool{{true, false}, {false, true}, {true, true}} {
		ms = append(ms, Mistake{"Stride-2 positions are wrong: only taps where (h + pad − kh) divides exactly by the stride contribute; integer division alone rounds the others onto the wrong output.", func(c *Case) [][]float64 {
			a := c.Aux.(*convAux)
			if a.s.stride == 1 {
				return nil
			}
			return [][]float64{convDataNoDivCheck(a, d[0], d[1])}
		}})
	}
	return ms
}

// convDataNoDivCheck is dx computed with truncating division and no
// exactness check (rows, columns), the classic stride bug of a gather.
func convDataNoDivCheck(a *convAux, rows, cols bool) []float64 {
	s := a.s
	dx := make([]float64, len(a.x))
	for i := range dx {
		wi, hi := i%s.w, (i/s.w)%s.h
		c, n := (i/(s.w*s.h))%s.c, i/(s.w*s.h*s.c)
		for f := 0; f < s.f; f++ {
			for kh := 0; kh < s.hh; kh++ {
				th := hi + s.pad - kh
				if th < 0 || th/s.stride >= a.hout || (!rows && th%s.stride != 0) {
					continue
				}
				for kw := 0; kw < s.ww; kw++ {
					tw := wi + s.pad - kw
					if tw < 0 || tw/s.stride >= a.wout || (!cols && tw%s.stride != 0) {
						continue
					}
					dx[i] += a.dout[a.oidx(n, f, th/s.stride, tw/s.stride)] * a.w[a.widx(f, c, kh, kw)]
				}
			}
		}
	}
	return dx
}

// convForwardOf is core/nn's forward pass over the given tensors (a's
// originals where nil), for finite differences.
func convForwardOf(a *convAux, x, w *tensor.Tensor) func() (*tensor.Tensor, error) {
	if x == nil {
		x = tt(a.x, a.s.n, a.s.c, a.s.h, a.s.w)
	}
	if w == nil {
		w = tt(a.w, a.s.f, a.s.c, a.s.hh, a.s.ww)
	}
	return func() (*tensor.Tensor, error) {
		out, _, err := nn.ConvForwardNaive(x, w, tt(a.b, a.s.f), a.param)
		return out, err
	}
}

var _ = define(&Exercise{
	Slug:  "conv-backward-weights",
	Title: "Convolution backward: dw and db",
	Task: []string{
		"Given dout (N, F, Hout, Wout) and the forward input x (N, C, H, W), compute dw (F, C, HH, WW) and db (F).",
		"dw[f, c, kh, kw] sums x[n, c, oh·stride + kh − pad, ow·stride + kw − pad] · dout[n, f, oh, ow] over the batch and every output position (padding taps contribute nothing); db[f] sums dout[n, f, ·, ·]. One invocation per element of dw; let the first F invocations also write db.",
	},
	Threads:  "one invocation per element of dw (F·C·HH·WW); invocations i < F also write db[i]",
	Skeleton: skeleton("decompose i into (f, c, kh, kw) and sum over n, oh, ow;\ninvocations with i < F also sum db[i]."),
	Hints: []string{
		"dw is the same sum as the forward pass, with the roles swapped: loop over n, oh, ow instead of c, kh, kw.",
		"Sum over the whole batch: every image contributes to the one set of weights.",
		"db[f] does not depend on x: it is the sum of dout over n, oh and ow for filter f.",
	},
	Threshold:     1e-4,
	ThresholdNote: "f32 sums of N·Hout·Wout ≤ 50 terms; course float64 expectation ~1e-8.",
	GradThreshold: 1e-3,
	cases: func() []*Case {
		var cs []*Case
		for k, s := range convShapes {
			c := convCase(k, s)
			a := c.Aux.(*convAux)
			_, dw, db := must3(nn.ConvBackwardNaive(tt(a.dout, s.n, s.f, a.hout, a.wout), a.cache))
			c.Inputs = [][]float64{a.dout, a.x}
			c.Want = [][]float64{dw.Data, db.Data}
			c.Threads = len(dw.Data)
			cs = append(cs, c)
		}
		return cs
	},
	numeric: func(c *Case) ([][]float64, error) {
		a := c.Aux.(*convAux)
		w := tt(append([]float64(nil), a.w...), a.s.f, a.s.c, a.s.hh, a.s.ww)
		b := tt(append([]float64(nil), a.b...), a.s.f)
		dout := tt(a.dout, a.s.n, a.s.f, a.hout, a.wout)
		x := tt(a.x, a.s.n, a.s.c, a.s.h, a.s.w)
		f := func() (*tensor.Tensor, error) {
			out, _, err := nn.ConvForwardNaive(x, w, b, a.param)
			return out, err
		}
		nw, err := gradcheck.NumericalArray(f, w, dout, gradcheck.H)
		if err != nil {
			return nil, err
		}
		nb, err := gradcheck.NumericalArray(f, b, dout, gradcheck.H)
		if err != nil {
			return nil, err
		}
		return [][]float64{nw.Data, nb.Data}, nil
	},
	mistakes: append(padMistakes(func(c *Case, k convKnobs) [][]float64 {
		_, dw, db := convBackwardVariant(c, k)
		return [][]float64{dw, db}
	}), Mistake{"Only the first image was summed: dw and db sum over the whole batch (loop over n).", func(c *Case) [][]float64 {
		if c.Aux.(*convAux).s.n < 2 {
			return nil
		}
		_, dw, db := convBackwardVariant(c, convKnobs{batch0: true})
		return [][]float64{dw, db}
	}}),
}, convFields, []binding{{"dout", false, "(N, F, Hout, Wout)"}, {"x", false, "(N, C, H, W) forward input"}, {"dw", true, "(F, C, HH, WW)"}, {"db", true, "(F)"}}, "")
