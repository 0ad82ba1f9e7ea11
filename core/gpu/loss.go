package gpu

import (
	"encoding/binary"
	"fmt"

	"gradlab/core/tensor"
)

var (
	kSoftmaxXent = Kernel{Shader: "loss", Entry: "softmax_xent", Bindings: []Access{Uniform, Read, Read, ReadWrite, ReadWrite}}
	kArgmaxRows  = Kernel{Shader: "loss", Entry: "argmax_rows", Bindings: []Access{Uniform, Read, Unused, Unused, ReadWrite}}
	kCorrectRows = Kernel{Shader: "loss", Entry: "correct_rows", Bindings: []Access{Uniform, Read, Read, Unused, ReadWrite}}
	kReduceRows  = Kernel{Shader: "loss", Entry: "reduce_rows", Bindings: []Access{Uniform, Unused, Unused, Unused, Unused, Read, ReadWrite}}
)

// maxClasses keeps class indices exact as f32 (Argmax returns them as f32).
const maxClasses = 1 << 24

// Labels are class indices on the GPU (u32), uploaded once per batch and
// validated on upload, so the loss kernels can trust them.
type Labels struct {
	t   *Tensor
	max int // largest label: the scores need more than max classes
}

// Len is the number of labels.
func (l *Labels) Len() int { return l.t.n }

// Release returns the labels' buffer to the pool.
func (l *Labels) Release() {
	if l != nil {
		l.t.Release()
	}
}

// UploadLabels copies class indices y to the GPU after checking that every
// 0 <= y[i] < classes.
func (d *Device) UploadLabels(y []int, classes int) (*Labels, error) {
	const op = "gpu.UploadLabels"
	if len(y) == 0 {
		return nil, tensor.Errorf(op, [][]int{{0}}, "no labels")
	}
	if classes <= 0 || classes > maxClasses {
		return nil, tensor.Errorf(op, [][]int{{len(y)}}, "classes = %d, want 1..%d", classes, maxClasses)
	}
	raw := make([]byte, 0, 4*len(y))
	top := 0
	for i, v := range y {
		if v < 0 || v >= classes {
			return nil, tensor.Errorf(op, [][]int{{len(y)}}, "label y[%d] = %d is outside [0, %d)", i, v, classes)
		}
		top = max(top, v)
		raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t, err := d.newTensor(op, []int{len(y)})
	if err != nil {
		return nil, err
	}
	if err := d.writeBuffer(t.buf, raw); err != nil {
		d.release(t.buf, t.cap, storageUsage)
		return nil, fmt.Errorf("%s (%d): %w", op, len(y), err)
	}
	return &Labels{t: t, max: top}, nil
}

// checkScoresLabels validates (N, C) scores, and labels when needLabels
// (Argmax has none). It returns (N, C). Callers hold d.mu.
func (d *Device) checkScoresLabels(op string, scores *Tensor, y *Labels, needLabels bool) (n, c int, err error) {
	if err := d.own(op, scores); err != nil {
		return 0, 0, err
	}
	if len(scores.shape) != 2 {
		return 0, 0, tensor.Errorf(op, [][]int{scores.shape}, "scores must be (N, C)")
	}
	n, c = scores.shape[0], scores.shape[1]
	if c > maxClasses {
		return 0, 0, tensor.Errorf(op, [][]int{scores.shape}, "more than %d classes", maxClasses)
	}
	if !needLabels {
		return n, c, nil
	}
	if y == nil || y.t == nil {
		return 0, 0, tensor.Errorf(op, [][]int{scores.shape}, "labels are nil")
	}
	if err := d.own(op, y.t); err != nil {
		return 0, 0, fmt.Errorf("%s labels: %w", op, err)
	}
	if y.t.n != n {
		return 0, 0, tensor.Errorf(op, [][]int{scores.shape, {y.t.n}}, "need one label per row: %d rows, %d labels", n, y.t.n)
	}
	if y.max >= c {
		return 0, 0, tensor.Errorf(op, [][]int{scores.shape, {y.t.n}}, "a label is %d, outside [0, %d)", y.max, c)
	}
	return n, c, nil
}

// SoftmaxCrossEntropy is nn.SoftmaxLoss on the GPU: the mean over the N rows
// of -log softmax(scores)[y], as a 1-element tensor that stays on the GPU
// (read it only when you need the number), and its gradient with respect to
// the (N, C) scores, (softmax - onehot(y)) / N, from the same pass. Each
// row's maximum is subtracted before exponentiating, so any finite scores
// are safe.
func (d *Device) SoftmaxCrossEntropy(scores *Tensor, y *Labels) (loss, dscores *Tensor, err error) {
	const op = "gpu.SoftmaxCrossEntropy"
	d.mu.Lock()
	defer d.mu.Unlock()
	n, c, err := d.checkScoresLabels(op, scores, y, true)
	if err != nil {
		return nil, nil, err
	}
	var tmp []*Tensor
	fail := func(err error) (*Tensor, *Tensor, error) {
		for _, t := range tmp {
			d.release(t.buf, t.cap, storageUsage)
		}
		return nil, nil, err
	}
	dscores, err = d.newTensor(op, scores.shape)
	if err != nil {
		return fail(err)
	}
	tmp = append(tmp, dscores)
	rows, err := d.newTensor(op, []int{n})
	if err != nil {
		return fail(err)
	}
	tmp = append(tmp, rows)
	loss, err = d.newTensor(op, []int{1})
	if err != nil {
		return fail(err)
	}
	tmp = append(tmp, loss)
	grid, err := d.grid1D(op, uint32(n))
	if err != nil {
		return fail(err)
	}
	invN := float32(1 / float64(n))
	if err := d.dispatch(kSoftmaxXent, grid, params{}.u32(uint32(n), uint32(c)).f32(invN), scores, y.t, dscores, rows); err != nil {
		return fail(err)
	}
	if err := d.reduceRows(rows, loss, invN); err != nil {
		return fail(err)
	}
	// Recorded work still reads rows; the pool hands it out again only
	// after the next submit.
	d.release(rows.buf, rows.cap, storageUsage)
	return loss, dscores, nil
}

// reduceRows records out[0] = scale * sum(rows).
func (d *Device) reduceRows(rows, out *Tensor, scale float32) error {
	return d.dispatch(kReduceRows, [3]uint32{1, 1, 1}, params{}.u32(uint32(rows.n), 0).f32(scale), rows, out)
}

// Argmax returns each row's predicted class as an (N) tensor of f32 class
// indices (exact: C < 2^24), the first index on ties, like numpy's argmax.
// NaN scores are skipped.
func (d *Device) Argmax(scores *Tensor) (*Tensor, error) {
	const op = "gpu.Argmax"
	d.mu.Lock()
	defer d.mu.Unlock()
	n, c, err := d.checkScoresLabels(op, scores, nil, false)
	if err != nil {
		return nil, err
	}
	pred, err := d.newTensor(op, []int{n})
	if err != nil {
		return nil, err
	}
	grid, err := d.grid1D(op, uint32(n))
	if err == nil {
		err = d.dispatch(kArgmaxRows, grid, params{}.u32(uint32(n), uint32(c)).f32(0), scores, pred)
	}
	if err != nil {
		d.release(pred.buf, pred.cap, storageUsage)
		return nil, err
	}
	return pred, nil
}

// CorrectCount returns, as a 1-element tensor on the GPU, how many rows'
// argmax (as Argmax) equals their label: accuracy without reading back the
// scores. Counts are exact below 2^24 rows.
func (d *Device) CorrectCount(scores *Tensor, y *Labels) (*Tensor, error) {
	const op = "gpu.CorrectCount"
	d.mu.Lock()
	defer d.mu.Unlock()
	n, c, err := d.checkScoresLabels(op, scores, y, true)
	if err != nil {
		return nil, err
	}
	if n >= maxClasses {
		return nil, tensor.Errorf(op, [][]int{scores.shape}, "counts of %d rows or more are not exact in f32", maxClasses)
	}
	flags, err := d.newTensor(op, []int{n})
	if err != nil {
		return nil, err
	}
	count, err := d.newTensor(op, []int{1})
	if err != nil {
		d.release(flags.buf, flags.cap, storageUsage)
		return nil, err
	}
	grid, err := d.grid1D(op, uint32(n))
	if err == nil {
		err = d.dispatch(kCorrectRows, grid, params{}.u32(uint32(n), uint32(c)).f32(0), scores, y.t, flags)
	}
	if err == nil {
		err = d.reduceRows(flags, count, 1)
	}
	d.release(flags.buf, flags.cap, storageUsage)
	if err != nil {
		d.release(count.buf, count.cap, storageUsage)
		return nil, err
	}
	return count, nil
}
