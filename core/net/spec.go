// Package net defines networks as a validated stack of layers that runs on
// the float64 CPU reference (this package) and on the GPU engine alike: the
// reference CNN, the three-layer conv net, fully-connected nets, and any
// stack a learner types. It also saves and loads trained weights.
package net

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind names a layer type.
type Kind string

const (
	Conv           Kind = "conv"    // Out filters of K x K, Stride, Pad, optional Bias
	BatchNorm      Kind = "bn"      // spatial after a conv, 1-D after an affine
	ReLU           Kind = "relu"    //
	MaxPool        Kind = "pool"    // K x K window, Stride (default K)
	Dropout        Kind = "dropout" // P = probability of dropping
	SpatialDropout Kind = "sdrop"   // drops whole channels
	Affine         Kind = "affine"  // Out units; flattens its input
)

// Layer is one entry of a stack. Fields a kind does not use stay zero.
type Layer struct {
	Kind   Kind    `json:"kind"`
	Out    int     `json:"out,omitempty"`
	K      int     `json:"k,omitempty"`
	Stride int     `json:"stride,omitempty"`
	Pad    int     `json:"pad,omitempty"`
	Bias   bool    `json:"bias,omitempty"`
	P      float64 `json:"p,omitempty"`
}

// Spec is a whole network: input image shape, classes and layers. The last
// layer must be an affine layer with Classes outputs (the scores).
type Spec struct {
	Name    string  `json:"name"`
	C, H, W int     `json:"-"`
	Classes int     `json:"classes"`
	Layers  []Layer `json:"layers"`
}

// String is the canonical text form of a layer, which Parse reads back.
func (l Layer) String() string {
	switch l.Kind {
	case Conv:
		s := fmt.Sprintf("conv %d %d", l.Out, l.K)
		if l.Stride != 1 {
			s += fmt.Sprintf(" stride=%d", l.Stride)
		}
		if l.Pad != 0 {
			s += fmt.Sprintf(" pad=%d", l.Pad)
		}
		if !l.Bias {
			s += " nobias"
		}
		return s
	case MaxPool:
		if l.Stride != l.K {
			return fmt.Sprintf("pool %d stride=%d", l.K, l.Stride)
		}
		return fmt.Sprintf("pool %d", l.K)
	case Dropout, SpatialDropout:
		return fmt.Sprintf("%s %s", l.Kind, strconv.FormatFloat(l.P, 'g', -1, 64))
	case Affine:
		if !l.Bias {
			return fmt.Sprintf("affine %d nobias", l.Out)
		}
		return fmt.Sprintf("affine %d", l.Out)
	default:
		return string(l.Kind)
	}
}

// String is the canonical form of the whole spec: it is the architecture
// fingerprint stored with saved weights.
func (s Spec) String() string {
	parts := make([]string, len(s.Layers))
	for i, l := range s.Layers {
		parts[i] = l.String()
	}
	return fmt.Sprintf("input %dx%dx%d; %s", s.C, s.H, s.W, strings.Join(parts, ", "))
}

// Parse reads a learner's stack, one layer per comma or line, e.g.
//
//	conv 32 3 pad=1, bn, relu, pool 2, dropout 0.5, affine 10
//
// conv takes filters and kernel size, then optional stride=, pad= and
// nobias; pool a window and optional stride=; dropout/sdrop a probability;
// affine a width and optional nobias. Errors name the layer's position.
func Parse(text string) ([]Layer, error) {
	var layers []Layer
	items := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == ';' })
	for _, item := range items {
		f := strings.Fields(item)
		if len(f) == 0 {
			continue
		}
		pos := len(layers) + 1
		l, err := parseLayer(f)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%q): %w", pos, strings.TrimSpace(item), err)
		}
		layers = append(layers, l)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("no layers: write e.g. \"conv 16 3 pad=1, relu, pool 2, affine 10\"")
	}
	return layers, nil
}

func parseLayer(f []string) (Layer, error) {
	kind := Kind(strings.ToLower(f[0]))
	switch kind {
	case "batchnorm":
		kind = BatchNorm
	case "maxpool":
		kind = MaxPool
	case "fc", "linear", "dense":
		kind = Affine
	}
	l := Layer{Kind: kind, Stride: 1, Bias: true}
	var pos []string
	for _, a := range f[1:] {
		switch {
		case strings.HasPrefix(a, "stride="):
			v, err := strconv.Atoi(strings.TrimPrefix(a, "stride="))
			if err != nil {
				return l, fmt.Errorf("stride must be a whole number, got %q", a)
			}
			l.Stride = v
		case strings.HasPrefix(a, "pad="):
			v, err := strconv.Atoi(strings.TrimPrefix(a, "pad="))
			if err != nil {
				return l, fmt.Errorf("pad must be a whole number, got %q", a)
			}
			l.Pad = v
		case a == "nobias":
			l.Bias = false
		default:
			pos = append(pos, a)
		}
	}
	ints := func(want int, names string) ([]int, error) {
		if len(pos) != want {
			return nil, fmt.Errorf("%s takes %s", kind, names)
		}
		out := make([]int, want)
		for i, p := range pos {
			v, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a whole number", kind, p)
			}
			out[i] = v
		}
		return out, nil
	}
	switch kind {
	case Conv:
		v, err := ints(2, "a filter count and a kernel size, e.g. conv 32 3 pad=1")
		if err != nil {
			return l, err
		}
		l.Out, l.K = v[0], v[1]
	case MaxPool:
		v, err := ints(1, "a window size, e.g. pool 2")
		if err != nil {
			return l, err
		}
		l.K = v[0]
		if !hasPrefix(f, "stride=") {
			l.Stride = l.K
		}
		l.Bias = false
	case Dropout, SpatialDropout:
		if len(pos) != 1 {
			return l, fmt.Errorf("%s takes a drop probability, e.g. dropout 0.5", kind)
		}
		p, err := strconv.ParseFloat(pos[0], 64)
		if err != nil {
			return l, fmt.Errorf("%s: %q is not a number", kind, pos[0])
		}
		l.P, l.Bias = p, false
	case Affine:
		v, err := ints(1, "a width, e.g. affine 10")
		if err != nil {
			return l, err
		}
		l.Out = v[0]
	case BatchNorm, ReLU:
		if len(pos) != 0 {
			return l, fmt.Errorf("%s takes no arguments", kind)
		}
		l.Bias = false
	default:
		return l, fmt.Errorf("unknown layer %q: use conv, bn, relu, pool, dropout, sdrop or affine", f[0])
	}
	return l, nil
}

func hasPrefix(f []string, p string) bool {
	for _, a := range f {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return false
}
