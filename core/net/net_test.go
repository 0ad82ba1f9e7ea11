package net

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

func TestParseRoundTrip(t *testing.T) {
	text := "conv 8 3 pad=1 nobias, bn, relu, pool 2, sdrop 0.25, conv 4 5 stride=2 pad=2, relu, pool 3 stride=2, dropout 0.5, affine 20, bn, relu, affine 10"
	ls, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "mine", C: 3, H: 32, W: 32, Classes: 10, Layers: ls}
	again, err := Parse(strings.SplitN(spec.String(), "; ", 2)[1])
	if err != nil {
		t.Fatal(err)
	}
	if s2 := (Spec{Name: "mine", C: 3, H: 32, W: 32, Classes: 10, Layers: again}); s2.String() != spec.String() {
		t.Fatalf("round trip changed the spec:\n%s\n%s", spec, s2)
	}
	if ls[0].Bias || !ls[5].Bias || ls[5].Stride != 2 || ls[7].Stride != 2 || ls[7].K != 3 || ls[8].P != 0.5 {
		t.Fatalf("parsed wrongly: %+v", ls)
	}
}

func TestParseErrorsNameTheLayer(t *testing.T) {
	cases := map[string]string{
		"":                        "no layers",
		"conv 8, relu":            "layer 1",
		"relu, pool x":            "layer 2",
		"relu, relu, wobble 3":    "unknown layer",
		"conv 8 3 stride=two":     "stride",
		"dropout half, affine 10": "not a number",
		"relu 3":                  "no arguments",
		"affine 10 20":            "a width",
	}
	for text, want := range cases {
		if _, err := Parse(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error mentioning %q", text, err, want)
		}
	}
}

func TestPlanRefusesStacksThatDoNotChain(t *testing.T) {
	mk := func(text string) Spec {
		ls, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		return Spec{Name: "s", C: 1, H: 8, W: 8, Classes: 10, Layers: ls}
	}
	cases := map[string]string{
		"affine 20, conv 4 3, affine 10":  "cannot follow an affine",
		"pool 9, affine 10":               "larger than",
		"conv 4 11, affine 10":            "does not fit",
		"conv 4 3, relu":                  "last layer must be",
		"conv 4 3, affine 7":              "last layer must be",
		"dropout 1, affine 10":            "[0, 1)",
		"affine 10, sdrop 0.5, affine 10": "spatial dropout",
		"conv 0 3, affine 10":             "must be positive",
		"affine 100000000, affine 10":     "parameters",
	}
	for text, want := range cases {
		if _, err := mk(text).Plan(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Plan(%q) = %v, want an error mentioning %q", text, err, want)
		}
	}
	if _, err := (Spec{Name: "s", C: 0, H: 8, W: 8, Classes: 10, Layers: []Layer{{Kind: Affine, Out: 10}}}).Plan(); err == nil {
		t.Error("zero channels accepted")
	}
}

// Counted by hand from the layer list: 3x3 convs 3->32->32->64->64->128
// without bias, five batchnorms with gamma and beta, and a 2048->10 affine.
func TestReferenceCNNParameterCount(t *testing.T) {
	conv := 9 * (3*32 + 32*32 + 32*64 + 64*64 + 64*128)
	bn := 2 * (32 + 32 + 64 + 64 + 128)
	want := conv + bn + 2048*10 + 10
	got, err := ReferenceCNN(3, 32, 32, 10, true, 0.5).NumParams()
	if err != nil || got != want {
		t.Fatalf("reference CNN 3x32x32: %d params (%v), want %d", got, err, want)
	}
	// 28x28 input: 28 -> 14 -> 7 -> 3 after the pools, so 128*3*3 features.
	got, _ = ReferenceCNN(1, 28, 28, 10, true, 0.5).NumParams()
	if want := 9*(1*32+32*32+32*64+64*64+64*128) + bn + 1152*10 + 10; got != want {
		t.Fatalf("reference CNN 1x28x28: %d params, want %d", got, want)
	}
	got, _ = ThreeLayerConvNet(3, 32, 32, 10, 32, 7, 100).NumParams()
	if want := 32*3*49 + 32 + 32*16*16*100 + 100 + 100*10 + 10; got != want {
		t.Fatalf("three-layer convnet: %d params, want %d", got, want)
	}
}

func smallNet(t *testing.T, text string, seed uint64) *Net {
	t.Helper()
	ls, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Spec{Name: "small", C: 2, H: 6, W: 5, Classes: 4, Layers: ls}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The composed backward pass must match centred differences of the loss for
// every parameter, with batchnorm and dropout in the stack.
func TestLossGradientsMatchNumerical(t *testing.T) {
	for _, text := range []string{
		// A bias right before batchnorm has an exactly zero gradient (the
		// mean subtraction removes it), so those layers have none.
		"conv 3 3 pad=1 nobias, bn, relu, pool 2, dropout 0.3, affine 5 nobias, bn, relu, affine 4",
		"conv 3 3 stride=2 pad=1, relu, sdrop 0.4, affine 4 nobias",
	} {
		n := smallNet(t, text, 3)
		n.Step = 7
		r := tensor.NewRand(11)
		x, _ := tensor.Randn(r, 3, 2, 6, 5)
		y := []int{0, 3, 1}
		if _, err := n.Loss(x, y); err != nil {
			t.Fatal(err)
		}
		for _, p := range n.Params {
			analytic := p.Grad.Clone()
			num, err := gradcheck.Numerical(func() (float64, error) {
				scores, err := n.Forward(x, nn.Train)
				if err != nil {
					return 0, err
				}
				l, _, err := nn.SoftmaxLoss(scores, y)
				return l, err
			}, p.Value, gradcheck.H)
			if err != nil {
				t.Fatal(err)
			}
			if e, _ := gradcheck.RelError(analytic, num); e > 1e-6 {
				t.Errorf("%s: %s rel error %.2e", text, p.Name, e)
			}
		}
	}
}

func TestSaveLoadRoundTripAndRefusals(t *testing.T) {
	a := smallNet(t, "conv 3 3 pad=1, bn, relu, pool 2, affine 4", 1)
	r := tensor.NewRand(2)
	x, _ := tensor.Randn(r, 4, 2, 6, 5)
	if _, err := a.Loss(x, []int{0, 1, 2, 3}); err != nil { // moves running stats off zero
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	b := smallNet(t, "conv 3 3 pad=1, bn, relu, pool 2, affine 4", 99)
	if err := b.Load(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	sa, _ := a.Forward(x, nn.Test)
	sb, _ := b.Forward(x, nn.Test)
	// Saved as float32: predictions agree to f32 precision, not bit for bit.
	if e, _ := gradcheck.RelError(sa, sb); e > 1e-5 {
		t.Fatalf("loaded net predicts differently: rel error %.2e", e)
	}
	other := smallNet(t, "conv 4 3 pad=1, bn, relu, pool 2, affine 4", 1)
	before := other.Params[0].Value.Clone()
	if err := other.Load(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "different network") {
		t.Fatalf("loaded into a different architecture: %v", err)
	}
	if e, _ := gradcheck.RelError(before, other.Params[0].Value); e != 0 {
		t.Fatal("a refused load changed the weights")
	}
	raw := buf.Bytes()
	damaged := append([]byte(nil), raw...)
	damaged[len(damaged)/2] ^= 1
	for name, data := range map[string][]byte{"damaged": damaged, "truncated": raw[:len(raw)-7], "empty": nil, "text": []byte("not weights at all")} {
		if err := b.Load(data); err == nil {
			t.Errorf("%s file loaded", name)
		}
	}
}

func TestForwardRejectsWrongInput(t *testing.T) {
	n := smallNet(t, "affine 4", 1)
	x, _ := tensor.New(2, 3, 6, 5)
	if _, err := n.Forward(x, nn.Test); err == nil || !strings.Contains(err.Error(), "(N, 2, 6, 5)") {
		t.Fatalf("wrong channel count: %v", err)
	}
	good, _ := tensor.New(2, 2, 6, 5)
	if _, err := n.Loss(good, []int{0}); err == nil {
		t.Fatal("label count mismatch accepted")
	}
	good.Data[3] = math.NaN()
	if _, err := n.Loss(good, []int{0, 1}); err == nil {
		t.Fatal("NaN input accepted")
	}
}
