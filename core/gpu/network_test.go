package gpu

import (
	"bytes"
	"math"
	"testing"

	"gradlab/core/net"
	"gradlab/core/tensor"
	"gradlab/core/train"
)

// twins builds the same network twice from one seed: a float64 CPU net
// trained by core/train's CPU backend, and a GPU network.
func twins(t *testing.T, d *Device, spec net.Spec, opt string) (*train.CPU, *Network) {
	t.Helper()
	a, err := net.New(spec, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := net.New(spec, 5)
	cpu, err := train.NewCPU(a, train.OptimConfig{Name: opt, Momentum: 0.9}, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewNetwork(d, b, Optimizer{Name: opt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Release)
	return cpu, g
}

// netBatch draws a batch of normalised-looking images and labels.
func netBatch(spec net.Spec, n int, seed uint64) ([]float32, []int) {
	r := tensor.NewRand(seed)
	x := make([]float32, n*spec.C*spec.H*spec.W)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	y := make([]int, n)
	for i := range y {
		y[i] = r.IntN(spec.Classes)
	}
	return x, y
}

// The whole-step tolerance. Every op is within its own f32 bound (see the
// per-op tests); a step chains about twenty of them forward and back, with
// dot products of length up to C*9 = 576 (γ_576 ≈ 3.4e-5 worst case) and
// batchnorm dividing by per-channel spreads. Parameter updates are compared
// relative to the largest update of the same tensor, so a tensor whose
// gradient is all rounding noise cannot pass or fail on its own scale.
// Seen on lavapipe: at most 5.6e-5.
const stepTol = 5e-4

func compareNets(t *testing.T, what string, before *net.Net, cpu *net.Net, g *Network) {
	t.Helper()
	gn, err := g.Download()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range cpu.Params {
		w0, wc, wg := before.Params[i].Value.Data, p.Value.Data, gn.Params[i].Value.Data
		scale, worst := 0.0, 0.0
		for j := range w0 {
			scale = math.Max(scale, math.Abs(wc[j]-w0[j]))
		}
		for j := range w0 {
			worst = math.Max(worst, math.Abs((wg[j]-w0[j])-(wc[j]-w0[j])))
		}
		if scale == 0 {
			t.Fatalf("%s: %s did not move on the CPU", what, p.Name)
		}
		if worst/scale > stepTol || math.IsNaN(worst) {
			t.Errorf("%s: %s update differs by %.2e of its largest update (tolerance %.0e)", what, p.Name, worst/scale, stepTol)
		}
	}
	for i, bp := range cpu.BN {
		if bp == nil {
			continue
		}
		for k, pair := range [][2][]float64{{bp.RunningMean.Data, gn.BN[i].RunningMean.Data}, {bp.RunningVar.Data, gn.BN[i].RunningVar.Data}} {
			for j := range pair[0] {
				if d := math.Abs(pair[0][j] - pair[1][j]); d > 1e-4*(1+math.Abs(pair[0][j])) {
					t.Errorf("%s: layer %d running stat %d[%d]: cpu %v gpu %v", what, i, k, j, pair[0][j], pair[1][j])
					break
				}
			}
		}
	}
}

func stepBoth(t *testing.T, cpu *train.CPU, g *Network, x []float32, y []int, step uint32, lr float64) {
	t.Helper()
	if err := cpu.TrainStep(x, y, len(y), step, lr); err != nil {
		t.Fatal(err)
	}
	if err := g.TrainStep(x, y, len(y), step, lr); err != nil {
		t.Fatal(err)
	}
	lc, _ := cpu.ReadLoss()
	lg, err := g.ReadLoss()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lc-lg) > 1e-4*math.Max(1, lc) {
		t.Fatalf("step %d loss: cpu %.7f gpu %.7f", step, lc, lg)
	}
}

// The reference CNN's whole training step (conv, batchnorm, relu, pools,
// dropout, affine, softmax cross-entropy, SGD momentum) on the GPU equals
// the float64 CPU step within the stated tolerance, for three steps so the
// momentum buffers and dropout masks of different steps are exercised.
func TestNetworkReferenceCNNStepMatchesCPU(t *testing.T) {
	d := device(t)
	spec := net.ReferenceCNN(3, 16, 16, 10, true, 0.5)
	cpu, g := twins(t, d, spec, "sgd_momentum")
	before, _ := net.New(spec, 5)
	for step := uint32(0); step < 3; step++ {
		x, y := netBatch(spec, 4, uint64(step)+1)
		stepBoth(t, cpu, g, x, y, step, 0.05)
		if step == 0 {
			compareNets(t, "reference CNN step 1", before, cpu.Net, g)
		}
	}
	compareNets(t, "reference CNN after 3 steps", before, cpu.Net, g)
}

// Odd shapes, a stride-2 conv with biases, spatial dropout, 1-D batchnorm
// after an affine layer, an affine layer without bias, and Adam(W).
func TestNetworkOddStackMatchesCPU(t *testing.T) {
	d := device(t)
	ls, err := net.Parse("conv 5 3 stride=2 pad=1, relu, sdrop 0.3, conv 7 5 pad=2 nobias, bn, relu, pool 3 stride=2, dropout 0.2, affine 9 nobias, bn, relu, affine 3")
	if err != nil {
		t.Fatal(err)
	}
	spec := net.Spec{Name: "odd", C: 3, H: 13, W: 11, Classes: 3, Layers: ls}
	for _, opt := range []string{"adam", "adamw", "sgd"} {
		cpu, g := twins(t, d, spec, opt)
		before, _ := net.New(spec, 5)
		for step := uint32(0); step < 2; step++ {
			x, y := netBatch(spec, 5, uint64(step)+7)
			stepBoth(t, cpu, g, x, y, step, 0.01)
		}
		compareNets(t, "odd stack "+opt, before, cpu.Net, g)
	}
}

// Prediction (test mode: running statistics, no dropout) agrees with the CPU,
// and Snapshot/Restore round-trips through the weights format.
func TestNetworkPredictSnapshotRestore(t *testing.T) {
	d := device(t)
	spec := net.ReferenceCNN(1, 12, 12, 10, true, 0.5)
	cpu, g := twins(t, d, spec, "sgd_momentum")
	x, y := netBatch(spec, 6, 3)
	stepBoth(t, cpu, g, x, y, 0, 0.05)
	snap, err := g.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := cpu.Predict(x, 6)
	scores, err := g.Scores(x, 6)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := cpu.Net.Forward(mustTensor(t, x, 6, 1, 12, 12), 1)
	if e := maxRel(scores.Data, cs.Data); e > stepTol {
		t.Fatalf("test-mode scores differ by %.2e", e)
	}
	pg, err := g.Predict(x, 6)
	if err != nil {
		t.Fatal(err)
	}
	agree := 0
	for i := range pc {
		if pc[i] == pg[i] {
			agree++
		}
	}
	if agree < 5 { // a near-tie may flip under f32; more than one flip is a bug
		t.Fatalf("predictions cpu %v gpu %v", pc, pg)
	}
	// Train on, then restore: the weights are those of the snapshot again.
	stepBoth(t, cpu, g, x, y, 1, 0.05)
	if err := g.Restore(snap); err != nil {
		t.Fatal(err)
	}
	again, _ := g.Snapshot()
	if !bytes.Equal(snap, again) {
		t.Fatal("restore did not bring back the snapshot's weights")
	}
	other, _ := net.New(net.ReferenceCNN(1, 12, 12, 10, false, 0.5), 1)
	var wrong bytes.Buffer
	other.Save(&wrong)
	if err := g.Restore(wrong.Bytes()); err == nil {
		t.Fatal("weights of another architecture were restored")
	}
}

func TestNetworkRejectsBadInput(t *testing.T) {
	d := device(t)
	spec := net.ReferenceCNN(1, 12, 12, 10, true, 0.5)
	n, _ := net.New(spec, 1)
	if _, err := NewNetwork(d, n, Optimizer{Name: "rmsprop"}); err == nil {
		t.Fatal("rmsprop has no GPU kernel and must be refused")
	}
	if _, err := NewNetwork(d, n, Optimizer{Name: "sgd_momentum", Momentum: 1.5}); err == nil {
		t.Fatal("momentum 1.5 accepted")
	}
	g, err := NewNetwork(d, n, Optimizer{Name: "sgd"})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Release()
	x, y := netBatch(spec, 2, 1)
	if err := g.TrainStep(x, []int{0, 10}, 2, 0, 0.1); err == nil {
		t.Fatal("label 10 of 10 classes accepted")
	}
	if err := g.TrainStep(x[:10], y, 2, 0, 0.1); err == nil {
		t.Fatal("short batch accepted")
	}
	if err := g.TrainStep(x, y, 2, 0, math.NaN()); err == nil {
		t.Fatal("NaN learning rate accepted")
	}
	if _, err := g.ReadLoss(); err == nil {
		t.Fatal("ReadLoss before any step succeeded")
	}
}

func mustTensor(t *testing.T, x []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	v, err := tensor.FromFloat32(x, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func maxRel(a, b []float64) float64 {
	scale, worst := 0.0, 0.0
	for i := range a {
		scale = math.Max(scale, math.Abs(b[i]))
		worst = math.Max(worst, math.Abs(a[i]-b[i]))
	}
	return worst / math.Max(scale, 1e-30)
}
