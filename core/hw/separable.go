package hw

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// maxConvCount bounds every parameter and FLOP count so they stay exact in
// both int64 and float64 (a page may plot them).
const maxConvCount = 1 << 53

// ConvCounts are the learnable-parameter counts of problem 1 (no biases).
type ConvCounts struct {
	CIn, COut, K int
	// Traditional is K*K*CIn*COut: one K x K filter per (output, input) pair.
	Traditional int64
	// Depthwise is K*K*CIn: one K x K filter per input channel, no cross talk.
	Depthwise int64
	// Pointwise is CIn*COut: a 1 x 1 convolution mixing channels.
	Pointwise int64
	// Separable is Depthwise + Pointwise.
	Separable int64
	// Ratio is Separable / Traditional = 1/COut + 1/(K*K).
	Ratio float64
}

// ParamCounts returns the parameter counts of a K x K convolution from CIn to
// COut channels and of its depthwise-separable replacement. The homework's
// case, ParamCounts(3, 4, 3), gives 108 and 39.
func ParamCounts(cin, cout, k int) (ConvCounts, error) {
	const op = "hw.ParamCounts"
	if cin <= 0 || cout <= 0 || k <= 0 {
		return ConvCounts{}, errf(op, "channels and kernel size must be positive, got CIn=%d COut=%d K=%d", cin, cout, k)
	}
	trad, ok := mulCounts(k, k, cin, cout)
	if !ok {
		return ConvCounts{}, errf(op, "K*K*CIn*COut with CIn=%d COut=%d K=%d exceeds 2^53", cin, cout, k)
	}
	dw, _ := mulCounts(k, k, cin)
	pw, _ := mulCounts(cin, cout)
	return ConvCounts{
		CIn: cin, COut: cout, K: k,
		Traditional: trad, Depthwise: dw, Pointwise: pw, Separable: dw + pw,
		Ratio: float64(dw+pw) / float64(trad),
	}, nil
}

// mulCounts multiplies positive factors, reporting false past maxConvCount.
func mulCounts(f ...int) (int64, bool) {
	p := int64(1)
	for _, v := range f {
		if int64(v) > maxConvCount/p {
			return 0, false
		}
		p *= int64(v)
	}
	return p, true
}

// ConvFLOPs counts multiply-adds (one multiply and one add each) for one
// H x W image through each layer of ParamCounts, with the given stride and
// zero padding on every side. Taps that land on padding are counted, as a
// dense implementation (and the GPU kernel) multiplies them too; FLOPs in
// the other sense are twice these numbers.
type ConvFLOPs struct {
	OutH, OutW  int
	Traditional int64 // OutH*OutW*COut*CIn*K*K
	Depthwise   int64 // OutH*OutW*CIn*K*K
	// Pointwise runs on the depthwise output, so it is OutH*OutW*CIn*COut.
	Pointwise int64
	Separable int64
}

// FLOPs returns the multiply-add counts of problem 1's two layers on an
// H x W input. The homework's image is 224 x 224; with stride 1 and pad 1 the
// output is 224 x 224 too.
func FLOPs(cin, cout, k, h, w, stride, pad int) (ConvFLOPs, error) {
	const op = "hw.FLOPs"
	if _, err := ParamCounts(cin, cout, k); err != nil {
		return ConvFLOPs{}, errf(op, "%v", err)
	}
	if h <= 0 || w <= 0 || stride <= 0 || pad < 0 {
		return ConvFLOPs{}, errf(op, "need H, W, stride > 0 and pad >= 0, got H=%d W=%d stride=%d pad=%d", h, w, stride, pad)
	}
	if k > h+2*pad || k > w+2*pad {
		return ConvFLOPs{}, errf(op, "kernel %dx%d does not fit the padded %dx%d input", k, k, h+2*pad, w+2*pad)
	}
	oh, ow := (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
	trad, ok := mulCounts(oh, ow, cout, cin, k, k)
	if !ok {
		return ConvFLOPs{}, errf(op, "multiply-add count for a %dx%d output exceeds 2^53", oh, ow)
	}
	dw, _ := mulCounts(oh, ow, cin, k, k)
	pw, _ := mulCounts(oh, ow, cin, cout)
	return ConvFLOPs{OutH: oh, OutW: ow, Traditional: trad, Depthwise: dw, Pointwise: pw, Separable: dw + pw}, nil
}

// LowRank is the separable layer written as one full kernel,
// W[o,c,:,:] = P[o,c] * D[c,:,:], and the ranks that show its structure.
//
// Why the per-input-channel slice: fix an input channel c and reshape
// W[:,c,:,:] as a COut x K*K matrix. It equals the outer product
// P[:,c] D[c]^T, so its rank is at most 1, where an unconstrained kernel's
// slice has rank min(COut, K*K). A rank-1 COut x K*K matrix needs exactly
// COut + K*K numbers, and CIn of them need CIn*(COut + K*K) = Separable
// parameters: the separable layer is precisely the traditional layer with
// every input-channel slice restricted to rank 1.
//
// The whole kernel as a COut x (CIn*K*K) matrix is P times a block-diagonal
// CIn x (CIn*K*K) matrix, so its rank is at most min(COut, CIn) instead of
// min(COut, CIn*K*K); that bound only bites when COut > CIn (it does in the
// homework: 4 > 3). The per-output-channel view, diag(P[o,:]) D as CIn x K*K,
// has rank at most min(CIn, K*K), which any kernel satisfies, so it is
// reported nowhere: it would teach nothing.
type LowRank struct {
	CIn, COut, K int
	Depthwise    []float64 // D, shape (CIn, K, K)
	Pointwise    []float64 // P, shape (COut, CIn)
	Full         []float64 // W, shape (COut, CIn, K, K)
	// SliceRanks[c] is the rank of W[:,c,:,:] as COut x K*K; at most 1.
	SliceRanks    []int
	SliceSingular [][]float64
	// GenericSliceRank is min(COut, K*K), the rank of a random full kernel's slice.
	GenericSliceRank int
	// FullRank is the rank of W as COut x (CIn*K*K); at most min(COut, CIn).
	FullRank          int
	FullSingular      []float64
	FullRankBound     int // min(COut, CIn)
	GenericFullRank   int // min(COut, CIn*K*K)
	SeparableParams   int
	TraditionalParams int
}

// maxLowRankSize keeps the SVDs small enough for a page to redo on every edit.
const maxLowRankSize = 1 << 20

// SeparableLowRank builds W from given depthwise D (CIn*K*K values, layout
// (CIn, K, K)) and pointwise P (COut*CIn values, layout (COut, CIn)) and
// measures the ranks with an SVD.
func SeparableLowRank(depthwise, pointwise []float64, cin, cout, k int) (*LowRank, error) {
	const op = "hw.SeparableLowRank"
	cnt, err := ParamCounts(cin, cout, k)
	if err != nil {
		return nil, errf(op, "%v", err)
	}
	if cnt.Traditional > maxLowRankSize {
		return nil, errf(op, "kernel with %d entries is too large to factorise here (limit %d)", cnt.Traditional, maxLowRankSize)
	}
	kk := k * k
	if _, err := vecOf(op, "depthwise", depthwise, cin*kk); err != nil {
		return nil, err
	}
	if _, err := vecOf(op, "pointwise", pointwise, cout*cin); err != nil {
		return nil, err
	}
	lr := &LowRank{
		CIn: cin, COut: cout, K: k,
		Depthwise:         append([]float64(nil), depthwise...),
		Pointwise:         append([]float64(nil), pointwise...),
		Full:              make([]float64, cout*cin*kk),
		GenericSliceRank:  min(cout, kk),
		FullRankBound:     min(cout, cin),
		GenericFullRank:   min(cout, cin*kk),
		SeparableParams:   int(cnt.Separable),
		TraditionalParams: int(cnt.Traditional),
	}
	for o := 0; o < cout; o++ {
		for c := 0; c < cin; c++ {
			for s := 0; s < kk; s++ {
				lr.Full[(o*cin+c)*kk+s] = pointwise[o*cin+c] * depthwise[c*kk+s]
			}
		}
	}
	for c := 0; c < cin; c++ {
		r, sv, err := rankOf(op, kernelSlice(lr.Full, cin, cout, kk, c))
		if err != nil {
			return nil, err
		}
		lr.SliceRanks = append(lr.SliceRanks, r)
		lr.SliceSingular = append(lr.SliceSingular, sv)
	}
	lr.FullRank, lr.FullSingular, err = rankOf(op, mat.NewDense(cout, cin*kk, lr.Full))
	if err != nil {
		return nil, err
	}
	return lr, nil
}

// kernelSlice is W[:,c,:,:] of a (COut, CIn, K*K) kernel as a COut x K*K matrix.
func kernelSlice(full []float64, cin, cout, kk, c int) *mat.Dense {
	m := mat.NewDense(cout, kk, nil)
	for o := 0; o < cout; o++ {
		for s := 0; s < kk; s++ {
			m.Set(o, s, full[(o*cin+c)*kk+s])
		}
	}
	return m
}

// RandomSeparableLowRank draws D and P from N(0, 1) with a fixed seed and
// returns SeparableLowRank of them, for a page that just picks the sizes.
func RandomSeparableLowRank(cin, cout, k int, seed uint64) (*LowRank, error) {
	const op = "hw.RandomSeparableLowRank"
	cnt, err := ParamCounts(cin, cout, k)
	if err != nil {
		return nil, errf(op, "%v", err)
	}
	if cnt.Traditional > maxLowRankSize {
		return nil, errf(op, "kernel with %d entries is too large to factorise here (limit %d)", cnt.Traditional, maxLowRankSize)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	d := make([]float64, cin*k*k)
	p := make([]float64, cout*cin)
	for i := range d {
		d[i] = r.NormFloat64()
	}
	for i := range p {
		p[i] = r.NormFloat64()
	}
	return SeparableLowRank(d, p, cin, cout, k)
}
