// Command train trains one of gradlab's networks on Fashion-MNIST, MNIST or
// synthetic colour images, with a progress bar, and writes the learning curve
// and the trained weights.
//
//	go run ./cmd/train -epochs 5 -model reference -out run1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	dataset, dataDir, model, layers, optimizer, schedule, device, out, experiment, dropoutAt string
	epochs, batch, maxSteps, val, subset, lossEvery, evalLimit                               int
	lr, decay, dropout, weightDecay                                                          float64
	bn, quiet                                                                                bool
	seed                                                                                     uint64
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dataset, "data", "fashion", "dataset: fashion, mnist or synthetic (3-channel colour images)")
	fs.StringVar(&o.dataDir, "data-dir", "", "folder with the IDX files (default: Debian's Fashion-MNIST, or the GoMNIST module for mnist)")
	fs.StringVar(&o.model, "model", "reference", "network: reference (CNN with BN and dropout), convnet (three-layer), fc (fully connected), custom (see -layers)")
	fs.StringVar(&o.layers, "layers", "", `custom layer stack, e.g. "conv 16 3 pad=1, bn, relu, pool 2, affine 10"`)
	fs.StringVar(&o.optimizer, "optim", "sgd_momentum", "update rule: sgd, sgd_momentum, rmsprop, adam, adamw")
	fs.StringVar(&o.schedule, "schedule", "cosine", "learning-rate schedule: constant, step or cosine")
	fs.StringVar(&o.device, "device", "auto", "auto (GPU if an adapter is found, else CPU), gpu or cpu")
	fs.StringVar(&o.out, "out", "gradlab-run", "output prefix: writes PREFIX.curve.csv, PREFIX.curve.json and PREFIX.weights")
	fs.StringVar(&o.experiment, "experiment", "", "cheat: the dropout notebook's cheating-feature experiment (label in the corner pixels; trains the model without and with input dropout -dropout, prints a table)")
	fs.StringVar(&o.dropoutAt, "dropout-at", "input", "-experiment cheat: where the second run's dropout goes, input (before the first layer) or hidden (after every ReLU)")
	fs.IntVar(&o.epochs, "epochs", 5, "epochs")
	fs.IntVar(&o.batch, "batch", 128, "batch size")
	fs.IntVar(&o.maxSteps, "max-steps", 0, "stop after this many steps (0: all epochs)")
	fs.IntVar(&o.val, "val", 5000, "training images held out for validation")
	fs.IntVar(&o.subset, "subset", 0, "train on only this many images (0: all)")
	fs.IntVar(&o.lossEvery, "loss-every", 20, "read the loss back every this many steps")
	fs.IntVar(&o.evalLimit, "eval-limit", 0, "score at most this many images per evaluation (0: all validation and test images, 10k training images)")
	fs.Float64Var(&o.lr, "lr", 0.05, "learning rate")
	fs.Float64Var(&o.decay, "decay", 0.8, "per-epoch factor for -schedule step")
	fs.Float64Var(&o.dropout, "dropout", 0.5, "dropout probability (of dropping) for reference and fc; 0 turns it off")
	fs.Float64Var(&o.weightDecay, "weight-decay", 0.01, "decoupled weight decay for adamw")
	fs.BoolVar(&o.bn, "bn", true, "batchnorm in reference and fc")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for initialisation, shuffling and dropout masks")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v (flags go before them? see -h)", fs.Args())
	}
	return o, nil
}
