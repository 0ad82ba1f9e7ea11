package net

import (
	"fmt"
	"math"
)

// MaxParams bounds a network so a typo (affine 1000000) is refused before it
// allocates gigabytes in a browser tab.
const MaxParams = 50_000_000

// ParamShape is one learnable tensor of a layer.
type ParamShape struct {
	Name  string // "L3.W": layer index and role
	Role  string // W, b, gamma, beta
	Shape []int
}

// Step is a validated layer with its input and output shapes (per image,
// without the batch dimension) and its parameters.
type Step struct {
	Layer
	Index   int
	In, Out []int
	Spatial bool // bn or dropout acting on C x H x W maps
	Params  []ParamShape
}

// Plan checks that the layers chain from the input shape to Classes scores
// and returns every step's shapes. The errors say which layer breaks and why.
func (s Spec) Plan() ([]Step, error) {
	if s.C <= 0 || s.H <= 0 || s.W <= 0 || s.C > 4096 || s.H > 4096 || s.W > 4096 {
		return nil, fmt.Errorf("%s: input %dx%dx%d: each side must be in 1..4096", s.Name, s.C, s.H, s.W)
	}
	if s.Classes < 2 {
		return nil, fmt.Errorf("%s: %d classes, need at least 2", s.Name, s.Classes)
	}
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("%s: no layers", s.Name)
	}
	shape := []int{s.C, s.H, s.W}
	steps := make([]Step, 0, len(s.Layers))
	total := 0
	for i, l := range s.Layers {
		st := Step{Layer: l, Index: i, In: shape}
		fail := func(format string, a ...any) error {
			return fmt.Errorf("%s: layer %d (%s) on input %s: %s", s.Name, i+1, l, shapeText(shape), fmt.Sprintf(format, a...))
		}
		spatial := len(shape) == 3
		switch l.Kind {
		case Conv:
			if !spatial {
				return nil, fail("a conv needs C x H x W maps; it cannot follow an affine layer")
			}
			if l.Out <= 0 || l.K <= 0 || l.Stride <= 0 || l.Pad < 0 || l.Pad >= l.K+64 {
				return nil, fail("filters and kernel size must be positive, stride at least 1, pad at least 0")
			}
			oh, ow := (shape[1]+2*l.Pad-l.K)/l.Stride+1, (shape[2]+2*l.Pad-l.K)/l.Stride+1
			if shape[1]+2*l.Pad < l.K || shape[2]+2*l.Pad < l.K {
				return nil, fail("a %dx%d kernel does not fit in the padded input", l.K, l.K)
			}
			st.Params = append(st.Params, ParamShape{Role: "W", Shape: []int{l.Out, shape[0], l.K, l.K}})
			if l.Bias {
				st.Params = append(st.Params, ParamShape{Role: "b", Shape: []int{l.Out}})
			}
			st.Out = []int{l.Out, oh, ow}
		case MaxPool:
			if !spatial {
				return nil, fail("pooling needs C x H x W maps")
			}
			if l.K <= 0 || l.Stride <= 0 {
				return nil, fail("window and stride must be positive")
			}
			if l.K > shape[1] || l.K > shape[2] {
				return nil, fail("a %dx%d window is larger than the %dx%d input", l.K, l.K, shape[1], shape[2])
			}
			st.Out = []int{shape[0], (shape[1]-l.K)/l.Stride + 1, (shape[2]-l.K)/l.Stride + 1}
		case BatchNorm:
			c := shape[0]
			st.Spatial = spatial
			st.Params = []ParamShape{{Role: "gamma", Shape: []int{c}}, {Role: "beta", Shape: []int{c}}}
			st.Out = shape
		case ReLU:
			st.Out = shape
		case Dropout, SpatialDropout:
			if !(l.P >= 0 && l.P < 1) {
				return nil, fail("drop probability must be in [0, 1), got %v", l.P)
			}
			if l.Kind == SpatialDropout && !spatial {
				return nil, fail("spatial dropout drops channels of C x H x W maps")
			}
			st.Spatial = spatial
			st.Out = shape
		case Affine:
			if l.Out <= 0 {
				return nil, fail("width must be positive")
			}
			in := prod(shape)
			st.Params = append(st.Params, ParamShape{Role: "W", Shape: []int{in, l.Out}})
			if l.Bias {
				st.Params = append(st.Params, ParamShape{Role: "b", Shape: []int{l.Out}})
			}
			st.Out = []int{l.Out}
		default:
			return nil, fail("unknown layer kind %q", l.Kind)
		}
		for j := range st.Params {
			st.Params[j].Name = fmt.Sprintf("L%d.%s", i, st.Params[j].Role)
			n := prod(st.Params[j].Shape)
			if n > MaxParams || total+n > MaxParams {
				return nil, fail("more than %d parameters", MaxParams)
			}
			total += n
		}
		if prod(st.Out) > 1<<26 {
			return nil, fail("output of %s values per image is too large", shapeText(st.Out))
		}
		steps = append(steps, st)
		shape = st.Out
	}
	last := steps[len(steps)-1]
	if last.Kind != Affine || last.Out[0] != s.Classes {
		return nil, fmt.Errorf("%s: the last layer must be \"affine %d\" (one score per class), got %q", s.Name, s.Classes, last.Layer)
	}
	return steps, nil
}

// NumParams counts learnable values (running statistics excluded).
func (s Spec) NumParams() (int, error) {
	steps, err := s.Plan()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, st := range steps {
		for _, p := range st.Params {
			n += prod(p.Shape)
		}
	}
	return n, nil
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func shapeText(s []int) string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += "x"
		}
		out += fmt.Sprint(d)
	}
	return out
}

// heStd is the He-normal initialisation scale for a ReLU network.
func heStd(fanIn int) float64 { return math.Sqrt(2 / float64(fanIn)) }
