package nn

import (
	"math"
	"testing"

	"gradlab/core/tensor"
)

// denseChannelStats returns each channel's mean and population std over
// N, H and W of an NCHW tensor, computed independently of the layers.
func denseChannelStats(x *tensor.Tensor) (mean, std []float64) {
	n, c, hw := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	mean, std = make([]float64, c), make([]float64, c)
	for ic := 0; ic < c; ic++ {
		var vals []float64
		for in := 0; in < n; in++ {
			vals = append(vals, x.Data[(in*c+ic)*hw:(in*c+ic+1)*hw]...)
		}
		m, s := denseColumnStats(vals, len(vals), 1)
		mean[ic], std[ic] = m[0], s[0]
	}
	return mean, std
}

// The notebook's forward check: (2, 3, 4, 5) with x = 4*randn + 10; each
// channel comes out with mean beta and std gamma, for gamma 1 / beta 0 and
// for gamma (3, 4, 5) / beta (6, 7, 8). Channels here get different offsets
// on top so a layer that pooled channels together would fail.
func TestSpatialBatchnormForwardStatistics(t *testing.T) {
	r := tensor.NewRand(20)
	x := denseRandn(t, r, 2, 3, 4, 5).Scale(4).AddScalar(10)
	for k := range x.Data {
		x.Data[k] += 3 * float64((k/20)%3)
	}
	for _, tc := range []struct{ gamma, beta []float64 }{
		{[]float64{1, 1, 1}, []float64{0, 0, 0}},
		{[]float64{3, 4, 5}, []float64{6, 7, 8}},
	} {
		gamma, beta := denseFrom(t, tc.gamma, 3), denseFrom(t, tc.beta, 3)
		param := NewBatchnormParam()
		out, _, err := SpatialBatchnormForward(x, gamma, beta, param)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(out.Shape, x.Shape) {
			t.Fatalf("out shape %v, want %v", out.Shape, x.Shape)
		}
		mean, std := denseChannelStats(out)
		inMean, inStd := denseChannelStats(x)
		for c := 0; c < 3; c++ {
			if math.Abs(mean[c]-tc.beta[c]) > 1e-12*tc.beta[c]+1e-13 {
				t.Errorf("gamma %v: channel %d mean %v, want %v", tc.gamma, c, mean[c], tc.beta[c])
			}
			if math.Abs(std[c]-tc.gamma[c]) > param.Eps*tc.gamma[c] {
				t.Errorf("gamma %v: channel %d std %v, want %v", tc.gamma, c, std[c], tc.gamma[c])
			}
			// Running statistics are per channel, over N, H and W.
			if math.Abs(param.RunningMean.Data[c]-0.1*inMean[c]) > 1e-12*inMean[c] {
				t.Errorf("running mean[%d] = %v, want 0.1*%v", c, param.RunningMean.Data[c], inMean[c])
			}
			if v := inStd[c] * inStd[c]; math.Abs(param.RunningVar.Data[c]-0.1*v) > 1e-12*v {
				t.Errorf("running var[%d] = %v, want 0.1*%v", c, param.RunningVar.Data[c], v)
			}
		}
	}
}

// Test mode normalises each channel with its running statistics.
func TestSpatialBatchnormTestMode(t *testing.T) {
	r := tensor.NewRand(21)
	x := denseRandn(t, r, 2, 2, 3, 3)
	param := NewBatchnormParam()
	param.Mode = Test
	param.RunningMean = denseFrom(t, []float64{1, -2}, 2)
	param.RunningVar = denseFrom(t, []float64{4, 0.25}, 2)
	gamma, beta := denseFrom(t, []float64{2, 3}, 2), denseFrom(t, []float64{-1, 1}, 2)
	out, _, err := SpatialBatchnormForward(x, gamma, beta, param)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range x.Data {
		c := (k / 9) % 2
		want := gamma.Data[c]*(v-param.RunningMean.Data[c])/math.Sqrt(param.RunningVar.Data[c]+param.Eps) + beta.Data[c]
		if math.Abs(out.Data[k]-want) > 1e-14*(1+math.Abs(want)) {
			t.Errorf("out[%d] = %v, want %v", k, out.Data[k], want)
		}
	}
}

// The notebook's backward check at (2, 3, 4, 5): relative errors from
// 1e-12 to 1e-6 are what it expects.
func TestSpatialBatchnormBackwardNumerical(t *testing.T) {
	r := tensor.NewRand(22)
	x := denseRandn(t, r, 2, 3, 4, 5).Scale(5).AddScalar(12)
	gamma := denseRandn(t, r, 3)
	beta := denseRandn(t, r, 3)
	dout := denseRandn(t, r, 2, 3, 4, 5)
	f := func() (*tensor.Tensor, error) {
		out, _, err := SpatialBatchnormForward(x, gamma, beta, NewBatchnormParam())
		return out, err
	}
	_, cache, err := SpatialBatchnormForward(x, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	dx, dgamma, dbeta, err := SpatialBatchnormBackward(dout, cache)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(dx.Shape, x.Shape) {
		t.Fatalf("dx shape %v, want %v", dx.Shape, x.Shape)
	}
	denseAssertRel(t, "dx", dx, denseNumeric(t, f, x, dout), 1e-6)
	denseAssertRel(t, "dgamma", dgamma, denseNumeric(t, f, gamma, dout), 1e-6)
	denseAssertRel(t, "dbeta", dbeta, denseNumeric(t, f, beta, dout), 1e-6)
}

func TestSpatialBatchnormBadInput(t *testing.T) {
	const fwd, bwd = "nn.SpatialBatchnormForward", "nn.SpatialBatchnormBackward"
	r := tensor.NewRand(23)
	x := denseRandn(t, r, 2, 3, 2, 2)
	gamma, beta := denseRandn(t, r, 3), denseRandn(t, r, 3)
	cases := []struct {
		name           string
		x, gamma, beta *tensor.Tensor
		param          *BatchnormParam
	}{
		{"nil x", nil, gamma, beta, NewBatchnormParam()},
		{"2-d x", denseRandn(t, r, 2, 3), gamma, beta, NewBatchnormParam()},
		{"nil gamma", x, nil, beta, NewBatchnormParam()},
		{"gamma length differs from C", x, denseRandn(t, r, 2), beta, NewBatchnormParam()},
		{"beta length differs from C", x, gamma, denseRandn(t, r, 4), NewBatchnormParam()},
		{"NaN in x", denseWithNaN(x, math.NaN()), gamma, beta, NewBatchnormParam()},
		{"NaN in beta", x, gamma, denseWithNaN(beta, math.NaN()), NewBatchnormParam()},
		{"zero-size x", &tensor.Tensor{Shape: []int{2, 3, 0, 2}}, gamma, beta, NewBatchnormParam()},
		{"nil param", x, gamma, beta, nil},
		{"eps 0", x, gamma, beta, &BatchnormParam{Momentum: 0.9}},
	}
	for _, c := range cases {
		_, _, err := SpatialBatchnormForward(c.x, c.gamma, c.beta, c.param)
		denseWantErr(t, c.name, err, fwd)
	}

	_, cache, err := SpatialBatchnormForward(x, gamma, beta, NewBatchnormParam())
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = SpatialBatchnormBackward(x, nil)
	denseWantErr(t, "nil cache", err, bwd)
	_, _, _, err = SpatialBatchnormBackward(nil, cache)
	denseWantErr(t, "nil dout", err, bwd)
	_, _, _, err = SpatialBatchnormBackward(denseRandn(t, r, 2, 3, 2, 3), cache)
	denseWantErr(t, "dout shape differs from x", err, bwd)
	_, _, _, err = SpatialBatchnormBackward(denseWithNaN(x, math.Inf(1)), cache)
	denseWantErr(t, "Inf in dout", err, bwd)
}
