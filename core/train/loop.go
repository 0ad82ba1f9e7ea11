package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gradlab/core/data"
)

// Config is one training run.
type Config struct {
	Epochs    int
	BatchSize int
	LR        float64
	// Schedule is "constant", "step" (multiply by Decay after every epoch)
	// or "cosine" (from LR down to 0 over the run).
	Schedule string
	Decay    float64
	// LossEvery is how often (in steps) the loss is read back; reading it
	// makes the CPU wait for the GPU, so it is not done every step.
	LossEvery int
	// MaxSteps stops early (0: run all epochs). CI trains a few hundred steps.
	MaxSteps int
	Seed     uint64
	// EvalLimit caps how many train/validation images are scored per epoch
	// (0: all validation images and up to 10k training images).
	EvalLimit int
	// Yield, if set, is called after every step: the browser uses it to give
	// the page a chance to draw.
	Yield func()
}

// Validate checks the hyper-parameters, with messages a learner can act on.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 1 || c.Epochs > 1000:
		return fmt.Errorf("epochs must be in 1..1000, got %d", c.Epochs)
	case c.BatchSize < 1 || c.BatchSize > 8192:
		return fmt.Errorf("batch size must be in 1..8192, got %d", c.BatchSize)
	case !(c.LR > 0 && c.LR <= 10):
		return fmt.Errorf("learning rate must be in (0, 10], got %v", c.LR)
	case c.Schedule != "" && c.Schedule != "constant" && c.Schedule != "step" && c.Schedule != "cosine":
		return fmt.Errorf("schedule must be constant, step or cosine, got %q", c.Schedule)
	case c.Schedule == "step" && !(c.Decay > 0 && c.Decay <= 1):
		return fmt.Errorf("step decay must be in (0, 1], got %v", c.Decay)
	case c.LossEvery < 0 || c.MaxSteps < 0 || c.EvalLimit < 0:
		return fmt.Errorf("loss interval, step limit and evaluation limit cannot be negative")
	}
	return nil
}

// LearningRate is the schedule's rate at a step.
func (c Config) LearningRate(step, stepsPerEpoch, totalSteps int) float64 {
	switch c.Schedule {
	case "step":
		return c.LR * math.Pow(c.Decay, float64(step/max(1, stepsPerEpoch)))
	case "cosine":
		return c.LR * 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(max(1, totalSteps))))
	default:
		return c.LR
	}
}

// Progress is reported after every loss read-back and every epoch.
type Progress struct {
	Epoch, Epochs   int
	Step, Steps     int
	Loss            float64
	LR              float64
	ImagesPerSecond float64
	Ended           *EpochStats // set when an epoch just ended
}

// EpochStats is one row of the learning curve.
type EpochStats struct {
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"`
	Loss     float64 `json:"loss"`
	TrainAcc float64 `json:"train_acc"`
	ValAcc   float64 `json:"val_acc"`
	Seconds  float64 `json:"seconds"`
}

// LossPoint is one read-back loss.
type LossPoint struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
}

// Result is the whole run.
type Result struct {
	Device          string       `json:"device"`
	Epochs          []EpochStats `json:"epochs"`
	Losses          []LossPoint  `json:"losses"`
	Steps           int          `json:"steps"`
	Seconds         float64      `json:"seconds"`
	ImagesPerSecond float64      `json:"images_per_second"`
	// Stopped says why the run ended early ("" when it ran to the end).
	Stopped string `json:"stopped,omitempty"`
}

// ErrDiverged is wrapped by Run's error when the loss became NaN or Inf.
var ErrDiverged = errors.New("training diverged")

// Run trains b on train, scoring val after each epoch. On NaN or Inf loss it
// restores the last weights that gave a finite loss and returns the result so
// far with an error wrapping ErrDiverged. Cancelling ctx stops after the
// current step, keeping the weights.
func Run(ctx context.Context, b Backend, trainSet, val *data.Set, nz data.Normalizer, cfg Config, progress func(Progress)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if trainSet.N < cfg.BatchSize {
		return nil, fmt.Errorf("the training set has %d images, fewer than one batch of %d", trainSet.N, cfg.BatchSize)
	}
	if cfg.LossEvery == 0 {
		cfg.LossEvery = 20
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	d := trainSet.ImageSize()
	x := make([]float32, cfg.BatchSize*d)
	labels := make([]int, cfg.BatchSize)
	stepsPerEpoch := trainSet.N / cfg.BatchSize
	total := stepsPerEpoch * cfg.Epochs
	if cfg.MaxSteps > 0 && cfg.MaxSteps < total {
		total = cfg.MaxSteps
	}
	res := &Result{Device: b.Describe()}
	good, err := b.Snapshot()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	lastT, lastStep := start, 0
	step := 0
	epochLoss := math.NaN()
	for epoch := 1; epoch <= cfg.Epochs && step < total; epoch++ {
		perm := data.Permutation(trainSet.N, cfg.Seed+uint64(epoch))
		for _, idx := range data.Batches(perm, cfg.BatchSize, true) {
			if step >= total {
				break
			}
			if err := ctx.Err(); err != nil {
				res.Stopped = "stopped by the user"
				return finish(res, step, cfg.BatchSize, start), nil
			}
			if err := trainSet.BatchInto(x, labels, idx, nz); err != nil {
				return nil, err
			}
			lr := cfg.LearningRate(step, stepsPerEpoch, total)
			if err := b.TrainStep(x, labels, len(idx), uint32(step), lr); err != nil {
				if rerr := b.Restore(good); rerr != nil {
					return nil, fmt.Errorf("step %d: %v; restoring the last good weights also failed: %w", step, err, rerr)
				}
				res.Stopped = fmt.Sprintf("step %d failed: %v", step, err)
				return finish(res, step, cfg.BatchSize, start), fmt.Errorf("step %d: %w", step, err)
			}
			step++
			if step%cfg.LossEvery == 0 || step == total || step%stepsPerEpoch == 0 {
				loss, err := b.ReadLoss()
				if err != nil {
					return nil, err
				}
				if math.IsNaN(loss) || math.IsInf(loss, 0) {
					if rerr := b.Restore(good); rerr != nil {
						return nil, fmt.Errorf("loss is %v at step %d and restoring failed: %w", loss, step, rerr)
					}
					res.Stopped = fmt.Sprintf("the loss became %v at step %d; the weights from the last finite loss were kept (try a lower learning rate)", loss, step)
					return finish(res, step, cfg.BatchSize, start), fmt.Errorf("%w: %s", ErrDiverged, res.Stopped)
				}
				if good, err = b.Snapshot(); err != nil {
					return nil, err
				}
				epochLoss = loss
				res.Losses = append(res.Losses, LossPoint{Step: step, Loss: loss})
				now := time.Now()
				ips := float64((step-lastStep)*cfg.BatchSize) / max(now.Sub(lastT).Seconds(), 1e-9)
				lastT, lastStep = now, step
				progress(Progress{Epoch: epoch, Epochs: cfg.Epochs, Step: step, Steps: total, Loss: loss, LR: lr, ImagesPerSecond: ips})
			}
			if cfg.Yield != nil {
				cfg.Yield()
			}
		}
		es := EpochStats{Epoch: epoch, Step: step, Loss: epochLoss, Seconds: time.Since(start).Seconds()}
		limit := cfg.EvalLimit
		if es.TrainAcc, err = Accuracy(b, trainSet, nz, cfg.BatchSize, min(trainSet.N, nonZero(limit, 10000))); err != nil {
			return nil, err
		}
		if val != nil {
			if es.ValAcc, err = Accuracy(b, val, nz, cfg.BatchSize, min(val.N, nonZero(limit, val.N))); err != nil {
				return nil, err
			}
		}
		res.Epochs = append(res.Epochs, es)
		progress(Progress{Epoch: epoch, Epochs: cfg.Epochs, Step: step, Steps: total, Loss: epochLoss, Ended: &es})
	}
	return finish(res, step, cfg.BatchSize, start), nil
}

func nonZero(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func finish(r *Result, steps, batch int, start time.Time) *Result {
	r.Steps = steps
	r.Seconds = time.Since(start).Seconds()
	r.ImagesPerSecond = float64(steps*batch) / max(r.Seconds, 1e-9)
	return r
}

// Accuracy scores the first n images of s in test mode.
func Accuracy(b Backend, s *data.Set, nz data.Normalizer, batch, n int) (float64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("accuracy of no images")
	}
	d := s.ImageSize()
	x := make([]float32, batch*d)
	labels := make([]int, batch)
	correct := 0
	for i := 0; i < n; i += batch {
		m := min(batch, n-i)
		idx := make([]int, m)
		for j := range idx {
			idx[j] = i + j
		}
		if err := s.BatchInto(x[:m*d], labels[:m], idx, nz); err != nil {
			return 0, err
		}
		pred, err := b.Predict(x[:m*d], m)
		if err != nil {
			return 0, err
		}
		for j, p := range pred {
			if p == labels[j] {
				correct++
			}
		}
	}
	return float64(correct) / float64(n), nil
}
