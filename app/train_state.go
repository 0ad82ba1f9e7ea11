package app

import (
	"encoding/json"
	"fmt"
	"strings"

	"gradlab/core/data"
	"gradlab/core/net"
	"gradlab/core/train"
)

// TrainPath is the in-browser training page's route.
const TrainPath = "/train"

// TrainRoutePaths lists the training page's routes for the site generator.
func TrainRoutePaths() []string { return []string{TrainPath} }

// trainDataset is one dataset the page offers.
type trainDataset struct {
	Key, Label string
	// File is the pack under /web/data/; "" for the synthetic generator,
	// which draws its images here instead of downloading them.
	File    string
	C, H, W int
	Classes []string
}

var digitNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

var trainDatasets = []trainDataset{
	{Key: "fashion", Label: "Fashion-MNIST (1×28×28)", File: data.FashionPackFile, C: 1, H: 28, W: 28, Classes: data.FashionMNISTClasses},
	{Key: "mnist", Label: "MNIST digits (1×28×28)", File: data.MNISTPackFile, C: 1, H: 28, W: 28, Classes: digitNames},
	{Key: "synthetic", Label: "Synthetic colour shapes (3×32×32)", C: 3, H: 32, W: 32, Classes: []string{"class 0", "class 1", "class 2", "class 3", "class 4", "class 5", "class 6", "class 7", "class 8", "class 9"}},
}

// Synthetic set sizes: enough for a subset of a few thousand, small enough
// to draw in a moment.
const syntheticTrainN, syntheticTestN = 6000, 500

func datasetByKey(key string) (trainDataset, error) {
	for _, d := range trainDatasets {
		if d.Key == key {
			return d, nil
		}
	}
	return trainDataset{}, fmt.Errorf("unknown dataset %q", key)
}

// trainModels are the choices of the model menu.
var trainModels = []struct{ Key, Label string }{
	{"reference", "Reference CNN (3 conv stages, BN, dropout)"},
	{"convnet", "Three-layer conv net (conv 32 7 · pool · affine 100)"},
	{"fc", "Fully-connected net (256 · 128)"},
	{"custom", "My own stack of layers"},
}

// trainOptimizers: the GPU has kernels for the first four; the CPU fallback
// runs every rule of core/optim.
var trainOptimizers = []string{"sgd_momentum", "adam", "adamw", "sgd", "rmsprop"}

func gpuHasOptimizer(name string) bool {
	switch name {
	case "sgd", "sgd_momentum", "adam", "adamw":
		return true
	}
	return false
}

// trainOptions is everything the form sets; it is saved with a run.
type trainOptions struct {
	Model     string  `json:"model"`
	Custom    string  `json:"custom"`
	Dataset   string  `json:"dataset"`
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Schedule  string  `json:"schedule"`
	Decay     float64 `json:"decay"`
	Epochs    int     `json:"epochs"`
	Batch     int     `json:"batch"`
	Dropout   float64 `json:"dropout"`
	BN        bool    `json:"bn"`
	Seed      int     `json:"seed"`
	Subset    int     `json:"subset"`
}

func defaultTrainOptions() trainOptions {
	return trainOptions{
		Model: "reference", Custom: "conv 16 3 pad=1, bn, relu, pool 2, affine 10",
		Dataset: "fashion", Optimizer: "adam", LR: 1e-3, Schedule: "constant", Decay: 0.5,
		Epochs: 2, Batch: 64, Dropout: 0.3, BN: true, Seed: 1, Subset: 5000,
	}
}

// spec builds the chosen network for the dataset and checks that its layers
// chain (the plan's error is what the page shows next to the stack field).
func (o trainOptions) spec() (net.Spec, error) {
	ds, err := datasetByKey(o.Dataset)
	if err != nil {
		return net.Spec{}, err
	}
	k := len(ds.Classes)
	var s net.Spec
	switch o.Model {
	case "reference":
		s = net.ReferenceCNN(ds.C, ds.H, ds.W, k, o.BN, o.Dropout)
	case "convnet":
		s = net.ThreeLayerConvNet(ds.C, ds.H, ds.W, k, 32, 7, 100)
	case "fc":
		s = net.FullyConnected(ds.C, ds.H, ds.W, k, []int{256, 128}, o.BN, o.Dropout)
	case "custom":
		ls, err := net.Parse(o.Custom)
		if err != nil {
			return net.Spec{}, err
		}
		s = net.Spec{Name: "custom", C: ds.C, H: ds.H, W: ds.W, Classes: k, Layers: ls}
	default:
		return net.Spec{}, fmt.Errorf("unknown model %q", o.Model)
	}
	if _, err := s.Plan(); err != nil {
		return net.Spec{}, err
	}
	return s, nil
}

// config is the training loop's configuration. The loss is read back about
// 40 times a run (each read makes the CPU wait for the GPU) and accuracy is
// scored on a capped number of images so an epoch's end stays quick on a
// slow adapter.
func (o trainOptions) config(trainN int, onGPU bool) train.Config {
	total := max(1, trainN/max(1, o.Batch)) * o.Epochs
	evalLimit := 1000
	if !onGPU {
		evalLimit = 200
	}
	return train.Config{
		Epochs: o.Epochs, BatchSize: o.Batch, LR: o.LR, Schedule: o.Schedule, Decay: o.Decay,
		LossEvery: min(20, max(1, total/40)), Seed: uint64(o.Seed), EvalLimit: evalLimit,
	}
}

// check is the whole form's verdict before a run starts: the first problem
// a learner must fix, or nil. onGPU says which device will train.
func (o trainOptions) check(onGPU bool) error {
	if _, err := o.spec(); err != nil {
		return err
	}
	if err := (train.Config{Epochs: o.Epochs, BatchSize: o.Batch, LR: o.LR, Schedule: o.Schedule, Decay: o.Decay}).Validate(); err != nil {
		return err
	}
	if err := o.fitsInATab(onGPU); err != nil {
		return err
	}
	if onGPU && !gpuHasOptimizer(o.Optimizer) {
		return fmt.Errorf("%s has no GPU kernel: pick sgd_momentum, adam or adamw (the CPU fallback runs %s)", o.Optimizer, o.Optimizer)
	}
	if !strings.Contains(" "+strings.Join(trainOptimizers, " ")+" ", " "+o.Optimizer+" ") {
		return fmt.Errorf("unknown optimizer %q", o.Optimizer)
	}
	if o.Subset < 2*o.Batch {
		return fmt.Errorf("the training subset (%d images) must hold at least two batches of %d", o.Subset, o.Batch)
	}
	return nil
}

// A browser tab has a few GiB at most (wasm32: 4 GiB in all); a run whose
// parameters (with gradients and two optimizer moments) or one batch's
// activations would not fit is refused before it allocates anything. The
// CPU path keeps activations as float64 in the wasm heap (64 Mi values are
// 512 MiB); the GPU keeps them as f32 in its own memory.
const (
	maxTabParams      = 20_000_000
	maxCPUBatchValues = 64 << 20
	maxGPUBatchValues = 256 << 20
)

func (o trainOptions) fitsInATab(onGPU bool) error {
	maxTabBatchValues := maxCPUBatchValues
	if onGPU {
		maxTabBatchValues = maxGPUBatchValues
	}
	s, err := o.spec()
	if err != nil {
		return err
	}
	steps, _ := s.Plan()
	params, acts := 0, 0
	for _, st := range steps {
		for _, p := range st.Params {
			params += prodInts(p.Shape)
		}
		acts += prodInts(st.Out)
	}
	if params > maxTabParams {
		return fmt.Errorf("%d parameters is more than a browser tab can train (at most %d)", params, maxTabParams)
	}
	if acts*o.Batch > maxTabBatchValues {
		return fmt.Errorf("one batch of %d needs %d activation values, more than a browser tab holds (at most %d): use a smaller batch or a smaller network", o.Batch, acts*o.Batch, maxTabBatchValues)
	}
	return nil
}

func prodInts(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// savedRunVersion changes whenever savedRun's meaning changes; an older
// record is then ignored rather than misread.
const savedRunVersion = 1

// savedRun is the last trained model as the page keeps it across reloads:
// the options (which rebuild the spec), the normaliser the weights were
// trained with, the curves, and the weights file.
type savedRun struct {
	Version int           `json:"version"`
	Options trainOptions  `json:"options"`
	Arch    string        `json:"arch"` // Spec.String(), for display and a cross-check
	Mean    []float64     `json:"mean"`
	Std     []float64     `json:"std"`
	Result  *train.Result `json:"result"`
	Weights []byte        `json:"weights"` // net's weights file (base64 in JSON)
}

func encodeSavedRun(r savedRun) (string, error) {
	r.Version = savedRunVersion
	b, err := json.Marshal(r)
	return string(b), err
}

// decodeSavedRun reads a stored run and rebuilds its network with the
// weights loaded; anything damaged or from another version is an error, so
// the page starts clean instead of showing a half-restored model.
func decodeSavedRun(text string) (savedRun, *net.Net, error) {
	var r savedRun
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return r, nil, fmt.Errorf("saved model: %w", err)
	}
	if r.Version != savedRunVersion {
		return r, nil, fmt.Errorf("saved model: version %d, this page reads version %d", r.Version, savedRunVersion)
	}
	spec, err := r.Options.spec()
	if err != nil {
		return r, nil, fmt.Errorf("saved model: %w", err)
	}
	if spec.String() != r.Arch {
		return r, nil, fmt.Errorf("saved model: its options build %q, the record says %q", spec, r.Arch)
	}
	if len(r.Mean) != spec.C || len(r.Std) != spec.C {
		return r, nil, fmt.Errorf("saved model: normaliser has %d/%d channels, want %d", len(r.Mean), len(r.Std), spec.C)
	}
	n, err := net.New(spec, uint64(r.Options.Seed))
	if err != nil {
		return r, nil, err
	}
	if err := n.Load(r.Weights); err != nil {
		return r, nil, err
	}
	return r, n, nil
}
