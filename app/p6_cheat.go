package app

import (
	"context"
	"errors"
	"fmt"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/data"
	"gradlab/core/gpu"
	"gradlab/core/net"
	"gradlab/core/train"
)

// CheatExperiment is problem 6 part (i): the cheating-feature experiment on
// a Fashion-MNIST subset, trained in the browser on a button press.
type CheatExperiment struct {
	goapp.Compo
	trainN, epochs, drop float64
	placement            string // "input" or "hidden"
	init                 bool

	running  bool
	phase    string
	fraction float64
	device   string
	result   *train.CheatResult
	err      error
	cancel   context.CancelFunc
}

// cheatHidden is the network: one hidden layer of 128 units, no batchnorm,
// small enough to train on a few thousand images in a browser tab, and
// flexible enough to learn both the corner code and the clothes.
var cheatHidden = []int{128}

const cheatTestN = 2000 // clean test images scored

func (c *CheatExperiment) defaults() {
	if !c.init {
		c.trainN, c.epochs, c.drop, c.placement, c.init = 4000, 3, 0.5, "input", true
	}
}

// OnDismount stops a run in progress.
func (c *CheatExperiment) OnDismount() {
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *CheatExperiment) options() (train.CheatConfig, error) {
	ds, err := datasetByKey("fashion")
	if err != nil {
		return train.CheatConfig{}, err
	}
	return train.CheatConfig{
		Spec:      net.FullyConnected(ds.C, ds.H, ds.W, len(ds.Classes), cheatHidden, false, 0),
		Dropout:   c.drop,
		Placement: c.placement,
		Train:     train.Config{Epochs: int(c.epochs), BatchSize: 50, LR: 0.05, Schedule: "cosine", LossEvery: 20, Seed: 1},
		EvalLimit: cheatTestN,
	}, nil
}

func (c *CheatExperiment) start(ctx goapp.Context, _ goapp.Event) {
	c.defaults()
	if c.running {
		return
	}
	cfg, err := c.options()
	if err != nil {
		c.err = err
		return
	}
	n := int(c.trainN)
	c.running, c.err, c.result, c.fraction, c.phase = true, nil, nil, 0, "Downloading Fashion-MNIST"
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	ctx.Async(func() {
		res, dev, err := runCheat(runCtx, cfg, n, func(phase string, f float64) {
			ctx.Dispatch(func(goapp.Context) { c.phase, c.fraction = phase, f })
		})
		ctx.Dispatch(func(goapp.Context) {
			c.running, c.result, c.err, c.device, c.cancel = false, res, err, dev, nil
		})
	})
}

func (c *CheatExperiment) stop(goapp.Context, goapp.Event) {
	if c.cancel != nil {
		c.cancel()
	}
}

// runCheat loads Fashion-MNIST (cached for the page's lifetime), takes a
// seeded subset of n training images and runs the experiment on the GPU
// when there is one, else on the CPU. It runs in a goroutine: downloading,
// opening the GPU and training all wait on the browser.
func runCheat(ctx context.Context, cfg train.CheatConfig, n int, report func(phase string, fraction float64)) (*train.CheatResult, string, error) {
	ds, err := datasetByKey("fashion")
	if err != nil {
		return nil, "", err
	}
	d, err := loadDataset(ds, func(loaded, total int64) {
		if total > 0 {
			report("Downloading Fashion-MNIST", float64(loaded)/float64(total))
		}
	})
	if err != nil {
		return nil, "", err
	}
	trainSet := d.Train
	if n < trainSet.N {
		if trainSet, err = trainSet.Subset("train", data.Permutation(trainSet.N, cfg.Train.Seed)[:n]); err != nil {
			return nil, "", err
		}
	}
	dev, devErr := trainDevice()
	note := ""
	if devErr != nil {
		if !errors.Is(devErr, gpu.ErrNoAdapter) {
			return nil, "", devErr
		}
		dev, note = nil, " (no WebGPU adapter, so on the CPU: slower)"
	}
	newBackend := func(spec net.Spec, seed uint64) (train.Backend, error) {
		nt, err := net.New(spec, seed)
		if err != nil {
			return nil, err
		}
		if dev == nil {
			return train.NewCPU(nt, train.OptimConfig{Name: "sgd_momentum", Momentum: 0.9}, cfg.Train.LR)
		}
		return gpu.NewNetwork(dev, nt, gpu.Optimizer{Name: "sgd_momentum", Momentum: 0.9})
	}
	cfg.Train.Yield = yielder()
	report("Training", 0)
	res, err := train.CheatingExperiment(ctx, newBackend, trainSet, d.Test, cfg, func(p train.CheatProgress) {
		report(fmt.Sprintf("Training %s (run %d of %d)", p.Label, p.Run+1, p.Runs), p.Fraction())
	})
	if res != nil {
		return res, res.Device + note, err
	}
	return nil, "", err
}

// Render draws the section.
func (c *CheatExperiment) Render() goapp.UI {
	c.defaults()
	body := []goapp.UI{
		goapp.P().Text("Each training image gets its own label written into its four corner pixels, as 4 bits (white for a one, black for a zero). The label is then readable from four pixels alone, far more easily than from the clothes, so a network without dropout learns the corners and little else. The test images stay clean: their corners are black, which reads as class 0 (T-shirt), so that network is lost on them."),
		goapp.P().Text("The same network (784 → 128 → 10, ReLU, the same initial weights and batches) is then trained again with dropout. Where the dropout goes matters. On the input pixels it attacks the shortcut directly: each corner bit is dropped with probability p, so the whole code is intact in only (1 − p)⁴ of the training images (6% at p = 0.5); the shortcut stops paying and the network has to learn the clothes as well. On the hidden layer it attacks the shortcut only indirectly, since the network can copy the four bits into many hidden units and losing some of them leaves the others. Both help; try both and compare."),
		goapp.P().Text("Three accuracies per run: on the training images (with the cheat), on clean test images, and on test images with the cheat added. The gap between the last two is how much the network relies on the corners."),
		goapp.Div().Class("inputs").Body(
			intField("p6-i-n", "Training images", 500, 60000, c.trainN, func(v float64) { c.trainN = v }),
			intField("p6-i-epochs", "Epochs", 1, 20, c.epochs, func(v float64) { c.epochs = v }),
			numField("p6-i-p", "Drop probability p", 0.05, 0.95, 0.05, c.drop, func(v float64) { c.drop = v }),
			goapp.Div().Class("field").Body(
				goapp.Label().For("p6-i-at").Text("Dropout on"),
				goapp.Select().ID("p6-i-at").OnChange(func(ctx goapp.Context, _ goapp.Event) {
					c.placement = ctx.JSSrc().Get("value").String()
				}).Body(
					goapp.Option().Value("input").Selected(c.placement == "input").Text("the input pixels"),
					goapp.Option().Value("hidden").Selected(c.placement == "hidden").Text("the hidden layer (after the ReLU)"),
				),
			),
		),
		goapp.Button().ID("p6-i-run").Disabled(c.running).Text("Run the experiment").OnClick(c.start),
	}
	if c.running {
		body = append(body, goapp.Button().ID("p6-i-stop").Text("Stop").OnClick(c.stop),
			ProgressBar{ID: "p6-i-progress", Label: c.phase, Value: c.fraction, Max: 1}.UI())
	}
	switch {
	case c.err != nil:
		body = append(body, errorBox("p6-i-error", c.err))
	case c.result == nil && !c.running:
		body = append(body, goapp.P().ID("p6-i-status").Class("notice").Textf("Nothing has run yet. The button downloads Fashion-MNIST (about 30 MB, once) and trains twice on %d images for %d epochs, on this browser's GPU if it has one.", int(c.trainN), int(c.epochs)))
	}
	if c.result != nil {
		body = append(body, cheatTable(c.result, c.device))
	}
	return section("p6-i", "(i) Dropout on real data: the cheating feature", body...)
}

func cheatTable(r *train.CheatResult, device string) goapp.UI {
	row := func(run train.CheatRun, id string) goapp.UI {
		if run.Result == nil {
			return nil
		}
		cell := func(v float64) goapp.UI { return goapp.Td().Class("num-cell").Text(FormatNum(100*v, 3) + "%") }
		return goapp.Tr().ID(id).Body(goapp.Th().Scope("row").Text(run.Label), cell(run.TrainAcc), cell(run.CleanTestAcc), cell(run.CheatTestAcc),
			goapp.Td().Class("num-cell").Text(FormatNum(100*run.Reliance(), 3)+" points"))
	}
	var verdict goapp.UI
	if a, b := r.NoDropout, r.WithDropout; a.Result != nil && b.Result != nil {
		verdict = goapp.P().ID("p6-i-verdict").Textf("On clean test images, dropout took the accuracy from %s%% to %s%%, and the reliance on the corners from %s to %s points. These numbers come from this run; change the settings and run again to see how they move.",
			FormatNum(100*a.CleanTestAcc, 3), FormatNum(100*b.CleanTestAcc, 3), FormatNum(100*a.Reliance(), 3), FormatNum(100*b.Reliance(), 3))
	}
	return goapp.Div().ID("p6-i-result").Body(
		goapp.P().ID("p6-i-device").Textf("Trained on %s; %d training images, %d test images scored, %s s.", device, r.TrainImages, r.TestImages, FormatNum(r.Seconds, 3)),
		goapp.Table().Class("results").Body(
			goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Run"), goapp.Th().Text("Train (with cheat)"), goapp.Th().Text("Test, clean"), goapp.Th().Text("Test, with cheat"), goapp.Th().Text("Reliance on the cheat"))),
			goapp.TBody().Body(row(r.NoDropout, "p6-i-nodrop"), row(r.WithDropout, "p6-i-drop")),
		),
		verdict,
	)
}
