package hw

import (
	"math"
	"math/rand/v2"
	"testing"
)

// convCounter is an independent naive convolution: it counts every
// multiply-add it performs and every distinct weight it reads.
type convCounter struct {
	macs    int64
	weights map[*float64]bool
}

func (cc *convCounter) read(w *float64) float64 {
	cc.weights[w] = true
	return *w
}

// conv: x (CIn, H, W), w (COut, CIn/groups, K, K) with groups = 1 or CIn.
func (cc *convCounter) conv(x []float64, cin, h, wd int, w []float64, cout, k, stride, pad, groups int) ([]float64, int, int) {
	oh, ow := (h+2*pad-k)/stride+1, (wd+2*pad-k)/stride+1
	out := make([]float64, cout*oh*ow)
	cpg := cin / groups
	opg := cout / groups
	for o := 0; o < cout; o++ {
		g := o / opg
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				s := 0.0
				for cl := 0; cl < cpg; cl++ {
					c := g*cpg + cl
					for a := 0; a < k; a++ {
						for b := 0; b < k; b++ {
							y, xx := i*stride+a-pad, j*stride+b-pad
							wv := cc.read(&w[((o*cpg+cl)*k+a)*k+b])
							cc.macs++ // padded taps are still multiplied, as a dense kernel does
							if y >= 0 && y < h && xx >= 0 && xx < wd {
								s += wv * x[(c*h+y)*wd+xx]
							}
						}
					}
				}
				out[(o*oh+i)*ow+j] = s
			}
		}
	}
	return out, oh, ow
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.NormFloat64()
	}
	return s
}

func TestParamCountsAndFLOPsAgainstNaiveConv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ cin, cout, k, h, w, stride, pad int }{
		{3, 4, 3, 9, 8, 1, 1}, // the homework's layer on a small image
		{2, 5, 1, 4, 4, 1, 0},
		{4, 2, 5, 11, 7, 2, 2},
	} {
		cnt, err := ParamCounts(c.cin, c.cout, c.k)
		if err != nil {
			t.Fatal(err)
		}
		fl, err := FLOPs(c.cin, c.cout, c.k, c.h, c.w, c.stride, c.pad)
		if err != nil {
			t.Fatal(err)
		}
		x := randSlice(r, c.cin*c.h*c.w)
		d := randSlice(r, c.cin*c.k*c.k)
		p := randSlice(r, c.cout*c.cin)
		lr, err := SeparableLowRank(d, p, c.cin, c.cout, c.k)
		if err != nil {
			t.Fatal(err)
		}
		full := &convCounter{weights: map[*float64]bool{}}
		yFull, oh, ow := full.conv(x, c.cin, c.h, c.w, lr.Full, c.cout, c.k, c.stride, c.pad, 1)
		dw := &convCounter{weights: map[*float64]bool{}}
		mid, _, _ := dw.conv(x, c.cin, c.h, c.w, d, c.cin, c.k, c.stride, c.pad, c.cin)
		pw := &convCounter{weights: map[*float64]bool{}}
		ySep, _, _ := pw.conv(mid, c.cin, oh, ow, p, c.cout, 1, 1, 0, 1)

		if oh != fl.OutH || ow != fl.OutW {
			t.Errorf("%+v: output %dx%d, FLOPs says %dx%d", c, oh, ow, fl.OutH, fl.OutW)
		}
		if int64(len(full.weights)) != cnt.Traditional || int64(len(dw.weights)) != cnt.Depthwise || int64(len(pw.weights)) != cnt.Pointwise {
			t.Errorf("%+v: weights read %d/%d/%d, counts %d/%d/%d", c, len(full.weights), len(dw.weights), len(pw.weights), cnt.Traditional, cnt.Depthwise, cnt.Pointwise)
		}
		if full.macs != fl.Traditional || dw.macs != fl.Depthwise || pw.macs != fl.Pointwise {
			t.Errorf("%+v: MACs %d/%d/%d, FLOPs %+v", c, full.macs, dw.macs, pw.macs, fl)
		}
		// The composed kernel must be the separable layer, not just have its rank.
		for i := range yFull {
			if math.Abs(yFull[i]-ySep[i]) > 1e-12*(1+math.Abs(yFull[i])) {
				t.Fatalf("%+v: full kernel output %v != separable %v at %d", c, yFull[i], ySep[i], i)
			}
		}
	}
}

func TestParamCountsHomework(t *testing.T) {
	// 108 and 39 are the homework's answers (brief), also 3*3*3*4 and 3*3*3+3*4.
	cnt, err := ParamCounts(3, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cnt.Traditional != 108 || cnt.Separable != 39 {
		t.Fatalf("got %d and %d, want 108 and 39", cnt.Traditional, cnt.Separable)
	}
	if math.Abs(cnt.Ratio-(1.0/4+1.0/9)) > 1e-15 {
		t.Fatalf("ratio %v, want 1/COut + 1/K^2", cnt.Ratio)
	}
}

func TestSeparableLowRank(t *testing.T) {
	for _, c := range []struct{ cin, cout, k int }{{3, 4, 3}, {5, 2, 3}, {2, 8, 1}, {4, 16, 2}} {
		lr, err := RandomSeparableLowRank(c.cin, c.cout, c.k, 7)
		if err != nil {
			t.Fatal(err)
		}
		for ch, rk := range lr.SliceRanks {
			if rk != 1 {
				t.Errorf("%+v: slice %d rank %d, want 1 (outer product)", c, ch, rk)
			}
		}
		// Random D, P are generic, so the bound min(COut, CIn) is attained.
		if lr.FullRank != min(c.cout, c.cin) || lr.FullRankBound != min(c.cout, c.cin) {
			t.Errorf("%+v: full rank %d (bound %d), want %d", c, lr.FullRank, lr.FullRankBound, min(c.cout, c.cin))
		}
		if lr.SeparableParams != c.cin*(c.cout+c.k*c.k) {
			t.Errorf("%+v: separable params %d are not CIn rank-1 slices of COut+K^2 numbers", c, lr.SeparableParams)
		}
		// The rank measure must see the difference: an unconstrained kernel's slices are full rank.
		r := rand.New(rand.NewPCG(3, 4))
		w := randSlice(r, c.cout*c.cin*c.k*c.k)
		rk, _, err := rankOf("test", kernelSlice(w, c.cin, c.cout, c.k*c.k, 0))
		if err != nil {
			t.Fatal(err)
		}
		if rk != lr.GenericSliceRank {
			t.Errorf("%+v: random kernel slice rank %d, want %d", c, rk, lr.GenericSliceRank)
		}
	}
	// A zero pointwise column gives a zero slice: rank 0, and the full rank drops.
	d := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	p := []float64{1, 0, 2, 0, 3, 0}
	lr, err := SeparableLowRank(d, p, 2, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if lr.SliceRanks[0] != 1 || lr.SliceRanks[1] != 0 || lr.FullRank != 1 {
		t.Fatalf("slice ranks %v full %d, want [1 0] and 1", lr.SliceRanks, lr.FullRank)
	}
}

func TestSeparableErrors(t *testing.T) {
	bad := []func() error{
		func() error { _, err := ParamCounts(0, 4, 3); return err },
		func() error { _, err := ParamCounts(3, -1, 3); return err },
		func() error { _, err := ParamCounts(3, 4, 0); return err },
		func() error { _, err := ParamCounts(1<<20, 1<<20, 1<<10); return err },
		func() error { _, err := FLOPs(3, 4, 3, 0, 224, 1, 1); return err },
		func() error { _, err := FLOPs(3, 4, 3, 224, 224, 0, 1); return err },
		func() error { _, err := FLOPs(3, 4, 3, 224, 224, 1, -1); return err },
		func() error { _, err := FLOPs(3, 4, 7, 2, 2, 1, 0); return err },
		func() error { _, err := FLOPs(-3, 4, 3, 2, 2, 1, 0); return err },
		func() error { _, err := SeparableLowRank([]float64{1}, []float64{1, 2}, 1, 2, 2); return err },
		func() error { _, err := SeparableLowRank([]float64{1}, []float64{1}, 1, 2, 1); return err },
		func() error { _, err := SeparableLowRank([]float64{math.NaN()}, []float64{1}, 1, 1, 1); return err },
		func() error { _, err := RandomSeparableLowRank(512, 512, 7, 1); return err },
		func() error { _, _, err := NumericalRank(nil); return err },
		func() error { _, _, err := NumericalRank([][]float64{{1, 2}, {3}}); return err },
	}
	for i, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", i)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
}

func TestFLOPsHomeworkImage(t *testing.T) {
	fl, err := FLOPs(3, 4, 3, 224, 224, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	px := int64(224 * 224)
	if fl.OutH != 224 || fl.Traditional != px*108 || fl.Separable != px*39 {
		t.Fatalf("%+v: want 224x224 output and per-pixel MACs equal to the parameter counts", fl)
	}
}
