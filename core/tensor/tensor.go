// Package tensor is gradlab's small N-d float64 array: a shape and a contiguous
// row-major slice, NCHW for images. It holds only what the layers need; the
// float64 layers built on it are the oracle every GPU kernel is checked against.
package tensor

import (
	"fmt"
	"math"
	"strings"
)

// MaxElements bounds a single tensor so a typo in a shape (say 1e9 channels)
// is an error instead of an out-of-memory crash. 2^31 float64s is 16 GiB.
const MaxElements = 1 << 31

// Tensor is a row-major float64 array. Data has exactly Size() elements.
// Layers never keep a reference to an input's Data past the call that
// returns their cache, so callers may reuse inputs after backward.
type Tensor struct {
	Shape []int
	Data  []float64
}

// Error is returned by every tensor and layer function for bad input. It names
// the operation and the shapes involved so a learner sees what to fix.
type Error struct {
	Op     string
	Shapes [][]int
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if len(e.Shapes) > 0 {
		b.WriteString(" (")
		for i, s := range e.Shapes {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ShapeString(s))
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf builds an *Error for op with the given shapes.
func Errorf(op string, shapes [][]int, format string, args ...any) error {
	return &Error{Op: op, Shapes: shapes, Msg: fmt.Sprintf(format, args...)}
}

// ShapeString formats a shape as (2, 3, 4).
func ShapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// CheckShape reports whether shape is usable: at least one dim, every dim
// positive, and the total within MaxElements. It returns the element count.
func CheckShape(op string, shape []int) (int, error) {
	if len(shape) == 0 {
		return 0, Errorf(op, [][]int{shape}, "shape has no dimensions")
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return 0, Errorf(op, [][]int{shape}, "every dimension must be positive, got %d", d)
		}
		if n > MaxElements/d {
			return 0, Errorf(op, [][]int{shape}, "more than %d elements", MaxElements)
		}
		n *= d
	}
	return n, nil
}

// New returns a zero tensor of the given shape.
func New(shape ...int) (*Tensor, error) {
	n, err := CheckShape("tensor.New", shape)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float64, n)}, nil
}

// MustNew is New for shapes the caller has already validated (inside layers,
// after their own checks). It panics only on a programming error in gradlab.
func MustNew(shape ...int) *Tensor {
	t, err := New(shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// FromData wraps data (not copied) with a shape; len(data) must match.
func FromData(data []float64, shape ...int) (*Tensor, error) {
	n, err := CheckShape("tensor.FromData", shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, Errorf("tensor.FromData", [][]int{shape}, "shape needs %d values, got %d", n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Scalar tensors are not needed by the layers; Full is.
func Full(v float64, shape ...int) (*Tensor, error) {
	t, err := New(shape...)
	if err != nil {
		return nil, err
	}
	for i := range t.Data {
		t.Data[i] = v
	}
	return t, nil
}

// Size is the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// Dims is the number of dimensions.
func (t *Tensor) Dims() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float64(nil), t.Data...)}
}

// ZerosLike returns a zero tensor with t's shape.
func ZerosLike(t *Tensor) *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: make([]float64, len(t.Data))}
}

// Reshape returns a view with a new shape sharing t's data. One dimension
// may be -1 and is inferred.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s := append([]int(nil), shape...)
	infer, known := -1, 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d <= 0:
			return nil, Errorf("tensor.Reshape", [][]int{t.Shape, shape}, "bad dimension %d", d)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.Data)%known != 0 {
			return nil, Errorf("tensor.Reshape", [][]int{t.Shape, shape}, "cannot infer dimension")
		}
		s[infer] = len(t.Data) / known
	}
	if n, err := CheckShape("tensor.Reshape", s); err != nil || n != len(t.Data) {
		return nil, Errorf("tensor.Reshape", [][]int{t.Shape, shape}, "element count %d does not match", len(t.Data))
	}
	return &Tensor{Shape: s, Data: t.Data}, nil
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// HasNaN reports whether any element is NaN or ±Inf; layers use it to refuse
// inputs that would silently poison every later result.
func (t *Tensor) HasNaN() bool {
	for _, v := range t.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return true
		}
	}
	return false
}

// Float32 converts to float32 for upload to the GPU.
func (t *Tensor) Float32() []float32 {
	out := make([]float32, len(t.Data))
	for i, v := range t.Data {
		out[i] = float32(v)
	}
	return out
}

// FromFloat32 builds a float64 tensor from GPU results.
func FromFloat32(data []float32, shape ...int) (*Tensor, error) {
	n, err := CheckShape("tensor.FromFloat32", shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, Errorf("tensor.FromFloat32", [][]int{shape}, "shape needs %d values, got %d", n, len(data))
	}
	out := make([]float64, n)
	for i, v := range data {
		out[i] = float64(v)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: out}, nil
}

// Shape4 unpacks an NCHW shape, or returns an error naming op.
func (t *Tensor) Shape4(op string) (n, c, h, w int, err error) {
	if t == nil {
		return 0, 0, 0, 0, Errorf(op, nil, "input is nil")
	}
	if len(t.Shape) != 4 {
		return 0, 0, 0, 0, Errorf(op, [][]int{t.Shape}, "want a 4-d NCHW tensor")
	}
	return t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3], nil
}

// Rows views t as a matrix (Shape[0], rest), the way affine layers flatten.
func (t *Tensor) Rows() (n, d int) {
	if len(t.Shape) == 0 {
		return 0, 0
	}
	n = t.Shape[0]
	if n == 0 {
		return 0, 0
	}
	return n, len(t.Data) / n
}
