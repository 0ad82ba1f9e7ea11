package model

import (
	"fmt"
	"math"
	"testing"

	"gradlab/core/tensor"
)

// The course's check: default net (32 7x7 filters, hidden 100, weight scale
// 1e-3) on (3, 32, 32) images starts at ln(10) = 2.3026 without
// regularisation, and regularisation adds exactly 0.5*reg*Σ||W||².
func TestConvNetInitialLoss(t *testing.T) {
	X := randn(t, 11, 4, 3, 32, 32)
	y := randLabels(12, 4, 10)
	net, err := NewThreeLayerConvNet(ConvNetConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if c := net.Config(); c.NumFilters != 32 || c.FilterSize != 7 || c.HiddenDim != 100 || c.NumClasses != 10 || c.WeightScale != 1e-3 || c.InputDims != [3]int{3, 32, 32} {
		t.Fatalf("defaults %+v", c)
	}
	if got := net.Params()["W2"].Shape; !tensor.SameShape(got, []int{32 * 16 * 16, 100}) {
		t.Fatalf("W2 shape %v", got)
	}
	l0, _, err := net.Loss(X, y)
	if err != nil {
		t.Fatal(err)
	}
	if !near(l0, math.Log(10), 1e-3) {
		t.Fatalf("initial loss %v, want ln(10) = %v", l0, math.Log(10))
	}
	withReg, err := NewThreeLayerConvNet(ConvNetConfig{Seed: 3, Reg: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	l1, _, err := withReg.Loss(X, y)
	if err != nil {
		t.Fatal(err)
	}
	p := withReg.Params()
	if want := l0 + 0.25*sumSquares(p["W1"], p["W2"], p["W3"]); !(l1 > l0) || !near(l1, want, 1e-12) {
		t.Fatalf("loss with reg 0.5: %v, want %v", l1, want)
	}
}

// The course's gradient check: 5 inputs of (3, 12, 12), 3 filters of 3x3,
// hidden dim 7, h = 1e-6, max rel error < 1e-2 (ReLU and max-pool kinks
// make centred differences unreliable near ties, hence the loose bound).
func TestConvNetGradients(t *testing.T) {
	X := randn(t, 21, 5, 3, 12, 12)
	y := randLabels(22, 5, 10)
	for _, reg := range []float64{0, 0.5} {
		t.Run(fmt.Sprint("reg=", reg), func(t *testing.T) {
			net, err := NewThreeLayerConvNet(ConvNetConfig{InputDims: [3]int{3, 12, 12}, NumFilters: 3, FilterSize: 3,
				HiddenDim: 7, WeightScale: 1e-2, Reg: reg, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			for name, e := range gradErrors(t, net, X, y, 1e-6) {
				if e > 1e-2 {
					t.Errorf("%s: rel error %.3g > 1e-2", name, e)
				}
			}
		})
	}
}

// Even filters and odd image sizes are allowed: the conv output is floored
// like PyTorch, then the 2x2 pool floors again.
func TestConvNetOddGeometry(t *testing.T) {
	net, err := NewThreeLayerConvNet(ConvNetConfig{InputDims: [3]int{2, 9, 12}, NumFilters: 4, FilterSize: 4, HiddenDim: 5, NumClasses: 3})
	if err != nil {
		t.Fatal(err)
	}
	// pad 1: conv out 8x11, pool out 4x5.
	if got := net.Params()["W2"].Shape; !tensor.SameShape(got, []int{4 * 4 * 5, 5}) {
		t.Fatalf("W2 shape %v", got)
	}
	s, err := net.Scores(randn(t, 1, 2, 2, 9, 12))
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(s.Shape, []int{2, 3}) {
		t.Fatalf("scores shape %v", s.Shape)
	}
}

func TestConvNetBadConfig(t *testing.T) {
	cases := []struct {
		cfg  ConvNetConfig
		frag string
	}{
		{ConvNetConfig{InputDims: [3]int{3, 0, 8}}, "input dims"},
		{ConvNetConfig{NumFilters: -1}, "must be positive"},
		{ConvNetConfig{HiddenDim: -5}, "must be positive"},
		{ConvNetConfig{InputDims: [3]int{3, 1, 8}, FilterSize: 2}, "does not fit"},
		{ConvNetConfig{InputDims: [3]int{3, 1, 8}, FilterSize: 1}, "too small"},
		{ConvNetConfig{Reg: -0.1}, "reg"},
		{ConvNetConfig{WeightScale: math.Inf(1)}, "weight scale"},
	}
	for _, c := range cases {
		_, err := NewThreeLayerConvNet(c.cfg)
		wantError(t, fmt.Sprintf("%+v", c.cfg), err, "model.NewThreeLayerConvNet", c.frag)
	}
}

func TestConvNetBadInput(t *testing.T) {
	net, err := NewThreeLayerConvNet(ConvNetConfig{InputDims: [3]int{3, 8, 8}, NumFilters: 2, FilterSize: 3, HiddenDim: 4})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		what string
		X    *tensor.Tensor
		y    []int
		frag string
	}{
		{"wrong image size", randn(t, 1, 2, 3, 8, 9), []int{0, 1}, "(N, 3, 8, 8)"},
		{"flattened images", randn(t, 1, 2, 192), []int{0, 1}, "(N, 3, 8, 8)"},
		{"wrong channels", randn(t, 1, 2, 1, 8, 8), []int{0, 1}, "(N, 3, 8, 8)"},
		{"label out of range", randn(t, 1, 2, 3, 8, 8), []int{0, 10}, "outside [0, 10)"},
		{"label count", randn(t, 1, 2, 3, 8, 8), []int{0}, "1 labels for 2 samples"},
		{"nil labels", randn(t, 1, 2, 3, 8, 8), nil, "Scores"},
		{"nil X", nil, []int{0}, "nil"},
	}
	for _, c := range cases {
		_, _, err := net.Loss(c.X, c.y)
		wantError(t, c.what, err, "model.ThreeLayerConvNet.Loss", c.frag)
	}
	_, err = net.Scores(randn(t, 1, 2, 3, 7, 8))
	wantError(t, "Scores with wrong size", err, "model.ThreeLayerConvNet.Scores", "(N, 3, 8, 8)")
}
