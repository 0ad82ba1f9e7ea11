package nn

import (
	"errors"
	"strings"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

// convRandn is a seeded N(0,1) tensor; it fails the test on a bad shape.
func convRandn(t testing.TB, seed uint64, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.Randn(tensor.NewRand(seed), shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// convLinspace is NumPy's linspace(lo, hi, num=size) reshaped, as the course
// notebooks build their fixed inputs.
func convLinspace(t testing.TB, lo, hi float64, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.New(shape...)
	if err != nil {
		t.Fatal(err)
	}
	n := len(x.Data)
	for i := range x.Data {
		x.Data[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return x
}

// convAssertClose fails unless rel_error(got, want) < tol.
func convAssertClose(t testing.TB, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if got == nil || want == nil {
		t.Fatalf("%s: nil tensor (got %v, want %v)", what, got == nil, want == nil)
	}
	e, err := gradcheck.RelError(got, want)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !(e < tol) {
		t.Errorf("%s: rel error %.3g, want < %.0e", what, e, tol)
	}
}

// convWantError fails unless err is a *tensor.Error whose text names op and
// contains every fragment.
func convWantError(t testing.TB, what string, err error, op string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	var te *tensor.Error
	if !errors.As(err, &te) {
		t.Errorf("%s: error %q is not a *tensor.Error", what, err)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, op) {
		t.Errorf("%s: error %q does not name %s", what, msg, op)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("%s: error %q lacks %q", what, msg, f)
		}
	}
}

// convReference is a third, differently built convolution for the tests: it
// copies x into an explicitly zero-padded array and then sums without any
// bounds checks, so a padding or index slip in the package's two paths
// cannot be shared with it.
func convReference(x, w, b *tensor.Tensor, p ConvParam) *tensor.Tensor {
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	F, Cg, HH, WW := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	G := max(p.Groups, 1)
	Hp, Wp := H+2*p.Pad, W+2*p.Pad
	pad := make([]float64, N*C*Hp*Wp)
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for i := 0; i < H; i++ {
				for j := 0; j < W; j++ {
					pad[((n*C+c)*Hp+i+p.Pad)*Wp+j+p.Pad] = x.Data[((n*C+c)*H+i)*W+j]
				}
			}
		}
	}
	Ho, Wo := (Hp-HH)/p.Stride+1, (Wp-WW)/p.Stride+1
	out := tensor.MustNew(N, F, Ho, Wo)
	for n := 0; n < N; n++ {
		for f := 0; f < F; f++ {
			grp := f / (F / G)
			for i := 0; i < Ho; i++ {
				for j := 0; j < Wo; j++ {
					s := 0.0
					for c := 0; c < Cg; c++ {
						for a := 0; a < HH; a++ {
							for bb := 0; bb < WW; bb++ {
								s += w.Data[((f*Cg+c)*HH+a)*WW+bb] * pad[((n*C+grp*Cg+c)*Hp+i*p.Stride+a)*Wp+j*p.Stride+bb]
							}
						}
					}
					if b != nil {
						s += b.Data[f]
					}
					out.Data[((n*F+f)*Ho+i)*Wo+j] = s
				}
			}
		}
	}
	return out
}

// convNumeric returns the centred-difference vector-Jacobian product of
// f's output with dout, with respect to v, with step h (gradcheck.H is the
// course's).
func convNumeric(t testing.TB, f func() (*tensor.Tensor, error), v, dout *tensor.Tensor, h float64) *tensor.Tensor {
	t.Helper()
	g, err := gradcheck.NumericalArray(f, v, dout, h)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
