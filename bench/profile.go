package main

import (
	"fmt"
	"sort"
	"time"

	"gradlab/core/gpu"
	"gradlab/core/nn"
)

// benchProfile times each GPU op of one reference-CNN training step on its
// own (record, then Sync), to show where a step's time goes. The sum is
// larger than a real step, which submits everything at once.
func benchProfile(d *gpu.Device, out *reporter, batch, reps int) error {
	type row struct {
		op string
		t  time.Duration
	}
	totals := map[string]time.Duration{}
	timeIt := func(op string, f func() error) error {
		t, err := median(reps, func() error {
			if err := f(); err != nil {
				return err
			}
			return d.Sync()
		})
		totals[op] += t
		return err
	}
	rf := func(shape ...int) (*gpu.Tensor, error) {
		n := 1
		for _, s := range shape {
			n *= s
		}
		return d.UploadF32(randF32(rngFor(n), n), shape...)
	}
	p := nn.ConvParam{Stride: 1, Pad: 1}
	type layer struct {
		c, h, k int
		pool    bool // the reference CNN pools after this conv block
	}
	for _, l := range []layer{{3, 32, 32, false}, {32, 32, 32, true}, {32, 16, 64, false}, {64, 16, 64, true}, {64, 8, 128, true}} {
		x, err := rf(batch, l.c, l.h, l.h)
		if err != nil {
			return err
		}
		w, _ := rf(l.k, l.c, 3, 3)
		g, _ := rf(batch, l.k, l.h, l.h)
		gamma, _ := d.Full(1, l.k)
		beta, _ := d.Zeros(l.k)
		st, err := d.NewBatchnormState(nil, l.k)
		if err != nil {
			return err
		}
		steps := []struct {
			op string
			f  func() error
		}{
			{"conv forward", func() error { y, err := d.ConvForward(x, w, nil, p); y.Release(); return err }},
			{"conv backward dx", func() error { y, err := d.ConvBackwardData(g, w, x.Shape(), p); y.Release(); return err }},
			{"conv backward dw", func() error { y, err := d.ConvBackwardWeights(g, x, w.Shape(), p); y.Release(); return err }},
			{"batchnorm forward+backward", func() error {
				y, c, err := d.SpatialBatchnormForward(g, gamma, beta, st, true)
				if err != nil {
					return err
				}
				dx, dg, db, err := d.SpatialBatchnormBackward(g, c)
				y.Release()
				c.Release()
				dx.Release()
				dg.Release()
				db.Release()
				return err
			}},
			{"relu forward+backward", func() error {
				y, err := d.Relu(g)
				if err != nil {
					return err
				}
				dx, err := d.ReluBackward(g, y)
				y.Release()
				dx.Release()
				return err
			}},
		}
		if l.pool {
			steps = append(steps, struct {
				op string
				f  func() error
			}{"max-pool forward+backward", func() error {
				y, c, err := d.MaxPoolForward(g, nn.PoolParam{Height: 2, Width: 2, Stride: 2})
				if err != nil {
					return err
				}
				dx, err := d.MaxPoolBackward(y, c)
				y.Release()
				c.Release()
				dx.Release()
				return err
			}})
		}
		for _, s := range steps {
			if err := timeIt(s.op, s.f); err != nil {
				return fmt.Errorf("profile %s (C=%d H=%d K=%d): %w", s.op, l.c, l.h, l.k, err)
			}
		}
		for _, t := range []*gpu.Tensor{x, w, g, gamma, beta} {
			t.Release()
		}
		st.Release()
	}
	var rows []row
	var sum time.Duration
	for op, t := range totals {
		rows = append(rows, row{op, t})
		sum += t
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].t > rows[j].t })
	for _, r := range rows {
		out.emit(record{"bench": "profile", "op": r.op, "batch": batch, "ms": ms(r.t), "share": ms(r.t) / ms(sum)},
			fmt.Sprintf("profile batch=%d %-28s %10.3f ms %5.1f%%", batch, r.op, ms(r.t), 100*ms(r.t)/ms(sum)))
	}
	return nil
}
