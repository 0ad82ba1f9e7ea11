package app

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/gpu"
	"gradlab/core/hw"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// The homework's layer: a 3x3 convolution from 3 to 4 channels, padding 1,
// on one 224x224 RGB image.
const (
	sepCIn, sepCOut, sepK, sepSize = 3, 4, 3, 224
	sepReps                        = 5 // timed runs per layer; the median is shown
	sepSeed                        = 7
)

// SeparableTiming is one measurement of problem 1's layers on a GPU.
type SeparableTiming struct {
	Adapter  string
	Fallback bool
	FLOPs    hw.ConvFLOPs
	// Median wall times of one forward pass, each ended by Device.Sync so
	// the GPU's work is inside the interval.
	Traditional, Depthwise, Pointwise, Separable time.Duration
	// MaxDiff is max |separable - full conv with the composed kernel| over
	// the output; Bound is the f32 rounding bound it is checked against.
	MaxDiff, Bound float64
	Equal          bool
	// SliceRanks are the ranks of the composed kernel's input-channel
	// slices (1 each: the low-rank view).
	SliceRanks []int
}

// MeasureSeparable runs the traditional layer (a random 4x3x3x3 kernel), the
// depthwise (groups = 3) and pointwise (1x1) layers, and the traditional
// layer with the composed kernel W[o,c] = P[o,c] D[c] on d, times them, and
// checks that the separable output equals the composed full convolution.
func MeasureSeparable(d *gpu.Device) (*SeparableTiming, error) {
	f, err := hw.FLOPs(sepCIn, sepCOut, sepK, sepSize, sepSize, 1, 1)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(sepSeed, 1))
	var x, wFull, dw, pw *tensor.Tensor
	for _, m := range []struct {
		dst   **tensor.Tensor
		shape []int
	}{{&x, []int{1, sepCIn, sepSize, sepSize}}, {&wFull, []int{sepCOut, sepCIn, sepK, sepK}}, {&dw, []int{sepCIn, 1, sepK, sepK}}, {&pw, []int{sepCOut, sepCIn, 1, 1}}} {
		if *m.dst, err = tensor.Randn(r, m.shape...); err != nil {
			return nil, err
		}
	}
	lr, err := hw.SeparableLowRank(dw.Data, pw.Data, sepCIn, sepCOut, sepK)
	if err != nil {
		return nil, err
	}
	composed, err := tensor.FromData(lr.Full, sepCOut, sepCIn, sepK, sepK)
	if err != nil {
		return nil, err
	}
	up := map[string]*gpu.Tensor{}
	defer func() {
		for _, t := range up {
			t.Release()
		}
	}()
	for name, t := range map[string]*tensor.Tensor{"x": x, "full": wFull, "dw": dw, "pw": pw, "composed": composed} {
		g, err := d.Upload(t)
		if err != nil {
			return nil, err
		}
		up[name] = g
	}
	same := nn.ConvParam{Stride: 1, Pad: 1}
	depth := nn.ConvParam{Stride: 1, Pad: 1, Groups: sepCIn}
	point := nn.ConvParam{Stride: 1, Pad: 0}
	trad := func() (*gpu.Tensor, error) { return d.ConvForward(up["x"], up["full"], nil, same) }
	depthwise := func() (*gpu.Tensor, error) { return d.ConvForward(up["x"], up["dw"], nil, depth) }
	separable := func() (*gpu.Tensor, error) {
		h, err := depthwise()
		if err != nil {
			return nil, err
		}
		defer h.Release()
		return d.ConvForward(h, up["pw"], nil, point)
	}
	h, err := depthwise()
	if err != nil {
		return nil, err
	}
	defer h.Release()
	pointwise := func() (*gpu.Tensor, error) { return d.ConvForward(h, up["pw"], nil, point) }

	t := &SeparableTiming{Adapter: d.Info().String(), Fallback: d.Info().Fallback, FLOPs: f, SliceRanks: lr.SliceRanks}
	for _, m := range []struct {
		run func() (*gpu.Tensor, error)
		dst *time.Duration
	}{{trad, &t.Traditional}, {depthwise, &t.Depthwise}, {pointwise, &t.Pointwise}, {separable, &t.Separable}} {
		if *m.dst, err = medianTime(d, m.run); err != nil {
			return nil, err
		}
	}

	sep, err := separable()
	if err != nil {
		return nil, err
	}
	defer sep.Release()
	full, err := d.ConvForward(up["x"], up["composed"], nil, same)
	if err != nil {
		return nil, err
	}
	defer full.Release()
	a, err := sep.ReadF32()
	if err != nil {
		return nil, err
	}
	b, err := full.ReadF32()
	if err != nil {
		return nil, err
	}
	abs, err := absProducts(x, dw, pw)
	if err != nil {
		return nil, err
	}
	// Each output is a sum of 27 products; both paths read the same f32
	// image. The full convolution's f32 result is within gamma_28 * S of the
	// exact value (S the sum of the absolute products): 27 products and
	// sums, plus one rounding for storing the composed weight in f32. The
	// separable one is within gamma_15 * S: a 9-term depthwise sum with its
	// f32 weights (gamma_10), then a 3-term pointwise sum with its f32
	// weights (gamma_5), compounded. Their difference is therefore within
	// gamma_43 * S (Higham, Accuracy and Stability of Numerical Algorithms,
	// 2nd ed., section 3.1, with gamma_a + gamma_b <= gamma_(a+b)).
	const u = 1.0 / (1 << 24)
	gamma := 43 * u / (1 - 43*u)
	t.Equal = len(a) == len(b) && len(a) == len(abs)
	for i := range a {
		if !t.Equal {
			break
		}
		diff := math.Abs(float64(a[i]) - float64(b[i]))
		t.MaxDiff = math.Max(t.MaxDiff, diff)
		t.Bound = math.Max(t.Bound, gamma*abs[i])
		if !(diff <= gamma*abs[i]) {
			t.Equal = false
		}
	}
	return t, nil
}

// absProducts is, per output of the composed convolution, the sum of
// |P[o,c] D[c,tap] x[c, pixel]| over its 27 terms (zero padding included).
func absProducts(x, dw, pw *tensor.Tensor) ([]float64, error) {
	ax, ad := x.Clone(), dw.Clone()
	for _, t := range []*tensor.Tensor{ax, ad} {
		for i, v := range t.Data {
			t.Data[i] = math.Abs(v)
		}
	}
	h, _, err := nn.ConvForwardNaive(ax, ad, nil, nn.ConvParam{Stride: 1, Pad: 1, Groups: sepCIn})
	if err != nil {
		return nil, err
	}
	ap := pw.Clone()
	for i, v := range ap.Data {
		ap.Data[i] = math.Abs(v)
	}
	out, _, err := nn.ConvForwardNaive(h, ap, nil, nn.ConvParam{Stride: 1})
	if err != nil {
		return nil, err
	}
	return out.Data, nil
}

// medianTime runs f once to compile its pipelines, then sepReps times, each
// timed up to Sync, and returns the median.
func medianTime(d *gpu.Device, f func() (*gpu.Tensor, error)) (time.Duration, error) {
	var times []time.Duration
	for i := 0; i <= sepReps; i++ {
		start := time.Now()
		out, err := f()
		if err != nil {
			return 0, err
		}
		if err := d.Sync(); err != nil {
			out.Release()
			return 0, err
		}
		el := time.Since(start)
		out.Release()
		if i > 0 {
			times = append(times, el)
		}
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// SeparableGPU is problem 1's GPU section: it measures on a button press.
type SeparableGPU struct {
	goapp.Compo
	running bool
	result  *SeparableTiming
	err     error
	noGPU   bool
}

func (s *SeparableGPU) run(ctx goapp.Context, _ goapp.Event) {
	if s.running {
		return
	}
	s.running, s.err, s.result, s.noGPU = true, nil, nil, false
	// Opening the device and Sync wait on promises in the browser: they must
	// run in a goroutine, never in the click handler.
	ctx.Async(func() {
		res, err := measureOnPageDevice()
		ctx.Dispatch(func(goapp.Context) {
			s.running, s.result, s.err = false, res, err
			s.noGPU = errors.Is(err, gpu.ErrNoAdapter)
		})
	})
}

// measureOnPageDevice uses the page's shared device (trainDevice): it is
// opened once per page lifetime and never closed, because destroying a
// device in Chromium settles its lost promise after the runtime released
// the callback ("call to released function" in the console).
func measureOnPageDevice() (*SeparableTiming, error) {
	d, err := trainDevice()
	if err != nil {
		return nil, err
	}
	return MeasureSeparable(d)
}

// Render draws the section.
func (s *SeparableGPU) Render() goapp.UI {
	body := []goapp.UI{
		goapp.P().Text("Run both layers as WGSL kernels on this browser's GPU, on one random 224×224 RGB image: the traditional 3×3 convolution from 3 to 4 channels (padding 1), and the separable pair, a depthwise 3×3 convolution (groups = 3, one filter per channel) followed by a pointwise 1×1 convolution. " +
			"Each time is the median of 5 runs after a warm-up, measured until the GPU has finished (Sync). The page also builds the full kernel W[o,c] = P[o,c]·D[c] from the separable weights, runs it as an ordinary convolution, and checks that both give the same output up to float32 rounding: the separable layer is that rank-1-per-slice full kernel."),
		goapp.Button().ID("p1-gpu-run").Disabled(s.running).Text("Measure on the GPU").OnClick(s.run),
	}
	switch {
	case s.running:
		body = append(body, ProgressBar{ID: "p1-gpu-progress", Label: "Running the layers on the GPU"}.UI())
	case s.noGPU:
		body = append(body, goapp.P().ID("p1-gpu-nogpu").Class("notice").Text("This browser has no WebGPU adapter, so nothing was measured: "+s.err.Error()+". The parameter and multiply-add counts above do not need a GPU."))
	case s.err != nil:
		body = append(body, errorBox("p1-gpu-error", s.err))
	case s.result != nil:
		body = append(body, s.table(s.result))
	}
	return section("p1-gpu", "Both layers on the GPU", body...)
}

func (s *SeparableGPU) table(t *SeparableTiming) goapp.UI {
	row := func(name string, macs int64, d time.Duration, id string) goapp.UI {
		rate := float64(macs) / d.Seconds() / 1e9
		return goapp.Tr().ID(id).Body(goapp.Th().Scope("row").Text(name), goapp.Td().Class("num-cell").Text(Count(macs)),
			goapp.Td().Class("num-cell").Text(fmtDuration(d)), goapp.Td().Class("num-cell").Text(FormatNum(rate, 3)))
	}
	check := fmt.Sprintf("Separable output equals the full convolution with the composed kernel: max |difference| %s, within the float32 rounding bound %s.", FormatNum(t.MaxDiff, 3), FormatNum(t.Bound, 3))
	if !t.Equal {
		check = fmt.Sprintf("MISMATCH: the separable output differs from the full convolution with the composed kernel by up to %s, beyond the float32 rounding bound %s. This GPU computed a wrong result.", FormatNum(t.MaxDiff, 3), FormatNum(t.Bound, 3))
	}
	var note goapp.UI
	if t.Fallback {
		note = goapp.P().Class("notice").Text("This is a software adapter (the GPU is emulated on the CPU), so the times say little about a real GPU.")
	}
	return goapp.Div().ID("p1-gpu-result").Body(
		goapp.P().ID("p1-gpu-adapter").Text("Adapter: "+t.Adapter),
		note,
		goapp.Table().Class("results").Body(
			goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Layer"), goapp.Th().Text("Multiply-adds"), goapp.Th().Text("Median time"), goapp.Th().Text("G multiply-adds/s"))),
			goapp.TBody().Body(
				row("Traditional 3×3", t.FLOPs.Traditional, t.Traditional, "p1-gpu-trad"),
				row("Depthwise 3×3", t.FLOPs.Depthwise, t.Depthwise, "p1-gpu-dw"),
				row("Pointwise 1×1", t.FLOPs.Pointwise, t.Pointwise, "p1-gpu-pw"),
				row("Separable (both)", t.FLOPs.Separable, t.Separable, "p1-gpu-sep"),
			),
		),
		goapp.P().ID("p1-gpu-ratio").Textf("The separable layer does %s of the traditional layer's multiply-adds and took %s of its time here. A layer this small is a light job for a GPU: fixed costs (launching each kernel, waiting for the result) weigh as much as the arithmetic, and the separable layer launches two kernels where the traditional one launches one.",
			FormatNum(float64(t.FLOPs.Separable)/float64(t.FLOPs.Traditional), 3), FormatNum(t.Separable.Seconds()/t.Traditional.Seconds(), 3)),
		goapp.P().ID("p1-gpu-check").Class(map[bool]string{true: "ok", false: "error"}[t.Equal]).Text(check),
		goapp.P().ID("p1-gpu-ranks").Textf("Ranks of the composed kernel's input-channel slices: %v (each at most 1).", t.SliceRanks),
	)
}

func fmtDuration(d time.Duration) string {
	return FormatNum(float64(d.Microseconds())/1000, 4) + " ms"
}
