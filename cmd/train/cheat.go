package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"gradlab/core/net"
	"gradlab/core/train"
)

// runCheat is -experiment cheat: the dropout notebook's cheating-feature
// experiment with the chosen data and model. -dropout is the drop
// probability of the second run's dropout, placed by -dropout-at; the model
// itself is built without dropout.
func runCheat(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if !(o.dropout > 0 && o.dropout < 1) {
		return fmt.Errorf("-dropout is the second run's drop probability and must be in (0, 1), got %v", o.dropout)
	}
	trainSet, testSet, err := loadData(o)
	if err != nil {
		return err
	}
	base := *o
	base.dropout = 0
	spec, err := modelSpec(&base, trainSet)
	if err != nil {
		return err
	}
	cfg := train.CheatConfig{
		Spec:      spec,
		Dropout:   o.dropout,
		Placement: o.dropoutAt,
		Train:     train.Config{Epochs: o.epochs, BatchSize: o.batch, LR: o.lr, Schedule: o.schedule, Decay: o.decay, LossEvery: o.lossEvery, MaxSteps: o.maxSteps, Seed: o.seed},
		EvalLimit: o.evalLimit,
	}
	if err := cfg.Train.Validate(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cheating-feature experiment: %s, %d training images (label written into the 4 corner pixels), %d clean test images\n", o.dataset, trainSet.N, testSet.N)
	fmt.Fprintf(stdout, "model    %s\n         %s\n", spec.Name, spec)
	notes := ""
	newBackend := func(s net.Spec, seed uint64) (train.Backend, error) {
		oo := *o
		oo.seed = seed
		b, note, err := newBackend(&oo, s)
		notes = note
		return b, err
	}
	per := trainSet.N / o.batch * o.epochs
	if o.maxSteps > 0 && o.maxSteps < per {
		per = o.maxSteps
	}
	bar := progressbar.NewOptions(2*per, progressbar.OptionSetWriter(stderr), progressbar.OptionSetVisibility(!o.quiet),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond))
	res, err := train.CheatingExperiment(ctx, newBackend, trainSet, testSet, cfg, func(p train.CheatProgress) {
		bar.Describe(fmt.Sprintf("%s  loss %.4f", p.Label, p.Loss))
		bar.Set(p.Run*p.Steps + p.Step)
	})
	bar.Finish()
	fmt.Fprintln(stderr)
	if res == nil {
		return err
	}
	fmt.Fprintf(stdout, "device   %s%s\n", res.Device, notes)
	printCheatTable(stdout, res)
	return err
}

func printCheatTable(w io.Writer, r *train.CheatResult) {
	fmt.Fprintf(w, "%-28s %10s %12s %12s %10s\n", "run", "train acc", "clean test", "cheat test", "reliance")
	for _, run := range []train.CheatRun{r.NoDropout, r.WithDropout} {
		if run.Result == nil {
			continue
		}
		fmt.Fprintf(w, "%-28s %10.4f %12.4f %12.4f %+10.4f\n", run.Label, run.TrainAcc, run.CleanTestAcc, run.CheatTestAcc, run.Reliance())
	}
	fmt.Fprintf(w, "train acc on training images with the cheat; test accuracy on %d test images, clean and with the cheat added; reliance = cheat - clean. %.0fs\n", r.TestImages, r.Seconds)
}
