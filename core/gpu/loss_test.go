package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// lossCase is one (N, C) batch with scores uniform in [-scale, scale).
type lossCase struct {
	n, c  int
	scale float64
}

// 24 shapes: N = 1 with C from 2 to 1000, C around and past the 64-wide
// workgroup (strided loops), many rows, and scores up to +-400, where an
// unshifted exp overflows f32 (e^89 already does) and exp(s - top) spans
// e^-800, far below f32's smallest normal.
var lossCases = []lossCase{
	{1, 2, 1}, {1, 3, 5}, {1, 10, 1}, {1, 63, 2}, {1, 64, 2}, {1, 65, 2}, {1, 1000, 3},
	{2, 2, 1}, {3, 7, 10}, {5, 100, 0.01}, {17, 10, 1}, {64, 10, 3}, {100, 33, 1},
	{300, 10, 2}, {7, 257, 1}, {33, 1, 1}, {4, 1000, 400}, {50, 10, 400}, {9, 2, 400},
	{1, 1000, 400}, {128, 10, 50}, {10, 300, 100}, {2, 4096, 1}, {700, 3, 20},
}

func lossInputs(r *rand.Rand, lc lossCase) ([]float32, []int) {
	s := make([]float32, lc.n*lc.c)
	for i := range s {
		s[i] = float32((r.Float64()*2 - 1) * lc.scale)
	}
	y := make([]int, lc.n)
	for i := range y {
		y[i] = r.IntN(lc.c)
	}
	return s, y
}

// gamma is Higham's gamma_k = k u / (1 - k u).
func gamma(k int) float64 { return float64(k) * u / (1 - float64(k)*u) }

// softmaxBounds returns, for f32 scores s (N, C) and labels y, rigorous
// bounds on |GPU - exact| for the loss and each dscores element, derived
// from the accuracies WGSL guarantees (WGSL spec, "Floating Point
// Accuracy"): + - * correctly rounded (u = 2^-24); x / y 2.5 ULP; exp(x)
// 3 + 2|x| ULP; log(x) 3 ULP, or absolute 2^-21 for x in [0.5, 2]; results
// below 2^-126 may flush to zero. One ULP is at most 2u relative.
// Per row, with x_j = s_j - top and e_j = exp(x_j), S = sum e_j:
//   - x_j is rounded (u |x_j|), so exp sees x_j (1 + d): relative error
//     a_j = expm1(u |x_j|) + (6 + 4|x_j|) u e^(u |x_j|), plus 2^-126 absolute;
//   - the sum, in any order, adds gamma_{C-1} (S + E), E = sum of the above:
//     |S^ - S| <= D;
//   - prob = e^_j * fl(1/S^): |prob^ - p_j| <= (a_j e_j + t + e_j D / S +
//     gamma_6 (e_j (1 + a_j) + t)) / (S - D);
//   - dscores = fl(fl(prob - onehot) * fl(1/N)): one more u on the
//     difference and gamma_2 on the product; each of the three operations
//     ending in prob, the difference and dscores may flush a result below
//     2^-126 to zero (SwiftShader does), so 3 * 2^-126 absolute on top;
//   - row loss = fl(log S^ - fl(s_y - top)): |log S^ - log S| <= D/(S - D),
//     plus log's own error, u |x_y|, and one rounding; the mean adds
//     gamma_{N-1} of the summed magnitudes and gamma_2 for the scale.
//
// The float64 reference (nn.SoftmaxLoss) contributes its own rounding, at
// most (C + 10) 2^-53 relative per quantity, added as ref.
func softmaxBounds(s []float32, y []int, n, c int) (lossBound float64, dBound []float64) {
	const tiny = 0x1p-126
	ref := func(v float64) float64 { return float64(c+10) * 0x1p-53 * math.Abs(v) }
	dBound = make([]float64, n*c)
	var sumBl, sumL float64
	for i := 0; i < n; i++ {
		row := s[i*c : (i+1)*c]
		top := math.Inf(-1)
		for _, v := range row {
			top = math.Max(top, float64(v))
		}
		var S, E float64
		a := make([]float64, c)
		e := make([]float64, c)
		for j, v := range row {
			x := math.Abs(float64(v) - top)
			e[j] = math.Exp(float64(v) - top)
			a[j] = math.Expm1(u*x) + (6+4*x)*u*math.Exp(u*x)
			S += e[j]
			E += a[j]*e[j] + tiny
		}
		D := E + gamma(c-1)*(S+E)
		for j := range row {
			bp := (a[j]*e[j] + tiny + e[j]*D/S + gamma(6)*(e[j]*(1+a[j])+tiny)) / (S - D)
			h := 0.0
			if j == y[i] {
				h = 1
			}
			diff := e[j]/S - h
			dBound[i*c+j] = ((bp+u*(math.Abs(diff)+bp))*(1+gamma(2))+gamma(2)*math.Abs(diff))/float64(n) + 3*tiny + ref(diff/float64(n))
		}
		logErr := D / (S - D)
		logS := math.Log(S)
		xy := float64(row[y[i]]) - top
		l := logS - xy
		bl := (logErr+math.Max(0x1p-21, 6*u*(logS+logErr))+u*math.Abs(xy))*(1+u) + u*math.Abs(l)
		sumBl += bl
		sumL += math.Abs(l)
	}
	mean := sumL / float64(n)
	lossBound = (sumBl+gamma(n-1)*(sumL+sumBl))/float64(n)*(1+gamma(2)) + gamma(2)*mean + ref(mean)
	return lossBound, dBound
}

func uploadLabels(t testing.TB, d *Device, y []int, classes int) *Labels {
	t.Helper()
	l, err := d.UploadLabels(y, classes)
	if err != nil {
		t.Fatalf("UploadLabels: %v", err)
	}
	return l
}

func TestSoftmaxCrossEntropyParity(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, lc := range lossCases {
		name := fmt.Sprintf("N=%d C=%d scale=%v", lc.n, lc.c, lc.scale)
		s, y := lossInputs(r, lc)
		x, err := tensor.FromFloat32(s, lc.n, lc.c)
		if err != nil {
			t.Fatal(err)
		}
		wantLoss, wantD, err := nn.SoftmaxLoss(x, y)
		if err != nil {
			t.Fatal(err)
		}
		lossBound, dBound := softmaxBounds(s, y, lc.n, lc.c)

		scores := upload(t, d, s, lc.n, lc.c)
		labels := uploadLabels(t, d, y, lc.c)
		loss, ds, err := d.SoftmaxCrossEntropy(scores, labels)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !shapeEq(loss.Shape(), []int{1}) || !shapeEq(ds.Shape(), []int{lc.n, lc.c}) {
			t.Fatalf("%s: shapes %v %v", name, loss.Shape(), ds.Shape())
		}
		got := read(t, loss)[0]
		if diff := math.Abs(float64(got) - wantLoss); !(diff <= lossBound) {
			t.Fatalf("%s: loss %v, want %v (|diff| %.3g > bound %.3g)", name, got, wantLoss, diff, lossBound)
		}
		checkBound(t, name+" dscores", read(t, ds), wantD.Data, dBound)
		release(scores, loss, ds)
		labels.Release()
	}
}

// A wrong gradient formula (e.g. a missing 1/N or a one-hot on the wrong
// class) is off by O(1/N), a wrong loss by O(1). The bounds grow with
// gamma_{C-1} (6e-5 at C = 1000, the worst case of any summation order) and
// with |x| in exp's accuracy, but must stay far below that, so the parity
// test can tell.
func TestSoftmaxBoundsAreTight(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, lc := range lossCases {
		s, y := lossInputs(r, lc)
		lb, db := softmaxBounds(s, y, lc.n, lc.c)
		x, _ := tensor.FromFloat32(s, lc.n, lc.c)
		loss, _, _ := nn.SoftmaxLoss(x, y)
		if lb > 1e-3*math.Max(loss, 1) {
			t.Errorf("N=%d C=%d scale=%v: loss bound %.3g for loss %v", lc.n, lc.c, lc.scale, lb, loss)
		}
		for _, b := range db {
			if b > 1e-3/float64(lc.n) {
				t.Fatalf("N=%d C=%d scale=%v: dscores bound %.3g", lc.n, lc.c, lc.scale, b)
			}
		}
	}
}

// Row indices fold a 2-D grid: on a device capped at 4 workgroups per
// dimension, 13 rows need a 4 x 4 grid.
func TestSoftmaxCrossEntropy2DGrid(t *testing.T) {
	device(t)
	d, err := Open(Options{MaxWorkgroupsPerDim: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := rand.New(rand.NewPCG(4, 4))
	lc := lossCase{13, 9, 3}
	s, y := lossInputs(r, lc)
	x, _ := tensor.FromFloat32(s, lc.n, lc.c)
	wantLoss, wantD, _ := nn.SoftmaxLoss(x, y)
	lb, db := softmaxBounds(s, y, lc.n, lc.c)
	scores := upload(t, d, s, lc.n, lc.c)
	labels := uploadLabels(t, d, y, lc.c)
	loss, ds, err := d.SoftmaxCrossEntropy(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, loss)[0]; !(math.Abs(float64(got)-wantLoss) <= lb) {
		t.Fatalf("loss %v, want %v (bound %.3g)", got, wantLoss, lb)
	}
	checkBound(t, "dscores", read(t, ds), wantD.Data, db)
	pred, err := d.Argmax(scores)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range read(t, pred) {
		if int(p) != cpuArgmax(s[i*lc.c:(i+1)*lc.c]) {
			t.Fatalf("row %d: argmax %v, want %d", i, p, cpuArgmax(s[i*lc.c:(i+1)*lc.c]))
		}
	}
}

func cpuArgmax(row []float32) int {
	best := -1
	for j, v := range row {
		if v != v {
			continue
		}
		if best < 0 || v > row[best] {
			best = j
		}
	}
	return max(best, 0)
}

// Argmax and CorrectCount compare f32 values exactly, so they must match the
// CPU exactly, ties (first index wins) and NaNs (skipped) included. Integer
// scores in a narrow range make ties common.
func TestArgmaxAndCorrectCountExact(t *testing.T) {
	d := device(t)
	r := rand.New(rand.NewPCG(8, 9))
	nan := float32(math.NaN())
	for _, sh := range [][2]int{{1, 1}, {1, 2}, {5, 3}, {64, 10}, {100, 257}, {3, 1000}, {1000, 4}} {
		n, c := sh[0], sh[1]
		s := make([]float32, n*c)
		for i := range s {
			s[i] = float32(r.IntN(4))
			if r.IntN(50) == 0 {
				s[i] = nan
			}
		}
		if n >= 3 {
			for j := 0; j < c; j++ {
				s[c+j] = nan // an all-NaN row: index 0
				s[2*c+j] = -float32(math.Inf(1))
			}
		}
		y := make([]int, n)
		want := 0
		for i := range y {
			y[i] = r.IntN(c)
			if r.IntN(2) == 0 {
				y[i] = cpuArgmax(s[i*c : (i+1)*c])
			}
			if y[i] == cpuArgmax(s[i*c:(i+1)*c]) {
				want++
			}
		}
		scores := upload(t, d, s, n, c)
		labels := uploadLabels(t, d, y, c)
		pred, err := d.Argmax(scores)
		if err != nil {
			t.Fatal(err)
		}
		cnt, err := d.CorrectCount(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range read(t, pred) {
			if w := cpuArgmax(s[i*c : (i+1)*c]); p != float32(w) {
				t.Fatalf("%v row %d %v: argmax %v, want %d", sh, i, s[i*c:(i+1)*c], p, w)
			}
		}
		if got := read(t, cnt); !shapeEq(cnt.Shape(), []int{1}) || got[0] != float32(want) {
			t.Fatalf("%v: correct count %v (shape %v), want %d", sh, got, cnt.Shape(), want)
		}
		release(scores, pred, cnt)
		labels.Release()
	}
}

func TestLossRejectsBadInput(t *testing.T) {
	d := device(t)
	s2 := upload(t, d, make([]float32, 6), 2, 3)
	s3 := upload(t, d, make([]float32, 6), 1, 2, 3)
	y2 := uploadLabels(t, d, []int{0, 2}, 3)
	y3 := uploadLabels(t, d, []int{0, 1, 1}, 3)
	y4 := uploadLabels(t, d, []int{0, 3}, 4)
	dead := uploadLabels(t, d, []int{0, 1}, 3)
	dead.Release()
	defer release(s2, s3)
	defer y2.Release()
	defer y3.Release()
	defer y4.Release()
	expect := func(what string, err error, words ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: error %q lacks %q", what, err, w)
			}
		}
	}
	_, err := d.UploadLabels([]int{0, 3}, 3)
	expect("label = classes", err, "gpu.UploadLabels", "y[1] = 3", "[0, 3)")
	_, err = d.UploadLabels([]int{-1}, 3)
	expect("negative label", err, "gpu.UploadLabels", "y[0] = -1")
	_, err = d.UploadLabels(nil, 3)
	expect("no labels", err, "gpu.UploadLabels", "no labels")
	_, err = d.UploadLabels([]int{0}, 0)
	expect("zero classes", err, "gpu.UploadLabels", "classes = 0")
	_, _, err = d.SoftmaxCrossEntropy(s3, y2)
	expect("3-d scores", err, "gpu.SoftmaxCrossEntropy", "(1, 2, 3)", "(N, C)")
	_, _, err = d.SoftmaxCrossEntropy(s2, y3)
	expect("label count", err, "gpu.SoftmaxCrossEntropy", "(2, 3), (3,)", "2 rows, 3 labels")
	_, _, err = d.SoftmaxCrossEntropy(s2, y4)
	expect("labels for more classes", err, "gpu.SoftmaxCrossEntropy", "a label is 3", "[0, 3)")
	_, _, err = d.SoftmaxCrossEntropy(nil, y2)
	expect("nil scores", err, "gpu.SoftmaxCrossEntropy", "nil")
	_, _, err = d.SoftmaxCrossEntropy(s2, nil)
	expect("nil labels", err, "gpu.SoftmaxCrossEntropy", "labels are nil")
	_, _, err = d.SoftmaxCrossEntropy(s2, dead)
	expect("released labels", err, "gpu.SoftmaxCrossEntropy", "released")
	_, err = d.CorrectCount(s2, y3)
	expect("correct count label count", err, "gpu.CorrectCount", "2 rows, 3 labels")
	_, err = d.Argmax(s3)
	expect("argmax 3-d", err, "gpu.Argmax", "(N, C)")
}
