package nn

import (
	"math"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

// Worked by hand. Scores (0, ln 3) give softmax (1/4, 3/4): label 0 costs
// ln 4, label 1 costs ln(4/3), and the gradient is softmax − onehot over N.
func TestSoftmaxLossByHand(t *testing.T) {
	x := denseFrom(t, []float64{0, math.Log(3), 0, math.Log(3)}, 2, 2)
	loss, dx, err := SoftmaxLoss(x, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := (math.Log(4) + math.Log(4.0/3)) / 2; math.Abs(loss-want) > 1e-15 {
		t.Errorf("loss %v, want %v", loss, want)
	}
	want := []float64{(0.25 - 1) / 2, 0.75 / 2, 0.25 / 2, (0.75 - 1) / 2}
	for i, v := range want {
		if math.Abs(dx.Data[i]-v) > 1e-15 {
			t.Errorf("dx[%d] = %v, want %v", i, dx.Data[i], v)
		}
	}
}

// Worked by hand with margin 1. Row (1, 2, 3), label 0: margins 2 and 3, loss
// 5, and the correct class is pushed by both. Row (3, 1, 2.5), label 0:
// margins −1 (no loss) and 0.5.
func TestSVMLossByHand(t *testing.T) {
	x := denseFrom(t, []float64{1, 2, 3, 3, 1, 2.5}, 2, 3)
	loss, dx, err := SVMLoss(x, []int{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if want := (5 + 0.5) / 2.0; loss != want {
		t.Errorf("loss %v, want %v", loss, want)
	}
	want := []float64{-2.0 / 2, 1.0 / 2, 1.0 / 2, -1.0 / 2, 0, 1.0 / 2}
	for i, v := range want {
		if dx.Data[i] != v {
			t.Errorf("dx[%d] = %v, want %v", i, dx.Data[i], v)
		}
	}
}

// The notebook's sanity checks on N = 50, C = 10 and scores 0.001*randn:
// softmax loss ≈ ln C (every class equally likely) and SVM loss ≈ C − 1
// (every wrong class sits at margin ≈ 1), then gradient checks.
func TestLossesAtSmallScores(t *testing.T) {
	const n, c = 50, 10
	r := tensor.NewRand(40)
	x := denseRandn(t, r, n, c).Scale(0.001)
	y := make([]int, n)
	for i := range y {
		y[i] = r.IntN(c)
	}
	for _, l := range []struct {
		name string
		loss func(*tensor.Tensor, []int) (float64, *tensor.Tensor, error)
		want float64
	}{
		{"softmax", SoftmaxLoss, math.Log(c)},
		{"svm", SVMLoss, c - 1},
	} {
		loss, dx, err := l.loss(x, y)
		if err != nil {
			t.Fatal(err)
		}
		// Scores of size ~0.001 move either loss by ~0.001 per class at most.
		if math.Abs(loss-l.want) > 0.01 {
			t.Errorf("%s loss %v, want ≈ %v", l.name, loss, l.want)
		}
		num, err := gradcheck.Numerical(func() (float64, error) {
			v, _, err := l.loss(x, y)
			return v, err
		}, x, gradcheck.H)
		if err != nil {
			t.Fatal(err)
		}
		// The loss (~2.3 or ~9) is rounded to ~1e-15 at each nudge, an
		// absolute error ~1e-11 in entries of size ~1/(N·C) = 0.002: relative
		// ~1e-8, the notebook's figure. 1e-7 is that with room for the draw.
		denseAssertRel(t, l.name+" dx", dx, num, 1e-7)
	}
}

// Softmax must survive huge scores: the result depends only on differences
// between a row's scores, so adding 1e4 to a row changes nothing, and a
// correct class 800 below the best costs 800 (exp(800) overflows a float64).
func TestSoftmaxLossIsStable(t *testing.T) {
	r := tensor.NewRand(41)
	x := denseRandn(t, r, 5, 4)
	y := []int{0, 1, 2, 3, 0}
	loss, dx, err := SoftmaxLoss(x, y)
	if err != nil {
		t.Fatal(err)
	}
	shifted := x.Clone().AddScalar(1e4)
	loss2, dx2, err := SoftmaxLoss(shifted, y)
	if err != nil {
		t.Fatal(err)
	}
	// 1e4 carries ~1e-12 of absolute rounding into every score.
	if math.Abs(loss-loss2) > 1e-11 {
		t.Errorf("loss %v after shifting by 1e4, %v before", loss2, loss)
	}
	for i := range dx.Data {
		if math.Abs(dx.Data[i]-dx2.Data[i]) > 1e-11 {
			t.Errorf("dx[%d] = %v after shifting, %v before", i, dx2.Data[i], dx.Data[i])
		}
	}

	far := denseFrom(t, []float64{0, 800}, 1, 2)
	loss, dx, err = SoftmaxLoss(far, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	// −log softmax_0 = log(1 + e^800) = 800 + log(1 + e^−800) = 800 in float64.
	if loss != 800 || dx.Data[0] != -1 || dx.Data[1] != 1 {
		t.Errorf("loss %v, dx %v; want 800 and (-1, 1)", loss, dx.Data)
	}
}

func TestLossBadInput(t *testing.T) {
	r := tensor.NewRand(42)
	x := denseRandn(t, r, 3, 4)
	for _, l := range []struct {
		op   string
		loss func(*tensor.Tensor, []int) (float64, *tensor.Tensor, error)
	}{
		{"nn.SoftmaxLoss", SoftmaxLoss},
		{"nn.SVMLoss", SVMLoss},
	} {
		cases := []struct {
			name string
			x    *tensor.Tensor
			y    []int
		}{
			{"nil x", nil, []int{0, 1, 2}},
			{"1-d x", denseRandn(t, r, 4), []int{0}},
			{"3-d x", denseRandn(t, r, 3, 4, 1), []int{0, 1, 2}},
			{"NaN in x", denseWithNaN(x, math.NaN()), []int{0, 1, 2}},
			{"Inf in x", denseWithNaN(x, math.Inf(-1)), []int{0, 1, 2}},
			{"zero-size x", &tensor.Tensor{Shape: []int{0, 4}}, nil},
			{"too few labels", x, []int{0, 1}},
			{"too many labels", x, []int{0, 1, 2, 3}},
			{"nil labels", x, nil},
			{"negative label", x, []int{0, -1, 2}},
			{"label equal to C", x, []int{0, 4, 2}},
		}
		for _, c := range cases {
			_, _, err := l.loss(c.x, c.y)
			denseWantErr(t, l.op+": "+c.name, err, l.op)
		}
	}
}
