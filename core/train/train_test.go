package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"gradlab/core/data"
	"gradlab/core/net"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

func smallSetup(t *testing.T, lr float64, optimizer string) (*CPU, *data.Set, *data.Set, data.Normalizer) {
	t.Helper()
	all, err := data.Synthetic("syn", 600, 12, 12, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, val, err := all.Split(100, 2)
	if err != nil {
		t.Fatal(err)
	}
	mean, std := tr.Stats()
	ls, _ := net.Parse("conv 8 3 pad=1 nobias, bn, relu, pool 2, dropout 0.1, affine 10")
	n, err := net.New(net.Spec{Name: "tiny", C: 3, H: 12, W: 12, Classes: 10, Layers: ls}, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCPU(n, OptimConfig{Name: optimizer}, lr)
	if err != nil {
		t.Fatal(err)
	}
	return b, tr, val, data.Normalizer{Mean: mean, Std: std}
}

func TestCPUTrainingLearnsSyntheticColours(t *testing.T) {
	b, tr, val, nz := smallSetup(t, 0.05, "sgd_momentum")
	var reports int
	res, err := Run(context.Background(), b, tr, val, nz, Config{Epochs: 4, BatchSize: 25, LR: 0.05, Schedule: "step", Decay: 0.8, LossEvery: 5, Seed: 4}, func(p Progress) { reports++ })
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.Losses[0].Loss, res.Losses[len(res.Losses)-1].Loss
	if !(last < 0.6*first) {
		t.Fatalf("loss did not fall well below its start: %.3f -> %.3f", first, last)
	}
	if acc := res.Epochs[len(res.Epochs)-1].ValAcc; acc < 0.5 {
		t.Fatalf("validation accuracy %.2f, chance is 0.10", acc)
	}
	if len(res.Epochs) != 4 || res.Steps != 4*(500/25) || reports < len(res.Losses) {
		t.Fatalf("epochs %d steps %d reports %d", len(res.Epochs), res.Steps, reports)
	}
}

// poisoned turns the loss into NaN from a given step on, the way a too-large
// learning rate eventually does, so the stop-and-restore path is exercised
// deterministically.
type poisoned struct {
	*CPU
	steps, from int
}

func (p *poisoned) TrainStep(x []float32, l []int, b int, s uint32, lr float64) error {
	p.steps++
	err := p.CPU.TrainStep(x, l, b, s, lr)
	if p.steps >= p.from {
		for _, q := range p.Net.Params {
			q.Value.Data[0] = math.NaN()
		}
	}
	return err
}

func (p *poisoned) ReadLoss() (float64, error) {
	if p.steps >= p.from {
		return math.NaN(), nil
	}
	return p.CPU.ReadLoss()
}

// A failing step (here: NaN weights refused by the conv layer) also restores.
func TestFailedStepRestores(t *testing.T) {
	b, tr, val, nz := smallSetup(t, 0.05, "sgd")
	p := &poisoned{CPU: b, from: 2}
	_, err := Run(context.Background(), p, tr, val, nz, Config{Epochs: 1, BatchSize: 25, LR: 0.05, LossEvery: 10}, nil)
	if err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("want the conv layer's NaN error, got %v", err)
	}
	for _, q := range b.Net.Params {
		if q.Value.HasNaN() {
			t.Fatalf("%s holds NaN: not restored", q.Name)
		}
	}
}

func TestDivergenceStopsAndKeepsLastGoodWeights(t *testing.T) {
	b, tr, val, nz := smallSetup(t, 0.05, "sgd")
	p := &poisoned{CPU: b, from: 6}
	res, err := Run(context.Background(), p, tr, val, nz, Config{Epochs: 3, BatchSize: 25, LR: 0.05, LossEvery: 3}, nil)
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "step 6") {
		t.Fatalf("want ErrDiverged at the step-6 read-back, got %v", err)
	}
	if res == nil || res.Steps != 6 || len(res.Losses) != 1 {
		t.Fatalf("result so far: %+v", res)
	}
	for _, q := range b.Net.Params {
		if q.Value.HasNaN() {
			t.Fatalf("%s holds NaN after the stop: the last good weights were not kept", q.Name)
		}
	}
	x, _ := tensor.New(1, 3, 12, 12)
	if s, err := b.Net.Forward(x, nn.Test); err != nil || s.HasNaN() {
		t.Fatalf("the kept network does not predict: %v", err)
	}
}

func TestCancelStopsWithWeightsKept(t *testing.T) {
	b, tr, val, nz := smallSetup(t, 0.01, "adam")
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	res, err := Run(ctx, b, tr, val, nz, Config{Epochs: 5, BatchSize: 25, LR: 0.01, LossEvery: 1}, func(p Progress) {
		if steps = p.Step; steps == 3 {
			cancel()
		}
	})
	if err != nil || res.Stopped == "" || res.Steps != 3 {
		t.Fatalf("cancel: err %v stopped %q steps %d", err, res.Stopped, res.Steps)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{Epochs: 1, BatchSize: 8, LR: 0.1}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []Config{
		{Epochs: 0, BatchSize: 8, LR: 0.1},
		{Epochs: 1, BatchSize: 0, LR: 0.1},
		{Epochs: 1, BatchSize: 8, LR: 0},
		{Epochs: 1, BatchSize: 8, LR: math.NaN()},
		{Epochs: 1, BatchSize: 8, LR: 0.1, Schedule: "wobbly"},
		{Epochs: 1, BatchSize: 8, LR: 0.1, Schedule: "step", Decay: 0},
		{Epochs: 1, BatchSize: 8, LR: 0.1, MaxSteps: -1},
	}
	for _, c := range bad {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestSchedules(t *testing.T) {
	c := Config{LR: 1, Schedule: "step", Decay: 0.5}
	if got := c.LearningRate(25, 10, 100); got != 0.25 {
		t.Fatalf("step schedule after 2 epochs: %v", got)
	}
	c = Config{LR: 2, Schedule: "cosine"}
	if a, m, e := c.LearningRate(0, 10, 100), c.LearningRate(50, 10, 100), c.LearningRate(100, 10, 100); a != 2 || math.Abs(m-1) > 1e-12 || math.Abs(e) > 1e-12 {
		t.Fatalf("cosine: %v %v %v", a, m, e)
	}
}
