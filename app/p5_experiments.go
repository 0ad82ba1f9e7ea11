package app

import (
	"context"
	"math"

	"gradlab/core/data"
	"gradlab/core/model"
	"gradlab/core/optim"
	"gradlab/core/tensor"
)

// The notebook experiments run on core/data.Synthetic: seeded 8×8 colour
// images in 10 classes (shape × colour family), generated in the browser in
// milliseconds, so the page needs no download. CIFAR-10, the notebooks'
// data, is not reachable here; the questions are about optimisation and
// regularisation, which these images show at a size a browser trains in
// seconds.
const (
	expSide  = 8
	expTrain = 500
	expVal   = 500
)

// ExpDataText says on the page what the experiments train on.
const ExpDataText = "Data: 1000 synthetic 8×8 colour images in 10 classes (5 shapes × warm or cool colours, random position, size, hue and noise; core/data.Synthetic, seed 1), split into 500 for training and 500 for validation and normalised per channel with the training set's statistics. The notebooks use CIFAR-10, which this offline app cannot fetch; the experiments are also shorter than the notebooks' so that each runs in seconds in a browser."

// expData builds the experiments' training and validation sets.
func expData() (model.Data, error) {
	set, err := data.Synthetic("synthetic", expTrain+expVal, expSide, expSide, 1)
	if err != nil {
		return model.Data{}, err
	}
	train, val, err := set.Split(expVal, 2)
	if err != nil {
		return model.Data{}, err
	}
	mean, std := train.Stats()
	nz := data.Normalizer{Mean: mean, Std: std}
	all := func(s *data.Set) (*tensor.Tensor, []int, error) {
		idx := make([]int, s.N)
		for i := range idx {
			idx[i] = i
		}
		return s.Batch(idx, nz)
	}
	var d model.Data
	if d.XTrain, d.YTrain, err = all(train); err != nil {
		return model.Data{}, err
	}
	if d.XVal, d.YVal, err = all(val); err != nil {
		return model.Data{}, err
	}
	return d, nil
}

// expInputDim is the flattened image size.
const expInputDim = 3 * expSide * expSide

// History is one training run's curves.
type History struct {
	Name     string
	Loss     []float64
	TrainAcc []float64 // index 0 before training, then one per epoch
	ValAcc   []float64
	Err      error // a run that diverged (non-finite loss) ends early
}

// progressFn reports the fraction done of a whole experiment (0..1). It is
// called on the training goroutine; in the browser it also yields, so the
// page stays responsive.
type progressFn func(frac float64)

// trainFC trains one fully-connected net and returns its curves. part and
// parts place this run inside the whole experiment for progress.
func trainFC(ctx context.Context, d model.Data, name string, fc model.FCConfig, sc model.SolverConfig, part, parts int, progress progressFn) (History, error) {
	net, err := model.NewFullyConnectedNet(fc)
	if err != nil {
		return History{}, err
	}
	sc.Progress = func(p model.Progress) {
		if progress != nil && p.NumIterations > 0 {
			progress((float64(part) + float64(p.Iteration)/float64(p.NumIterations)) / float64(parts))
		}
	}
	s, err := model.NewSolver(net, d, sc)
	if err != nil {
		return History{}, err
	}
	h := History{Name: name}
	if err := s.Train(ctx); err != nil {
		if ctx.Err() != nil {
			return History{}, ctx.Err()
		}
		h.Err = err
	}
	h.Loss, h.TrainAcc, h.ValAcc = s.LossHistory, s.TrainAccHistory, s.ValAccHistory
	return h, nil
}

// DeepBNEpochs is the deep-net experiment's length (the notebook: 10
// epochs on 1000 CIFAR images).
const DeepBNEpochs = 5

// RunDeepBN trains the notebook's deep net (5 hidden layers of 100) with
// and without batchnorm, same data, same initial scale, same optimizer.
func RunDeepBN(ctx context.Context, progress progressFn) ([]History, error) {
	d, err := expData()
	if err != nil {
		return nil, err
	}
	var out []History
	for i, norm := range []string{"batchnorm", "none"} {
		name := "with batchnorm"
		if norm == "none" {
			name = "without batchnorm"
		}
		h, err := trainFC(ctx, d, name,
			model.FCConfig{HiddenDims: []int{100, 100, 100, 100, 100}, InputDim: expInputDim, NumClasses: 10, Normalization: norm, WeightScale: 2e-2, Seed: 3},
			model.SolverConfig{UpdateRule: "adam", Optim: optim.Config{LearningRate: 1e-3}, BatchSize: 50, NumEpochs: DeepBNEpochs, NumTrainSamples: expTrain, Seed: 4},
			i, 2, progress)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// SweepPoint is one weight scale of the initialisation sweep.
type SweepPoint struct {
	Scale                     float64
	BNVal, PlainVal           float64 // best validation accuracy
	BNTrain, PlainTrain       float64 // final training accuracy
	BNDiverged, PlainDiverged bool
}

// Sweep sizes: the notebook uses 20 scales and 10 epochs on 1000 images.
const (
	SweepPoints = 7
	SweepEpochs = 3
)

// SweepScales is logspace(-4, 0, SweepPoints), as np.logspace computes it.
func SweepScales() []float64 {
	s := make([]float64, SweepPoints)
	for i := range s {
		s[i] = math.Pow(10, -4+4*float64(i)/float64(SweepPoints-1))
	}
	return s
}

// RunScaleSweep trains the notebook's 8-layer net (7 hidden layers of 50)
// at each initial weight scale, with and without batchnorm.
func RunScaleSweep(ctx context.Context, progress progressFn) ([]SweepPoint, error) {
	d, err := expData()
	if err != nil {
		return nil, err
	}
	scales := SweepScales()
	out := make([]SweepPoint, len(scales))
	for i, sc := range scales {
		out[i].Scale = sc
		for j, norm := range []string{"batchnorm", "none"} {
			h, err := trainFC(ctx, d, norm,
				model.FCConfig{HiddenDims: []int{50, 50, 50, 50, 50, 50, 50}, InputDim: expInputDim, NumClasses: 10, Normalization: norm, WeightScale: sc, Seed: 5},
				model.SolverConfig{UpdateRule: "adam", Optim: optim.Config{LearningRate: 1e-3}, BatchSize: 50, NumEpochs: SweepEpochs, NumTrainSamples: expTrain, Seed: 6},
				2*i+j, 2*len(scales), progress)
			if err != nil {
				return nil, err
			}
			best, last := bestLast(h)
			if norm == "batchnorm" {
				out[i].BNVal, out[i].BNTrain, out[i].BNDiverged = best, last, h.Err != nil
			} else {
				out[i].PlainVal, out[i].PlainTrain, out[i].PlainDiverged = best, last, h.Err != nil
			}
		}
	}
	return out, nil
}

// bestLast is the best validation and the last training accuracy of a run.
func bestLast(h History) (best, last float64) {
	best, last = math.NaN(), math.NaN()
	for _, v := range h.ValAcc {
		if math.IsNaN(best) || v > best {
			best = v
		}
	}
	if n := len(h.TrainAcc); n > 0 {
		last = h.TrainAcc[n-1]
	}
	return best, last
}

// Dropout experiment sizes: the notebook trains 25 epochs on 500 CIFAR
// images with keep probability 0.25.
const (
	DropoutEpochs = 15
	DropoutP      = 0.75 // probability of DROPPING a hidden unit
	// DropoutLR is higher than the notebook's 5e-4 so that the net without
	// dropout overfits within the shorter run.
	DropoutLR = 2e-3
)

// RunDropoutReg trains a one-hidden-layer net of 500 units on the 500
// training images, without and with dropout.
func RunDropoutReg(ctx context.Context, progress progressFn) ([]History, error) {
	d, err := expData()
	if err != nil {
		return nil, err
	}
	var out []History
	for i, p := range []float64{0, DropoutP} {
		name := "no dropout"
		if p > 0 {
			name = "dropout p = 0.75"
		}
		h, err := trainFC(ctx, d, name,
			model.FCConfig{HiddenDims: []int{500}, InputDim: expInputDim, NumClasses: 10, Dropout: p, Seed: 7},
			model.SolverConfig{UpdateRule: "adam", Optim: optim.Config{LearningRate: DropoutLR}, BatchSize: 100, NumEpochs: DropoutEpochs, NumTrainSamples: expTrain, Seed: 8},
			i, 2, progress)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
