package nn

import (
	"math"

	"gradlab/core/tensor"
)

// SoftmaxLoss is the mean cross-entropy of softmax(x) against labels y:
// x (N, C) holds class scores, y[i] in [0, C) is row i's correct class. It
// returns the loss and its gradient with respect to x, (p − onehot(y)) / N.
//
// Each row's maximum is subtracted before exponentiating. Softmax does not
// change when a constant is added to a row, and afterwards the largest
// exponent is e⁰ = 1, so nothing overflows however large the scores.
func SoftmaxLoss(x *tensor.Tensor, y []int) (float64, *tensor.Tensor, error) {
	const op = "nn.SoftmaxLoss"
	n, c, err := checkScores(op, x, y)
	if err != nil {
		return 0, nil, err
	}
	dx := tensor.MustNew(n, c)
	loss := 0.0
	for i := 0; i < n; i++ {
		row := x.Data[i*c : (i+1)*c]
		p := dx.Data[i*c : (i+1)*c]
		top := math.Inf(-1)
		for _, s := range row {
			top = math.Max(top, s)
		}
		sum := 0.0
		for j, s := range row {
			p[j] = math.Exp(s - top)
			sum += p[j]
		}
		// −log p_y = log Σ exp(s − top) − (s_y − top), without forming p_y,
		// which may underflow to 0 when the correct class scores far below.
		loss += math.Log(sum) - (row[y[i]] - top)
		for j := range p {
			p[j] /= sum
		}
		p[y[i]]--
	}
	for k := range dx.Data {
		dx.Data[k] /= float64(n)
	}
	return loss / float64(n), dx, nil
}

// SVMLoss is the mean multiclass hinge loss with margin 1, the course's:
// for each row, Σ over j ≠ y of max(0, x_j − x_y + 1). The gradient pushes
// every violating class's score down and the correct one up once per
// violation. At a margin of exactly 0 the hinge has no derivative; like the
// course we take 0 there.
func SVMLoss(x *tensor.Tensor, y []int) (float64, *tensor.Tensor, error) {
	const op = "nn.SVMLoss"
	n, c, err := checkScores(op, x, y)
	if err != nil {
		return 0, nil, err
	}
	dx := tensor.MustNew(n, c)
	loss := 0.0
	for i := 0; i < n; i++ {
		row := x.Data[i*c : (i+1)*c]
		g := dx.Data[i*c : (i+1)*c]
		correct := row[y[i]]
		for j, s := range row {
			if j == y[i] {
				continue
			}
			if margin := s - correct + 1; margin > 0 {
				loss += margin
				g[j]++
				g[y[i]]--
			}
		}
	}
	for k := range dx.Data {
		dx.Data[k] /= float64(n)
	}
	return loss / float64(n), dx, nil
}

// checkScores validates a loss's inputs and returns (N, C).
func checkScores(op string, x *tensor.Tensor, y []int) (n, c int, err error) {
	if err := checkOperand(op, "x", x); err != nil {
		return 0, 0, err
	}
	if len(x.Shape) != 2 {
		return 0, 0, tensor.Errorf(op, [][]int{x.Shape}, "x must be (N, C) class scores")
	}
	n, c = x.Shape[0], x.Shape[1]
	if len(y) != n {
		return 0, 0, tensor.Errorf(op, [][]int{x.Shape, {len(y)}}, "need one label per row: %d rows, %d labels", n, len(y))
	}
	for i, label := range y {
		if label < 0 || label >= c {
			return 0, 0, tensor.Errorf(op, [][]int{x.Shape}, "label y[%d] = %d is outside [0, %d)", i, label, c)
		}
	}
	return n, c, nil
}
