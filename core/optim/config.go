package optim

import (
	"fmt"
	"math"
	"sort"

	"gradlab/core/tensor"
)

// Config holds the hyper-parameters of every rule; each rule reads the
// fields it needs. A zero field means "the course default" (see Defaults),
// so Config{LearningRate: 1e-3} is a complete Adam configuration. The price
// is that an explicit zero momentum or beta1 cannot be asked for: use sgd or
// rmsprop for that.
type Config struct {
	LearningRate float64 // every rule; default 1e-2 (sgd, sgd_momentum, rmsprop), 1e-3 (adam, adamw)
	Momentum     float64 // sgd_momentum; default 0.9
	DecayRate    float64 // rmsprop's cache decay; default 0.99
	Beta1        float64 // adam, adamw; default 0.9
	Beta2        float64 // adam, adamw; default 0.999
	Epsilon      float64 // rmsprop, adam, adamw; default 1e-8
	WeightDecay  float64 // adamw's decoupled decay; default 1e-2 (PyTorch's)
}

// Rule updates one parameter tensor and owns that parameter's state.
type Rule interface {
	// Update moves w one step against dw, in place. On error (shape
	// mismatch, non-finite gradient) neither w nor the state changes.
	Update(w, dw *tensor.Tensor) error
	// LearningRate is the step size the next Update will use.
	LearningRate() float64
	// SetLearningRate is the hook learning-rate decay uses.
	SetLearningRate(lr float64) error
}

type factory func(Config) Rule

var rules = map[string]factory{
	"sgd":          func(c Config) Rule { return &SGD{lr: c.LearningRate} },
	"sgd_momentum": newSGDMomentum,
	"rmsprop":      newRMSProp,
	"adam":         func(c Config) Rule { return newAdam(c, false) },
	"adamw":        func(c Config) Rule { return newAdam(c, true) },
}

// Names lists the update rules New accepts, sorted.
func Names() []string {
	out := make([]string, 0, len(rules))
	for n := range rules {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Defaults returns cfg with every zero field replaced by the course default
// for the named rule. Unknown names get the sgd defaults.
func Defaults(name string, cfg Config) Config {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	lr := 1e-2
	if name == "adam" || name == "adamw" {
		lr = 1e-3
	}
	def(&cfg.LearningRate, lr)
	def(&cfg.Momentum, 0.9)
	def(&cfg.DecayRate, 0.99)
	def(&cfg.Beta1, 0.9)
	def(&cfg.Beta2, 0.999)
	def(&cfg.Epsilon, 1e-8)
	def(&cfg.WeightDecay, 1e-2)
	return cfg
}

// New returns a fresh rule (zero state) for one parameter. It validates the
// hyper-parameters after filling defaults: the learning rate must be positive
// and finite, momentum, decay rate and betas in [0, 1), epsilon positive and
// weight decay non-negative, all finite.
func New(name string, cfg Config) (Rule, error) {
	f, ok := rules[name]
	if !ok {
		return nil, fmt.Errorf("optim.New: unknown update rule %q (want one of %v)", name, Names())
	}
	cfg = Defaults(name, cfg)
	if err := validate(name, cfg); err != nil {
		return nil, err
	}
	return f(cfg), nil
}

func validate(name string, c Config) error {
	bad := func(field string, v float64, want string) error {
		return fmt.Errorf("optim.New(%s): %s = %v, want %s", name, field, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	unit := func(v float64) bool { return v >= 0 && v < 1 }
	if err := checkLR("optim.New("+name+")", c.LearningRate); err != nil {
		return err
	}
	switch {
	case !unit(c.Momentum):
		return bad("Momentum", c.Momentum, "a value in [0, 1)")
	case !unit(c.DecayRate):
		return bad("DecayRate", c.DecayRate, "a value in [0, 1)")
	case !unit(c.Beta1):
		return bad("Beta1", c.Beta1, "a value in [0, 1)")
	case !unit(c.Beta2):
		return bad("Beta2", c.Beta2, "a value in [0, 1)")
	case !(c.Epsilon > 0) || !finite(c.Epsilon):
		return bad("Epsilon", c.Epsilon, "a finite value > 0")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return bad("WeightDecay", c.WeightDecay, "a finite value >= 0")
	}
	return nil
}

func checkLR(op string, lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 1) {
		return fmt.Errorf("%s: learning rate %v, want a finite value > 0", op, lr)
	}
	return nil
}

// checkPair is the shared precondition of every Update: both tensors exist,
// shapes agree and the gradient is finite (a NaN step would destroy w and
// every later step with it).
func checkPair(op string, w, dw *tensor.Tensor) error {
	if w == nil || dw == nil {
		return tensor.Errorf(op, nil, "nil weight or gradient")
	}
	if !tensor.SameShape(w.Shape, dw.Shape) || len(w.Data) != len(dw.Data) {
		return tensor.Errorf(op, [][]int{w.Shape, dw.Shape}, "weight and gradient shapes differ")
	}
	if dw.HasNaN() {
		return tensor.Errorf(op, [][]int{dw.Shape}, "gradient has NaN or Inf")
	}
	return nil
}

// state returns s if it already matches w, or a zero tensor shaped like w.
// A shape change means the rule was reused for another parameter: an error.
func state(op string, s, w *tensor.Tensor) (*tensor.Tensor, error) {
	if s == nil {
		return tensor.ZerosLike(w), nil
	}
	if !tensor.SameShape(s.Shape, w.Shape) || len(s.Data) != len(w.Data) {
		return nil, tensor.Errorf(op, [][]int{w.Shape, s.Shape}, "state was built for another parameter shape")
	}
	return s, nil
}
