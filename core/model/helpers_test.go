package model

import (
	"math"
	"sort"
	"strings"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

func randn(t testing.TB, seed uint64, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.Randn(tensor.NewRand(seed), shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func randLabels(seed uint64, n, classes int) []int {
	r := tensor.NewRand(seed)
	y := make([]int, n)
	for i := range y {
		y[i] = r.IntN(classes)
	}
	return y
}

func sortedKeys(m map[string]*tensor.Tensor) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type gradResult struct {
	num, ana *tensor.Tensor
	rel      float64 // the course's rel_error between them
}

// gradCheck compares every analytic gradient of m.Loss(X, y) with centred
// differences of step h.
func gradCheck(t *testing.T, m Model, X *tensor.Tensor, y []int, h float64) map[string]gradResult {
	t.Helper()
	loss0, grads, err := m.Loss(X, y)
	if err != nil {
		t.Fatal(err)
	}
	params := m.Params()
	if got, want := strings.Join(sortedKeys(grads), ","), strings.Join(sortedKeys(params), ","); got != want {
		t.Fatalf("gradients for %s, parameters %s", got, want)
	}
	f := func() (float64, error) {
		l, _, err := m.Loss(X, y)
		return l, err
	}
	out := map[string]gradResult{}
	for _, name := range sortedKeys(params) {
		num, err := gradcheck.Numerical(f, params[name], h)
		if err != nil {
			t.Fatal(err)
		}
		e, err := gradcheck.RelError(num, grads[name])
		if err != nil {
			t.Fatal(err)
		}
		out[name] = gradResult{num, grads[name], e}
	}
	// Numerical must have restored every parameter: same loss as before.
	if l, _, _ := m.Loss(X, y); l != loss0 {
		t.Fatalf("loss changed across the gradient check: %v then %v", loss0, l)
	}
	return out
}

// gradErrors is gradCheck reduced to the rel error per parameter.
func gradErrors(t *testing.T, m Model, X *tensor.Tensor, y []int, h float64) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, g := range gradCheck(t, m, X, y, h) {
		out[name] = g.rel
	}
	return out
}

func wantError(t *testing.T, what string, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("%s: error %q does not mention %q", what, err, f)
		}
	}
}

func sumSquares(ts ...*tensor.Tensor) float64 {
	s := 0.0
	for _, t := range ts {
		for _, v := range t.Data {
			s += v * v
		}
	}
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
