package nn

import (
	"errors"

	"gradlab/core/tensor"
)

// AffineCache holds what AffineBackward needs: the layer's inputs. It keeps
// references, not copies, so callers must not change x or w before backward.
type AffineCache struct {
	X *tensor.Tensor // as given, (N, d1, ..., dk)
	W *tensor.Tensor // (D, M)
}

// AffineForward computes out = x·w + b, flattening x to (N, D) with
// D = d1*...*dk as the course does. Shapes: x (N, d1, ..., dk), w (D, M),
// b (M,); out is (N, M).
func AffineForward(x, w, b *tensor.Tensor) (*tensor.Tensor, *AffineCache, error) {
	const op = "nn.AffineForward"
	for _, in := range []struct {
		name string
		t    *tensor.Tensor
	}{{"x", x}, {"w", w}, {"b", b}} {
		if err := checkOperand(op, in.name, in.t); err != nil {
			return nil, nil, err
		}
	}
	shapes := [][]int{x.Shape, w.Shape, b.Shape}
	if len(x.Shape) < 2 {
		return nil, nil, tensor.Errorf(op, shapes, "x must be (N, d1, ...), at least 2-d")
	}
	n, d := x.Rows()
	if len(w.Shape) != 2 || w.Shape[0] != d {
		return nil, nil, tensor.Errorf(op, shapes, "w must be (%d, M): x flattens to (%d, %d)", d, n, d)
	}
	m := w.Shape[1]
	if len(b.Shape) != 1 || b.Shape[0] != m {
		return nil, nil, tensor.Errorf(op, shapes, "b must be (%d,) to match w's %d columns", m, m)
	}

	out := tensor.MustNew(n, m)
	for i := 0; i < n; i++ {
		row := out.Data[i*m : (i+1)*m]
		copy(row, b.Data)
		// i-k-j order walks w and out row by row, so each inner loop is a
		// contiguous axpy: out[i,:] += x[i,k] * w[k,:].
		for k := 0; k < d; k++ {
			xik := x.Data[i*d+k]
			wk := w.Data[k*m : (k+1)*m]
			for j := range row {
				row[j] += xik * wk[j]
			}
		}
	}
	return out, &AffineCache{X: x, W: w}, nil
}

// AffineBackward returns the gradients of the loss with respect to x (in x's
// original shape), w and b, given dout (N, M):
//
//	dx = dout·wᵀ   dw = xᵀ·dout   db = sum of dout over the batch
func AffineBackward(dout *tensor.Tensor, cache *AffineCache) (dx, dw, db *tensor.Tensor, err error) {
	const op = "nn.AffineBackward"
	if cache == nil || cache.X == nil || cache.W == nil {
		return nil, nil, nil, tensor.Errorf(op, nil, "cache is nil; pass the cache AffineForward returned")
	}
	n, d := cache.X.Rows()
	if len(cache.W.Shape) != 2 || cache.W.Shape[0] != d || len(cache.W.Data) != d*cache.W.Shape[1] {
		return nil, nil, nil, tensor.Errorf(op, [][]int{cache.X.Shape, cache.W.Shape}, "cache does not come from AffineForward: w does not fit x")
	}
	m := cache.W.Shape[1]
	if err := checkUpstream(op, dout, []int{n, m}); err != nil {
		return nil, nil, nil, err
	}

	dx = tensor.ZerosLike(cache.X)
	dw = tensor.ZerosLike(cache.W)
	db = tensor.MustNew(m)
	for i := 0; i < n; i++ {
		g := dout.Data[i*m : (i+1)*m]
		for j, v := range g {
			db.Data[j] += v
		}
		for k := 0; k < d; k++ {
			wk := cache.W.Data[k*m : (k+1)*m]
			dwk := dw.Data[k*m : (k+1)*m]
			xik := cache.X.Data[i*d+k]
			s := 0.0
			for j, v := range g {
				s += v * wk[j]
				dwk[j] += xik * v
			}
			dx.Data[i*d+k] = s
		}
	}
	return dx, dw, db, nil
}

// checkOperand is the input check every dense layer in this package starts
// with: present, a usable shape whose size matches its data, and finite.
// A NaN let through would silently poison every later number, and a learner
// comparing against this oracle would chase the wrong layer.
func checkOperand(op, name string, t *tensor.Tensor) error {
	if t == nil {
		return tensor.Errorf(op, nil, "%s is nil", name)
	}
	size, err := tensor.CheckShape(op, t.Shape)
	if err != nil {
		var te *tensor.Error
		if errors.As(err, &te) {
			return tensor.Errorf(op, [][]int{t.Shape}, "%s: %s", name, te.Msg)
		}
		return err
	}
	if len(t.Data) != size {
		return tensor.Errorf(op, [][]int{t.Shape}, "%s has %d values for a shape of %d", name, len(t.Data), size)
	}
	if t.HasNaN() {
		return tensor.Errorf(op, [][]int{t.Shape}, "%s contains NaN or Inf", name)
	}
	return nil
}

// checkUpstream checks a backward pass's dout: a usable, finite tensor of
// exactly the shape the forward pass produced.
func checkUpstream(op string, dout *tensor.Tensor, want []int) error {
	if err := checkOperand(op, "dout", dout); err != nil {
		return err
	}
	if !tensor.SameShape(dout.Shape, want) {
		return tensor.Errorf(op, [][]int{dout.Shape, want}, "dout must have the forward output's shape")
	}
	return nil
}
