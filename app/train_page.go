package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gradlab/core/gpu"
	"gradlab/core/net"
	"gradlab/core/train"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// savedRunKey is the IndexedDB key of the last trained model.
const savedRunKey = "train.last"

// cpuBanner is the sentence shown when no adapter exists.
const cpuBanner = "No WebGPU adapter: training on the CPU (float64 reference), slower."

// Phases of the page; the root element carries the current one in
// data-phase for the browser tests.
const (
	phaseIdle     = "idle"
	phaseLoading  = "loading"
	phaseTraining = "training"
	phaseDone     = "done"
	phaseError    = "error"
)

// TrainPage trains a network on this browser's GPU (or its CPU) and shows
// the curves, the first layer's filters and activations, and predictions.
type TrainPage struct {
	goapp.Compo

	opts   trainOptions
	fields map[string]*NumberInput

	// device: "" while checking, "gpu" or "cpu"; devNote says which and why.
	device, devNote string

	phase     string
	status    string
	formErr   string
	runErr    string
	dlLoaded  int64
	dlTotal   int64
	cancel    context.CancelFunc
	step      int
	steps     int
	loss      float64
	ips       float64
	losses    []train.LossPoint
	epochs    []train.EpochStats
	restored  bool
	saveNote  string
	runDevice string

	// The trained (or restored, or imported) model and what it is shown on.
	model    *net.Net
	weights  []byte
	modelOpt trainOptions
	mdata    *loadedData
	testIdx  int
	views    trainViews
	ioMsg    string
	ioErr    string
}

// trainViews are the pictures made from a model, recomputed only when the
// model or the chosen test image changes.
type trainViews struct {
	filters     []string
	activations []string
	actErr      string
	image       string
	preds       []prediction
	predErr     string
}

func (p *TrainPage) init() {
	if p.fields != nil {
		return
	}
	p.opts = defaultTrainOptions()
	p.phase = phaseIdle
	o := &p.opts
	p.fields = map[string]*NumberInput{
		"lr":      numField("train-lr", "Learning rate", 1e-6, 10, 1e-4, o.LR, func(v float64) { o.LR = v }),
		"decay":   numField("train-decay", "Step decay per epoch", 0.01, 1, 0.05, o.Decay, func(v float64) { o.Decay = v }),
		"epochs":  intField("train-epochs", "Epochs", 1, 50, float64(o.Epochs), func(v float64) { o.Epochs = int(v) }),
		"batch":   intField("train-batch", "Batch size", 1, 512, float64(o.Batch), func(v float64) { o.Batch = int(v) }),
		"dropout": numField("train-dropout", "Dropout (drop probability)", 0, 0.9, 0.05, o.Dropout, func(v float64) { o.Dropout = v }),
		"seed":    intField("train-seed", "Seed", 0, 1e9, float64(o.Seed), func(v float64) { o.Seed = int(v) }),
		"subset":  intField("train-subset", "Training images (subset)", 20, 60000, float64(o.Subset), func(v float64) { o.Subset = int(v) }),
		"testimg": intField("train-testimg", "Test image", 0, 9999, 0, func(v float64) { p.testIdx = int(v) }),
	}
	p.fields["testimg"].OnChange = func(ctx goapp.Context, v float64) {
		p.testIdx = int(v)
		p.refreshActivations()
	}
}

// OnMount checks the GPU and restores the last trained model; both wait on
// promises, so they run in a goroutine.
func (p *TrainPage) OnMount(ctx goapp.Context) {
	p.init()
	if !goapp.IsClient {
		return // pre-rendering and unit tests: no GPU, no storage to read
	}
	ctx.Async(func() {
		dev, err := trainDevice()
		ctx.Dispatch(func(goapp.Context) { p.setDevice(dev, err) })
		p.restore(ctx)
	})
}

// OnNav sets the title.
func (p *TrainPage) OnNav(ctx goapp.Context) { ctx.Page().SetTitle("Train a CNN · gradlab") }

func (p *TrainPage) setDevice(dev *gpu.Device, err error) {
	if err != nil || dev == nil {
		p.device = "cpu"
		why := "no device"
		if err != nil {
			why = err.Error()
		}
		p.devNote = why
		return
	}
	p.device = "gpu"
	p.devNote = dev.Info().String()
	if dev.Info().Fallback {
		p.devNote += ": a software adapter, so the kernels run correctly but slowly"
	}
}

// restore reads the saved run, if any. A damaged record is reported and
// ignored: it never stops the page from working.
func (p *TrainPage) restore(ctx goapp.Context) {
	text, ok, err := storeLoad(savedRunKey)
	if err != nil {
		ctx.Dispatch(func(goapp.Context) { p.saveNote = "Could not read the saved model: " + err.Error() })
		return
	}
	if !ok {
		return
	}
	rec, model, err := decodeSavedRun(text)
	if err != nil {
		ctx.Dispatch(func(goapp.Context) {
			p.saveNote = "The saved model could not be restored (" + err.Error() + "); train a new one."
		})
		return
	}
	ds, _ := datasetByKey(rec.Options.Dataset)
	d, derr := loadDataset(ds, func(l, t int64) {})
	ctx.Dispatch(func(goapp.Context) {
		if p.phase == phaseLoading || p.phase == phaseTraining {
			return // the learner started a new run meanwhile
		}
		p.restored = true
		p.opts = rec.Options
		p.syncFields()
		if rec.Result != nil {
			p.losses, p.epochs, p.ips, p.runDevice = rec.Result.Losses, rec.Result.Epochs, rec.Result.ImagesPerSecond, rec.Result.Device
			p.step, p.steps = rec.Result.Steps, rec.Result.Steps
		}
		p.phase = phaseDone
		p.status = "Restored the last trained model from this browser's storage."
		if derr != nil {
			p.ioErr = "The test images could not be loaded for predictions: " + derr.Error()
			return
		}
		d.NZ.Mean, d.NZ.Std = rec.Mean, rec.Std
		p.setModel(model, rec.Weights, rec.Options, d)
	})
}

// syncFields shows p.opts in the number fields (after a restore).
func (p *TrainPage) syncFields() {
	o := p.opts
	vals := map[string]float64{"lr": o.LR, "decay": o.Decay, "epochs": float64(o.Epochs), "batch": float64(o.Batch),
		"dropout": o.Dropout, "seed": float64(o.Seed), "subset": float64(o.Subset)}
	for k, v := range vals {
		f := p.fields[k]
		f.Value = v
		f.Reset++
		f.applyReset()
	}
}

// invalidFields lists the labels of fields holding text that did not pass.
func (p *TrainPage) invalidFields() []string {
	var bad []string
	for _, k := range []string{"lr", "decay", "epochs", "batch", "dropout", "seed", "subset"} {
		if f := p.fields[k]; f.Message() != "" {
			bad = append(bad, f.Label)
		}
	}
	return bad
}

// formError is why the Train button cannot start a run now ("" if it can).
func (p *TrainPage) formError() string {
	if bad := p.invalidFields(); len(bad) > 0 {
		return "Fix the marked fields first: " + strings.Join(bad, ", ") + "."
	}
	if p.device == "" {
		return "Still looking for a GPU; try again in a moment."
	}
	if err := p.opts.check(p.device == "gpu"); err != nil {
		return err.Error()
	}
	return ""
}

func (p *TrainPage) start(ctx goapp.Context, _ goapp.Event) {
	if p.phase == phaseLoading || p.phase == phaseTraining {
		return
	}
	if msg := p.formError(); msg != "" {
		p.formErr = msg
		return
	}
	p.formErr, p.runErr, p.saveNote, p.ioErr, p.ioMsg = "", "", "", "", ""
	p.phase, p.status, p.restored = phaseLoading, "Loading the dataset…", false
	p.losses, p.epochs, p.step, p.steps, p.ips, p.loss = nil, nil, 0, 0, 0, 0
	p.dlLoaded, p.dlTotal = 0, 0
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	o := p.opts
	var dev *gpu.Device
	if p.device == "gpu" {
		dev, _ = trainDevice()
	}
	ctx.Async(func() {
		defer cancel()
		// A panic in a layer must not take the whole app down: it ends the
		// run with its message instead.
		defer func() {
			if r := recover(); r != nil {
				ctx.Dispatch(func(goapp.Context) { p.fail(fmt.Errorf("training failed: %v", r)) })
			}
		}()
		ds, _ := datasetByKey(o.Dataset)
		lastDL := time.Time{}
		d, err := loadDataset(ds, func(l, t int64) {
			if time.Since(lastDL) > 100*time.Millisecond || l == t {
				lastDL = time.Now()
				ctx.Dispatch(func(goapp.Context) { p.dlLoaded, p.dlTotal = l, t })
			}
		})
		if err != nil {
			ctx.Dispatch(func(goapp.Context) { p.fail(err) })
			return
		}
		ctx.Dispatch(func(goapp.Context) { p.phase, p.status = phaseTraining, "Training…" })
		var losses []train.LossPoint
		var epochs []train.EpochStats
		last := time.Time{}
		out := runTraining(runCtx, o, d, dev, yielder(), func(pr train.Progress) {
			if pr.Ended != nil {
				epochs = append(epochs, *pr.Ended)
			} else {
				losses = append(losses, train.LossPoint{Step: pr.Step, Loss: pr.Loss})
			}
			if pr.Ended == nil && time.Since(last) < 150*time.Millisecond && pr.Step != pr.Steps {
				return
			}
			last = time.Now()
			ls, es := append([]train.LossPoint(nil), losses...), append([]train.EpochStats(nil), epochs...)
			ctx.Dispatch(func(goapp.Context) {
				p.losses, p.epochs, p.step, p.steps, p.loss = ls, es, pr.Step, pr.Steps, pr.Loss
				if pr.Ended == nil {
					p.ips = pr.ImagesPerSecond
				}
			})
		})
		saveNote := ""
		if out.Model != nil {
			rec := savedRun{Options: o, Arch: out.Model.Spec.String(), Mean: d.NZ.Mean, Std: d.NZ.Std, Result: out.Result, Weights: out.Weights}
			if text, err := encodeSavedRun(rec); err != nil {
				saveNote = "Not saved: " + err.Error()
			} else if err := storeSave(savedRunKey, text); err != nil {
				saveNote = "Not saved in this browser: " + err.Error()
			} else {
				saveNote = "Saved in this browser: the model and its curves come back after a reload."
			}
		}
		ctx.Dispatch(func(goapp.Context) { p.finish(out, o, d, saveNote) })
	})
}

func (p *TrainPage) fail(err error) {
	p.phase, p.runErr, p.status = phaseError, err.Error(), ""
	p.cancel = nil
}

func (p *TrainPage) finish(out runOutcome, o trainOptions, d *loadedData, saveNote string) {
	p.cancel = nil
	p.saveNote = saveNote
	if out.Result != nil {
		p.losses, p.epochs, p.runDevice = out.Result.Losses, out.Result.Epochs, out.Result.Device
		p.step = out.Result.Steps
		if out.Result.ImagesPerSecond > 0 && p.ips == 0 {
			p.ips = out.Result.ImagesPerSecond
		}
	}
	switch {
	case out.Model == nil:
		p.fail(out.Err)
		return
	case out.Err != nil:
		p.runErr = out.Err.Error()
		p.status = "The run stopped early; the last good weights are kept."
	case out.Result.Stopped != "":
		p.status = "Stopped: " + out.Result.Stopped + ". The weights reached so far are kept."
	default:
		p.status = fmt.Sprintf("Finished: %d steps in %.1f s.", out.Result.Steps, out.Result.Seconds)
	}
	p.phase = phaseDone
	p.setModel(out.Model, out.Weights, o, d)
}

func (p *TrainPage) stop(goapp.Context, goapp.Event) {
	if p.cancel != nil {
		p.cancel()
		p.status = "Stopping after the current step…"
	}
}

// setModel installs a model and draws its views.
func (p *TrainPage) setModel(m *net.Net, weights []byte, o trainOptions, d *loadedData) {
	p.model, p.weights, p.modelOpt, p.mdata = m, weights, o, d
	p.views = trainViews{filters: filterImages(m)}
	if d == nil {
		return
	}
	p.fields["testimg"].Max = float64(d.Test.N - 1)
	p.testIdx = min(p.testIdx, d.Test.N-1)
	preds, err := predictGrid(m, d.Test, d.NZ, 16)
	p.views.preds = preds
	if err != nil {
		p.views.predErr = err.Error()
	}
	p.refreshActivations()
}

func (p *TrainPage) refreshActivations() {
	if p.model == nil || p.mdata == nil {
		return
	}
	p.views.image = imageURL(p.mdata.Test, p.testIdx)
	acts, err := activationImages(p.model, p.mdata.Test, p.mdata.NZ, p.testIdx)
	p.views.activations, p.views.actErr = acts, ""
	if err != nil {
		p.views.actErr = err.Error()
	}
}

func (p *TrainPage) export(goapp.Context, goapp.Event) {
	if p.weights == nil {
		return
	}
	name := fmt.Sprintf("gradlab-%s-%s.weights", p.modelOpt.Model, p.modelOpt.Dataset)
	downloadBytes(name, p.weights)
	p.ioMsg, p.ioErr = "Downloaded "+name+".", ""
}

// importFile loads a weights file into the network the form describes now;
// a file for another architecture is refused with net.Load's error.
func (p *TrainPage) importFile(ctx goapp.Context, _ goapp.Event) {
	files := ctx.JSSrc().Get("files")
	if files.Length() == 0 {
		return
	}
	file := files.Index(0)
	o := p.opts
	ctx.Async(func() {
		b, err := readFileBytes(file)
		if err != nil {
			ctx.Dispatch(func(goapp.Context) { p.ioErr, p.ioMsg = err.Error(), "" })
			return
		}
		m, d, err := importWeights(o, b)
		ctx.Dispatch(func(goapp.Context) {
			if err != nil {
				p.ioErr, p.ioMsg = "Import refused: "+err.Error(), ""
				return
			}
			p.ioErr, p.ioMsg = "", "Imported the weights into "+m.Spec.Name+"."
			if p.phase != phaseTraining && p.phase != phaseLoading {
				p.phase = phaseDone
			}
			p.losses, p.epochs, p.restored = nil, nil, false
			p.setModel(m, b, o, d)
		})
	})
}

// importWeights builds the form's network and loads b into it.
func importWeights(o trainOptions, b []byte) (*net.Net, *loadedData, error) {
	spec, err := o.spec()
	if err != nil {
		return nil, nil, err
	}
	m, err := net.New(spec, uint64(o.Seed))
	if err != nil {
		return nil, nil, err
	}
	if err := m.Load(b); err != nil {
		return nil, nil, err
	}
	ds, _ := datasetByKey(o.Dataset)
	d, err := loadDataset(ds, func(int64, int64) {})
	if err != nil {
		return m, nil, nil
	}
	return m, d, nil
}

// lossJSON is the loss series as [[step, loss], ...] for the data attribute
// the browser tests read.
func lossJSON(ls []train.LossPoint) string {
	pts := make([][2]float64, len(ls))
	for i, l := range ls {
		pts[i] = [2]float64{float64(l.Step), l.Loss}
	}
	b, _ := json.Marshal(pts)
	return string(b)
}
