package optim

// AdamW (Loshchilov & Hutter) is Adam with the weight decay taken out of the
// gradient: w -= lr*(adam_step + wd*w). Folding wd into dw instead (L2 in the
// loss) would have the decay divided by sqrt(v) like every other gradient
// component, so heavily-updated weights would barely decay; decoupling keeps
// the shrink rate the same for every weight. The decay uses w before the step,
// which is also what PyTorch's AdamW does (it decays first, and the Adam step
// does not depend on w).
//
// AdamW shares Adam's type and state; New("adamw", cfg) sets its decay.
type AdamW = Adam
