// Package optim holds the course's first-order update rules (sgd,
// sgd_momentum, rmsprop, adam) plus adamw, in float64.
//
// A Rule is created per parameter tensor because momentum, squared-gradient
// caches and Adam's moments are per-parameter state; the solver makes one
// with New for every entry of a model's parameter map. Update writes the new
// weights into w in place, so a model that hands out its own tensors from
// Params sees the step without any copying.
package optim
