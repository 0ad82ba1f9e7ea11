package exercise

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gradlab/core/gradcheck"
	"gradlab/core/nn"
	"gradlab/core/rng"
	"gradlab/core/tensor"
	"gradlab/shaders"
)

// randVals returns n values in [-2, 2) rounded to f32, from a fixed seed so
// a check is repeatable.
func randVals(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x6772616460))
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64()*4 - 2
	}
	return roundF32(v)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err) // the references are called with valid shapes only
	}
	return v
}

// elementSizes are the flat sizes the element-wise exercises run: one
// element, a size below one workgroup, and sizes not a multiple of WG.
var elementSizes = []int{1, 37, 64, 1000}

var _ = define(&Exercise{
	Slug:  "relu",
	Title: "ReLU forward",
	Task: []string{
		"Write the forward pass of the rectified linear unit: out[i] = max(x[i], 0) for each of the p.n elements of x.",
		"The checker launches ceil(p.n / WG) workgroups of WG invocations: some invocations have no element to work on.",
	},
	Threads:  "one invocation per element",
	Skeleton: skeleton("write out[i] for element i (if it exists)."),
	Hints: []string{
		"The last workgroup is only partly used: return early when i >= p.n, or you write past the end.",
		"WGSL has a max() built-in for f32.",
		"0.0 is an f32 literal; 0 would be an abstract integer.",
	},
	Threshold:     1e-6,
	ThresholdNote: "ReLU only selects values, so the result should be exact; 1e-6 leaves room for nothing but f32 rounding of the input.",
	cases: func() []*Case {
		var cs []*Case
		for k, n := range elementSizes {
			x := randVals(uint64(k+1), n)
			out, _ := must2(nn.ReluForward(tt(x, n)))
			cs = append(cs, &Case{Label: fmt.Sprintf("n=%d", n), Params: []uint32{uint32(n)}, Inputs: [][]float64{x}, Want: [][]float64{out.Data}, Threads: n})
		}
		return cs
	},
	mistakes: []Mistake{
		{"The output equals the input: negative values must become 0.", func(c *Case) [][]float64 { return [][]float64{c.Inputs[0]} }},
		{"You kept the negative part (min instead of max): ReLU keeps the positive values.", func(c *Case) [][]float64 {
			return [][]float64{mapVals(c.Inputs[0], func(v float64) float64 { return math.Min(v, 0) })}
		}},
		{"Negative inputs came out as their absolute value: use max(x, 0), not abs(x).", func(c *Case) [][]float64 {
			return [][]float64{mapVals(c.Inputs[0], math.Abs)}
		}},
	},
}, []string{"n: u32"}, []binding{{"x", false, "input, p.n values"}, {"out", true, "output, p.n values"}}, "")

// tt wraps data (shared, not copied) in a tensor of a valid shape.
func tt(data []float64, shape ...int) *tensor.Tensor { return must(tensor.FromData(data, shape...)) }

func mapVals(v []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// philoxHelpers is the Philox4x32-10 generator of shaders/dropout.wgsl
// (mul_hi_lo, philox4x32_10, philox_word), cut from that file so the
// exercise draws exactly the stream gradlab's own kernel and core/rng draw,
// and random_word over the exercise's own Params (gradlab's kernel takes
// the step from a buffer of its own; the exercise keeps it in p).
// If that file changes shape, philoxErr says so (a test checks it) rather
// than a panic taking the whole app down at start-up.
var philoxHelpers, philoxErr = func() (string, error) {
	src, err := shaders.Source("dropout")
	if err != nil {
		return "", err
	}
	start := strings.Index(src, "// 32x32 -> 64-bit")
	end := strings.Index(src, "@compute")
	if start < 0 || end < start {
		return "", errors.New("exercise: shaders/dropout.wgsl no longer has the Philox helpers before its first @compute")
	}
	return "// Philox4x32-10, as in gradlab's shaders/dropout.wgsl and core/rng.\n" + strings.TrimSpace(src[start:end]) + `

// Word index of the stream (p.seed, p.step, p.stream).
fn random_word(index: u32) -> u32 {
    return philox_word(vec2<u32>(p.seed_lo, p.seed_hi), p.step, p.stream, index);
}
`, nil
}()

type dropoutAux struct {
	param nn.DropoutParam
	x     []float64
}

var dropoutProbs = []float64{0.5, 0.25, 0.9, 0.5}

func dropoutParams(n int, param nn.DropoutParam) []uint32 {
	return []uint32{uint32(n), rng.KeepThreshold(param.P), uint32(param.Seed), uint32(param.Seed >> 32), param.Step, param.Layer, f32bits(1 / (1 - param.P))}
}

var dropoutFields = []string{"n: u32", "threshold: u32 // keep iff random_word(i) >= threshold", "seed_lo: u32", "seed_hi: u32", "step: u32", "stream: u32", "scale: f32 // 1 / (1 - drop probability)"}

func dropoutCase(k, n int) (*Case, *nn.DropoutCache, []float64) {
	param := nn.DropoutParam{P: dropoutProbs[k%len(dropoutProbs)], Mode: nn.Train, Seed: 0x5eed0000 + uint64(k)<<33, Step: uint32(3 + k), Layer: uint32(k)}
	x := randVals(uint64(100+k), n)
	out, cache := must2(nn.DropoutForward(tt(x, n), param))
	c := &Case{Label: fmt.Sprintf("n=%d, p=%v", n, param.P), Params: dropoutParams(n, param), Threads: n, Aux: &dropoutAux{param, x}}
	_ = out
	return c, cache, x
}

var _ = define(&Exercise{
	Slug:  "dropout-forward",
	Title: "Dropout forward (inverted, train mode)",
	Task: []string{
		"Write inverted dropout at training time. Element i is kept iff random_word(i) >= p.threshold, where random_word is the Philox generator given above (the same stream gradlab's kernels and its float64 reference use, so your mask must match exactly).",
		"A kept element is scaled by p.scale = 1/(1-p), so the expected output equals the input; a dropped one becomes 0. Write the output and the mask (p.scale where kept, 0 where dropped), which the backward pass needs.",
	},
	Threads:  "one invocation per element",
	Skeleton: skeleton("draw random_word(i), decide whether element i is kept,\nthen write out[i] and mask[i]."),
	Hints: []string{
		"random_word(i) returns a u32; compare it with p.threshold as unsigned integers.",
		"p is the probability of dropping a unit, so kept units must be scaled up by 1/(1-p) = p.scale — not by (1-p).",
		"select(0.0, p.scale, keep) gives the mask value in one expression.",
	},
	Threshold:     1e-6,
	ThresholdNote: "Each output is one f32 product: exact up to rounding (the float64 reference scales by 1/(1-p) unrounded).",
	cases: func() []*Case {
		var cs []*Case
		for k, n := range elementSizes {
			c, cache, _ := dropoutCase(k, n)
			out := make([]float64, n)
			x := c.Aux.(*dropoutAux).x
			for i := range out {
				out[i] = x[i] * cache.Mask.Data[i]
			}
			c.Inputs = [][]float64{x}
			c.Want = [][]float64{out, cache.Mask.Data}
			cs = append(cs, c)
		}
		return cs
	},
	mistakes: []Mistake{
		{"Kept values are not scaled: did you forget to scale by 1/(1-p)? (inverted dropout divides the survivors by the keep probability)", func(c *Case) [][]float64 {
			return dropoutVariant(c, func(keep bool, s float64) float64 { return b2f(keep) })
		}},
		{"Kept values are multiplied by (1-p) instead of divided by it: use p.scale = 1/(1-p).", func(c *Case) [][]float64 {
			return dropoutVariant(c, func(keep bool, s float64) float64 { return b2f(keep) / s })
		}},
		{"Your mask is the opposite of the reference: an element is kept when random_word(i) >= p.threshold, dropped otherwise.", func(c *Case) [][]float64 {
			return dropoutVariant(c, func(keep bool, s float64) float64 { return b2f(!keep) * s })
		}},
		{"Every element was kept: the mask must drop an element when random_word(i) < p.threshold.", func(c *Case) [][]float64 {
			return dropoutVariant(c, func(keep bool, s float64) float64 { return s })
		}},
	},
}, dropoutFields, []binding{{"x", false, "input, p.n values"}, {"out", true, "output, p.n values"}, {"mask", true, "p.scale where kept, 0 where dropped"}}, philoxHelpers)

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// dropoutVariant recomputes the forward pass with a wrong mask value
// m(keep, scale) in place of keep ? scale : 0.
func dropoutVariant(c *Case, m func(keep bool, scale float64) float64) [][]float64 {
	a := c.Aux.(*dropoutAux)
	n := len(a.x)
	keep := must(nn.DropoutKeepMask(a.param, n))
	s := float64(float32(1 / (1 - a.param.P)))
	out, mask := make([]float64, n), make([]float64, n)
	for i := range out {
		mask[i] = m(keep[i], s)
		out[i] = a.x[i] * mask[i]
	}
	return [][]float64{out, mask}
}

var _ = define(&Exercise{
	Slug:  "dropout-backward",
	Title: "Dropout backward",
	Task: []string{
		"Write the backward pass of inverted dropout: given the upstream gradient dout and the mask the forward pass wrote (1/(1-p) where a unit was kept, 0 where it was dropped), compute dx.",
		"A dropped unit passed nothing forward, so it gets no gradient; a kept one was multiplied by 1/(1-p) and its gradient is too.",
	},
	Threads:  "one invocation per element",
	Skeleton: skeleton("write dx[i]."),
	Hints: []string{
		"out = x * mask, so d out / d x = mask.",
		"The mask already contains the 1/(1-p) scale: do not apply it a second time, and do not turn the mask into 0/1.",
	},
	Threshold:     1e-6,
	ThresholdNote: "One f32 product per element: exact up to rounding.",
	GradThreshold: 1e-4,
	cases: func() []*Case {
		var cs []*Case
		for k, n := range elementSizes {
			c, cache, _ := dropoutCase(k, n)
			dout := randVals(uint64(200+k), n)
			dx := must(nn.DropoutBackward(tt(dout, n), cache))
			c.Params = []uint32{uint32(n)}
			c.Inputs = [][]float64{dout, roundF32(append([]float64(nil), cache.Mask.Data...))}
			c.Want = [][]float64{dx.Data}
			cs = append(cs, c)
		}
		return cs
	},
	numeric: func(c *Case) ([][]float64, error) {
		a := c.Aux.(*dropoutAux)
		x := tt(append([]float64(nil), a.x...), len(a.x))
		dout := tt(c.Inputs[0], len(a.x))
		g, err := gradcheck.NumericalArray(func() (*tensor.Tensor, error) {
			out, _, err := nn.DropoutForward(x, a.param)
			return out, err
		}, x, dout, gradcheck.H)
		if err != nil {
			return nil, err
		}
		return [][]float64{g.Data}, nil
	},
	mistakes: []Mistake{
		{"dx equals dout: multiply by the mask, dropped units get no gradient.", func(c *Case) [][]float64 { return [][]float64{c.Inputs[0]} }},
		{"dx is missing the 1/(1-p) scale: the mask already holds it, multiply dout by the mask as it is.", func(c *Case) [][]float64 {
			out := make([]float64, len(c.Inputs[0]))
			for i, g := range c.Inputs[0] {
				out[i] = g * b2f(c.Inputs[1][i] != 0)
			}
			return [][]float64{out}
		}},
		{"dx is scaled twice by 1/(1-p): the mask already holds the scale.", func(c *Case) [][]float64 {
			out := make([]float64, len(c.Inputs[0]))
			for i, g := range c.Inputs[0] {
				out[i] = g * c.Inputs[1][i] * c.Inputs[1][i]
			}
			return [][]float64{out}
		}},
	},
}, []string{"n: u32"}, []binding{{"dout", false, "upstream gradient, p.n values"}, {"mask", false, "from the forward pass: 1/(1-p) or 0"}, {"dx", true, "output, p.n values"}}, "")
