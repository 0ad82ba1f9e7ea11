package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gradlab/core/optim"
	"gradlab/core/tensor"
)

// Data is a training set and a validation set; X has one sample per row of
// its first dimension and y one label per sample.
type Data struct {
	XTrain *tensor.Tensor
	YTrain []int
	XVal   *tensor.Tensor
	YVal   []int
}

// SolverConfig holds the training hyper-parameters. Zero fields take the
// course's defaults: UpdateRule "sgd", LRDecay 1 (none), BatchSize 100,
// NumEpochs 10, NumTrainSamples 1000; NumValSamples 0 means the whole
// validation set. Optim zero fields take the rule's defaults (optim.Defaults).
type SolverConfig struct {
	UpdateRule      string
	Optim           optim.Config
	LRDecay         float64 // every rule's learning rate is multiplied by this after each epoch; in (0, 1]
	BatchSize       int
	NumEpochs       int
	NumTrainSamples int // train accuracy is measured on a random subsample this big
	NumValSamples   int
	Seed            uint64 // shuffling and the train-accuracy subsample
	// Progress, when set, is called after every iteration and after every
	// accuracy check (EpochEnd true), on the training goroutine.
	Progress func(Progress)
}

// Progress reports where training is.
type Progress struct {
	Epoch         int // epochs completed
	NumEpochs     int
	Iteration     int // iterations completed
	NumIterations int
	Loss          float64 // loss of the latest minibatch (0 before the first)
	LearningRate  float64 // learning rate of the next update
	// EpochEnd marks an accuracy check: before training (Iteration 0) and
	// after every epoch; TrainAcc and ValAcc are set only then.
	EpochEnd         bool
	TrainAcc, ValAcc float64
}

// Solver trains a Model by minibatch gradient descent, as the course's
// Solver does: one update rule per parameter, learning-rate decay per epoch,
// accuracy checks before training and after every epoch, and the parameters
// with the best validation accuracy restored at the end.
type Solver struct {
	model Model
	data  Data
	cfg   SolverConfig
	rules map[string]optim.Rule
	names []string   // sorted parameter names, for a deterministic update order
	rng   *rand.Rand // minibatch shuffles
	// sample draws accuracy subsamples; separate from rng so that calling
	// Accuracy from outside cannot change which minibatches training sees.
	sample *rand.Rand
	ran    bool

	LossHistory     []float64 // one per iteration
	TrainAccHistory []float64 // index 0 is before training, then one per epoch
	ValAccHistory   []float64
	BestValAcc      float64
	// BestParams (and BestBuffers for a Buffered model) are copies taken at
	// the best validation check.
	BestParams  map[string]*tensor.Tensor
	BestBuffers map[string]*tensor.Tensor
}

// NewSolver validates the data and configuration and creates one update
// rule per model parameter.
func NewSolver(m Model, data Data, cfg SolverConfig) (*Solver, error) {
	const op = "model.NewSolver"
	if m == nil {
		return nil, tensor.Errorf(op, nil, "model is nil")
	}
	if cfg.UpdateRule == "" {
		cfg.UpdateRule = "sgd"
	}
	if cfg.LRDecay == 0 {
		cfg.LRDecay = 1
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.NumEpochs == 0 {
		cfg.NumEpochs = 10
	}
	if cfg.NumTrainSamples == 0 {
		cfg.NumTrainSamples = 1000
	}
	switch {
	case !(cfg.LRDecay > 0 && cfg.LRDecay <= 1):
		return nil, tensor.Errorf(op, nil, "lr decay = %v, want a value in (0, 1]", cfg.LRDecay)
	case cfg.BatchSize < 0 || cfg.NumEpochs < 0 || cfg.NumTrainSamples < 0 || cfg.NumValSamples < 0:
		return nil, tensor.Errorf(op, nil, "batch size %d, epochs %d and sample counts %d, %d must not be negative",
			cfg.BatchSize, cfg.NumEpochs, cfg.NumTrainSamples, cfg.NumValSamples)
	}
	for _, s := range []struct {
		name string
		X    *tensor.Tensor
		y    []int
	}{{"train", data.XTrain, data.YTrain}, {"validation", data.XVal, data.YVal}} {
		if s.X == nil {
			return nil, tensor.Errorf(op, nil, "%s X is nil", s.name)
		}
		if _, err := tensor.CheckShape(op, s.X.Shape); err != nil {
			return nil, err
		}
		if n, _ := s.X.Rows(); n != len(s.y) || len(s.X.Shape) < 2 {
			return nil, tensor.Errorf(op, [][]int{s.X.Shape}, "%s set: %d labels for %d samples (X must be (N, ...))", s.name, len(s.y), n)
		}
	}
	s := &Solver{model: m, data: data, cfg: cfg, rules: map[string]optim.Rule{}, rng: tensor.NewRand(cfg.Seed),
		sample: tensor.NewRand(cfg.Seed ^ 0x5bd1e995), BestValAcc: -1}
	for name := range m.Params() {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	for _, name := range s.names {
		r, err := optim.New(cfg.UpdateRule, cfg.Optim)
		if err != nil {
			return nil, err
		}
		s.rules[name] = r
	}
	return s, nil
}

// Rules returns the per-parameter update rules (for inspecting state).
func (s *Solver) Rules() map[string]optim.Rule { return s.rules }

// LearningRate is the rate the next update uses.
func (s *Solver) LearningRate() float64 {
	for _, r := range s.rules {
		return r.LearningRate()
	}
	return 0
}

// Train runs NumEpochs epochs of ceil(N/BatchSize) iterations over a fresh
// seeded shuffle of the training set each epoch, then restores the best
// validation parameters. It can run once per Solver.
//
// If a loss or gradient is NaN or Inf, or the model returns an error,
// training stops before that update and Train returns an error: the model
// keeps the last good parameters (BestParams still holds the best ones; see
// RestoreBest). A cancelled ctx stops training the same way.
func (s *Solver) Train(ctx context.Context) error {
	const op = "model.Solver.Train"
	if s.ran {
		return tensor.Errorf(op, nil, "this solver has already trained; make a new one")
	}
	s.ran = true
	n, _ := s.data.XTrain.Rows()
	perEpoch := (n + s.cfg.BatchSize - 1) / s.cfg.BatchSize
	total := perEpoch * s.cfg.NumEpochs
	stepper, _ := s.model.(Stepper)
	it := 0
	report := func(p Progress) {
		if s.cfg.Progress != nil {
			p.NumEpochs, p.NumIterations, p.Iteration = s.cfg.NumEpochs, total, it
			p.LearningRate = s.LearningRate()
			s.cfg.Progress(p)
		}
	}
	if err := s.check(0, report); err != nil {
		return err
	}
	for epoch := 1; epoch <= s.cfg.NumEpochs; epoch++ {
		perm := s.rng.Perm(n)
		for b := 0; b < perEpoch; b++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := perm[b*s.cfg.BatchSize : min((b+1)*s.cfg.BatchSize, n)]
			X, y := gatherRows(s.data.XTrain, s.data.YTrain, idx)
			if stepper != nil {
				stepper.SetStep(uint32(it))
			}
			loss, grads, err := s.model.Loss(X, y)
			if err == nil {
				err = s.checkFinite(loss, grads)
			}
			if err != nil {
				return fmt.Errorf("%s: iteration %d: %w; stopped with the last good parameters", op, it+1, err)
			}
			params := s.model.Params()
			for _, name := range s.names {
				if err := s.rules[name].Update(params[name], grads[name]); err != nil {
					return fmt.Errorf("%s: iteration %d, parameter %s: %w", op, it+1, name, err)
				}
			}
			it++
			s.LossHistory = append(s.LossHistory, loss)
			report(Progress{Epoch: epoch - 1, Loss: loss})
		}
		for _, name := range s.names {
			r := s.rules[name]
			if err := r.SetLearningRate(r.LearningRate() * s.cfg.LRDecay); err != nil {
				return fmt.Errorf("%s: epoch %d: %w", op, epoch, err)
			}
		}
		if err := s.check(epoch, report); err != nil {
			return err
		}
	}
	s.RestoreBest()
	return nil
}

// checkFinite refuses a step whose loss or any gradient is NaN or Inf, and
// a gradient map that lacks a parameter, before any parameter has moved.
func (s *Solver) checkFinite(loss float64, grads map[string]*tensor.Tensor) error {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("loss is %v", loss)
	}
	for _, name := range s.names {
		g := grads[name]
		if g == nil {
			return fmt.Errorf("no gradient for parameter %s", name)
		}
		if g.HasNaN() {
			return fmt.Errorf("gradient of %s has NaN or Inf", name)
		}
	}
	return nil
}

// check records train and validation accuracy after epoch epochs and keeps
// a copy of the parameters if validation accuracy is the best so far.
func (s *Solver) check(epoch int, report func(Progress)) error {
	train, err := s.Accuracy(s.data.XTrain, s.data.YTrain, s.cfg.NumTrainSamples)
	if err != nil {
		return fmt.Errorf("model.Solver.Train: train accuracy after epoch %d: %w", epoch, err)
	}
	val, err := s.Accuracy(s.data.XVal, s.data.YVal, s.cfg.NumValSamples)
	if err != nil {
		return fmt.Errorf("model.Solver.Train: validation accuracy after epoch %d: %w", epoch, err)
	}
	s.TrainAccHistory = append(s.TrainAccHistory, train)
	s.ValAccHistory = append(s.ValAccHistory, val)
	if val > s.BestValAcc {
		s.BestValAcc = val
		s.BestParams = cloneMap(s.model.Params())
		if b, ok := s.model.(Buffered); ok {
			s.BestBuffers = cloneMap(b.Buffers())
		}
	}
	last := 0.0
	if len(s.LossHistory) > 0 {
		last = s.LossHistory[len(s.LossHistory)-1]
	}
	report(Progress{Epoch: epoch, Loss: last, EpochEnd: true, TrainAcc: train, ValAcc: val})
	return nil
}

// RestoreBest copies BestParams (and BestBuffers) back into the model's own
// tensors, so references to them stay valid.
func (s *Solver) RestoreBest() {
	copyInto(s.model.Params(), s.BestParams)
	if b, ok := s.model.(Buffered); ok {
		copyInto(b.Buffers(), s.BestBuffers)
	}
}

// Accuracy is the fraction of samples whose highest test-time score is the
// label. With 0 < numSamples < N it uses a random subsample of that size
// (drawn from a seeded generator of its own); scores are computed in batches
// of BatchSize.
func (s *Solver) Accuracy(X *tensor.Tensor, y []int, numSamples int) (float64, error) {
	n, _ := X.Rows()
	if n != len(y) {
		return 0, tensor.Errorf("model.Solver.Accuracy", [][]int{X.Shape}, "%d labels for %d samples", len(y), n)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if numSamples > 0 && numSamples < n {
		idx = s.sample.Perm(n)[:numSamples]
	}
	correct := 0
	for lo := 0; lo < len(idx); lo += s.cfg.BatchSize {
		bx, by := gatherRows(X, y, idx[lo:min(lo+s.cfg.BatchSize, len(idx))])
		scores, err := s.model.Scores(bx)
		if err != nil {
			return 0, err
		}
		_, c := scores.Rows()
		for i, label := range by {
			row := scores.Data[i*c : (i+1)*c]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			if best == label {
				correct++
			}
		}
	}
	return float64(correct) / float64(len(idx)), nil
}

// gatherRows copies the rows idx of X (and their labels) into a new batch.
func gatherRows(X *tensor.Tensor, y []int, idx []int) (*tensor.Tensor, []int) {
	_, d := X.Rows()
	shape := append([]int{len(idx)}, X.Shape[1:]...)
	out := tensor.MustNew(shape...)
	labels := make([]int, len(idx))
	for i, k := range idx {
		copy(out.Data[i*d:(i+1)*d], X.Data[k*d:(k+1)*d])
		labels[i] = y[k]
	}
	return out, labels
}

func cloneMap(m map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	out := make(map[string]*tensor.Tensor, len(m))
	for k, v := range m {
		out[k] = v.Clone()
	}
	return out
}

func copyInto(dst, src map[string]*tensor.Tensor) {
	for k, v := range src {
		if d, ok := dst[k]; ok && len(d.Data) == len(v.Data) {
			copy(d.Data, v.Data)
		}
	}
}
