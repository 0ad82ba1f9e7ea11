package exercise

import (
	"errors"
	"fmt"
	"math"
	"time"

	"gradlab/core/gpu"
)

// Report is the result of checking one kernel.
type Report struct {
	// Compile is set when the kernel did not compile; nothing ran then.
	Compile *gpu.CompileError
	Cases   []CaseResult
	// Grad is the numerical gradient check of a backward kernel (nil for
	// forward kernels or when the kernel did not run).
	Grad *CaseResult
	// Notes are page-level messages: loop budget hit, device recreated.
	Notes  []string
	Passed bool
}

// CaseResult is one row of the results table.
type CaseResult struct {
	Label     string
	Pass      bool
	MaxRelErr float64 // worst element error over every output (NaN: unwritten)
	// FirstBad is the first element over the threshold, in output Output;
	// -1 when all pass.
	FirstBad  int
	Output    string
	Got, Want float64
	// Message explains a failure: a recognised mistake, unwritten outputs,
	// the loop budget.
	Message string
}

// Checker runs learner kernels on one GPU device and replaces the device
// when it is lost or hangs.
type Checker struct {
	dev  *gpu.Device
	open func() (*gpu.Device, error)
	// Timeout bounds each kernel run (0: 10 s).
	Timeout time.Duration
}

// NewChecker returns a checker that opens its device on first use with
// gpu.Open.
func NewChecker() *Checker {
	return &Checker{open: func() (*gpu.Device, error) { return gpu.Open(gpu.Options{}) }}
}

// NewCheckerOn uses dev until it is lost, then opens a new one.
func NewCheckerOn(dev *gpu.Device) *Checker {
	c := NewChecker()
	c.dev = dev
	return c
}

// Device returns the current device, opening one if needed.
func (c *Checker) Device() (*gpu.Device, error) {
	if c.dev == nil {
		d, err := c.open()
		if err != nil {
			return nil, err
		}
		c.dev = d
	}
	return c.dev, nil
}

// Close releases the device.
func (c *Checker) Close() {
	if c.dev != nil {
		c.dev.Close()
		c.dev = nil
	}
}

// Check compiles src (the learner's code, placed after e.Prelude) and runs
// it on every case. It returns an error only when no GPU is usable; compile
// errors, wrong results, endless loops and a lost device are in the Report.
func (c *Checker) Check(e *Exercise, src string) (*Report, error) {
	rep, err := c.check(e, src)
	if err != nil && (errors.Is(err, gpu.ErrDeviceLost) || errors.Is(err, gpu.ErrTimeout)) {
		// The device is gone: replace it so the next check works, and say
		// what happened instead of failing.
		c.Close()
		note := "The GPU device was lost while running your kernel (" + err.Error() + "). A new device has been created: fix the kernel and check again."
		if errors.Is(err, gpu.ErrTimeout) {
			note = "Your kernel did not finish in time, so the GPU device was reset and a new one created. Look for a loop that runs far too long."
		}
		if _, oerr := c.Device(); oerr != nil {
			return nil, fmt.Errorf("exercise: the GPU device was lost and could not be reopened: %w", oerr)
		}
		if rep == nil {
			rep = &Report{}
		}
		rep.Passed = false
		rep.Notes = append(rep.Notes, note)
		return rep, nil
	}
	return rep, err
}

func (c *Checker) check(e *Exercise, src string) (*Report, error) {
	dev, err := c.Device()
	if err != nil {
		return nil, err
	}
	k, err := dev.CompileCustom(e.Prelude, src, e.Layout)
	var ce *gpu.CompileError
	if errors.As(err, &ce) {
		return &Report{Compile: ce}, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Release()
	rep := &Report{Passed: true}
	cases := e.cases()
	budget := false
	for ci, cs := range cases {
		if budget {
			// One endless loop is enough to know: running it on every
			// shape would only make the learner wait.
			rep.Cases = append(rep.Cases, CaseResult{Label: cs.Label, FirstBad: -1, MaxRelErr: math.NaN(),
				Message: "not run: the kernel hit the iteration budget on an earlier shape"})
			continue
		}
		outs, hit, err := c.run(k, e, cs)
		if err != nil {
			return rep, err
		}
		r := e.compare(cs, outs, e.Threshold)
		if hit {
			budget = true
			r.Pass = false
			r.Message = fmt.Sprintf("your kernel hit the iteration budget (%d loop iterations per invocation): an infinite loop? The outputs are incomplete.", gpu.LoopBudget)
		} else if !r.Pass && r.Message == "" {
			r.Message = e.diagnose(cs, outs)
		}
		rep.Cases = append(rep.Cases, r)
		rep.Passed = rep.Passed && r.Pass
		if ci == 0 && e.numeric != nil && !hit {
			num, err := e.numeric(cs)
			if err != nil {
				return rep, fmt.Errorf("exercise %s: numerical gradient: %w", e.Slug, err)
			}
			g := e.compare(&Case{Label: cs.Label, Want: num}, outs, e.GradThreshold)
			g.Label = "numerical gradient, " + cs.Label
			if !g.Pass {
				g.Message = "your gradient disagrees with finite differences of the forward pass"
			}
			rep.Grad = &g
			rep.Passed = rep.Passed && g.Pass
		}
	}
	if budget {
		rep.Notes = append(rep.Notes, "Your kernel hit the iteration budget (infinite loop?): it was stopped, and the page is fine.")
	}
	return rep, nil
}

// run executes the kernel on one case; outputs start as NaN so that an
// element the kernel never writes is seen.
func (c *Checker) run(k *gpu.CustomKernel, e *Exercise, cs *Case) ([][]float32, bool, error) {
	var data [][]float32
	in, out := 0, 0
	for _, a := range e.Layout.Buffers {
		if a == gpu.Read {
			data = append(data, f32(cs.Inputs[in]))
			in++
			continue
		}
		nan := make([]float32, len(cs.Want[out]))
		for i := range nan {
			nan[i] = float32(math.NaN())
		}
		data = append(data, nan)
		out++
	}
	groups := (cs.Threads + WorkgroupSize - 1) / WorkgroupSize
	res, err := k.Run(gpu.CustomRun{Params: cs.Params, Data: data, Grid: [3]uint32{uint32(max(groups, 1)), 1, 1}, Timeout: c.Timeout})
	if err != nil {
		return nil, false, err
	}
	var outs [][]float32
	for i, a := range e.Layout.Buffers {
		if a == gpu.ReadWrite {
			outs = append(outs, res.Outputs[i])
		}
	}
	return outs, res.BudgetHit, nil
}

// compare measures outs against cs.Want.
func (e *Exercise) compare(cs *Case, outs [][]float32, threshold float64) CaseResult {
	r := CaseResult{Label: cs.Label, Pass: true, FirstBad: -1}
	for o, want := range cs.Want {
		if want == nil {
			continue // a mistake variant that says nothing about this output
		}
		got := outs[o]
		floor := 1e-6
		for _, w := range want {
			floor = max(floor, 1e-2*math.Abs(w))
		}
		for i, w := range want {
			g := float64(got[i])
			err := math.Abs(g-w) / max(math.Abs(w), floor)
			if math.IsNaN(g) || math.IsInf(g, 0) {
				err = math.Inf(1)
			}
			if err > r.MaxRelErr || math.IsNaN(r.MaxRelErr) {
				r.MaxRelErr = err
			}
			if !(err <= threshold) && r.FirstBad < 0 {
				r.Pass = false
				r.FirstBad, r.Output, r.Got, r.Want = i, e.Outputs[o], g, w
				if math.IsNaN(g) {
					r.Message = fmt.Sprintf("%s[%d] is NaN: never written? (every element must be written by some invocation; or a 0/0)", e.Outputs[o], i)
				}
			}
		}
	}
	return r
}

// diagnose names the first known mistake the outputs match.
func (e *Exercise) diagnose(cs *Case, outs [][]float32) string {
	for _, m := range e.mistakes {
		v := m.Variant(cs)
		if v == nil {
			continue // the mistake makes no difference on this shape
		}
		same := true
		for o := range v {
			if v[o] != nil && !sameAs(v[o], cs.Want[o]) {
				same = false
			}
		}
		if same {
			continue
		}
		if r := e.compare(&Case{Want: v}, outs, e.Threshold); r.Pass {
			return m.Message
		}
	}
	return ""
}

func sameAs(a, b []float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9*max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// roundF32 rounds v to f32 values: inputs go to the GPU as f32, so the
// float64 references must see the same numbers.
func roundF32(v []float64) []float64 {
	for i, x := range v {
		v[i] = float64(float32(x))
	}
	return v
}

func f32bits(v float64) uint32 { return math.Float32bits(float32(v)) }
