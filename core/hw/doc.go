// Package hw computes the answers to the written homework problems (1-4, 6
// and 7 of ../shared/seed/homework.md) so that the app can show them next to
// a live experiment, and so that each answer is checked by an independent
// computation in the tests (closed form against Monte Carlo, simulation,
// exact enumeration or a second algebraic route).
//
// The API is meant for a UI: inputs are plain slices ([][]float64 is a
// row-major matrix, one inner slice per row), results are structs with
// exported fields, bad input returns a *tensor.Error naming the operation,
// and nothing prints. gonum's mat does the linear algebra internally.
//
// Conventions that differ between problems (each function's comment repeats
// the one it uses):
//   - Problem 2 follows the homework text: p is the probability of KEEPING a
//     feature and there is no 1/p rescaling during training. The layer
//     library (core/nn) and the dropout notebook (problem 6) use p as the
//     probability of DROPPING and rescale kept inputs by 1/(1-p).
//   - Monte-Carlo estimates come with their standard error (sample standard
//     deviation over sqrt(samples)); tests accept an estimate when the exact
//     value lies within z = 4 standard errors, a fixed-seed test whose false
//     alarm rate would be about 6e-5.
package hw

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"gradlab/core/tensor"
)

// Step is one line of a derivation: prose and a LaTeX formula the page
// renders. Either may be empty.
type Step struct {
	Text string
	Math string
}

// Estimate is a Monte-Carlo mean with its standard error.
type Estimate struct {
	Mean    float64
	StdErr  float64
	Samples int
}

// Contains reports whether v lies within z standard errors of the mean.
func (e Estimate) Contains(v, z float64) bool {
	return math.Abs(e.Mean-v) <= z*e.StdErr
}

// meanStdErr uses Welford's update so a long run of large losses does not
// lose the variance to cancellation.
type welford struct {
	n        int
	mean, m2 float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += d * (x - w.mean)
}

func (w *welford) estimate() Estimate {
	if w.n < 2 {
		return Estimate{Mean: w.mean, StdErr: math.Inf(1), Samples: w.n}
	}
	v := w.m2 / float64(w.n-1)
	return Estimate{Mean: w.mean, StdErr: math.Sqrt(v / float64(w.n)), Samples: w.n}
}

func errf(op string, format string, args ...any) error {
	return tensor.Errorf(op, nil, format, args...)
}

// maxAbsInput bounds every input value: beyond it squares of sums can
// overflow float64 and the "answer" would be Inf, which a page would show as
// if it were a result.
const maxAbsInput = 1e50

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// denseOf validates a non-empty rectangular finite matrix and copies it.
func denseOf(op, name string, x [][]float64) (*mat.Dense, error) {
	if len(x) == 0 || len(x[0]) == 0 {
		return nil, errf(op, "%s is empty", name)
	}
	r, c := len(x), len(x[0])
	d := mat.NewDense(r, c, nil)
	for i, row := range x {
		if len(row) != c {
			return nil, tensor.Errorf(op, [][]int{{r, c}, {len(row)}}, "%s row %d has %d entries, row 0 has %d", name, i, len(row), c)
		}
		for j, v := range row {
			if !finite(v) || math.Abs(v) > maxAbsInput {
				return nil, errf(op, "%s[%d][%d] = %v is not a finite number of reasonable size", name, i, j, v)
			}
			d.Set(i, j, v)
		}
	}
	return d, nil
}

// vecOf validates a finite vector of length n (n < 0: any non-empty length).
func vecOf(op, name string, v []float64, n int) (*mat.VecDense, error) {
	if len(v) == 0 {
		return nil, errf(op, "%s is empty", name)
	}
	if n >= 0 && len(v) != n {
		return nil, tensor.Errorf(op, [][]int{{len(v)}, {n}}, "%s has %d entries, want %d", name, len(v), n)
	}
	for i, x := range v {
		if !finite(x) || math.Abs(x) > maxAbsInput {
			return nil, errf(op, "%s[%d] = %v is not a finite number of reasonable size", name, i, x)
		}
	}
	return mat.NewVecDense(len(v), append([]float64(nil), v...)), nil
}

func rowsOf(m mat.Matrix) [][]float64 {
	r, c := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, c)
		for j := range out[i] {
			out[i][j] = m.At(i, j)
		}
	}
	return out
}

func sliceOf(v mat.Vector) []float64 {
	out := make([]float64, v.Len())
	for i := range out {
		out[i] = v.AtVec(i)
	}
	return out
}

// columnNorms is the diagonal of Gamma = diag(X^T X)^(1/2) in problems 2 and 3.
func columnNorms(x *mat.Dense) []float64 {
	r, c := x.Dims()
	g := make([]float64, c)
	for j := range g {
		s := 0.0
		for i := 0; i < r; i++ {
			s += x.At(i, j) * x.At(i, j)
		}
		g[j] = math.Sqrt(s)
	}
	return g
}

// NumericalRank returns the rank of a matrix and its singular values
// (descending), counting singular values above max(m, n) * eps * s_max, the
// threshold NumPy's matrix_rank uses.
func NumericalRank(rows [][]float64) (int, []float64, error) {
	const op = "hw.NumericalRank"
	m, err := denseOf(op, "matrix", rows)
	if err != nil {
		return 0, nil, err
	}
	r, s, err := rankOf(op, m)
	return r, s, err
}

func rankOf(op string, m mat.Matrix) (int, []float64, error) {
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDNone) {
		return 0, nil, errf(op, "SVD did not converge")
	}
	s := svd.Values(nil)
	r, c := m.Dims()
	if len(s) == 0 {
		return 0, s, nil
	}
	tol := float64(max(r, c)) * eps * s[0]
	rank := 0
	for _, v := range s {
		if v > tol {
			rank++
		}
	}
	return rank, s, nil
}

const eps = 0x1p-52
