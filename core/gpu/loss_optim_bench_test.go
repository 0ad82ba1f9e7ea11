package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSoftmaxCrossEntropy times the loss and its gradient for the
// reference CNN's batch sizes (C = 10), recorded and completed, reporting
// rows per second.
func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	d := device(b)
	for _, n := range []int{128, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, uint64(n)))
			s, y := lossInputs(r, lossCase{n, 10, 3})
			scores := upload(b, d, s, n, 10)
			labels := uploadLabels(b, d, y, 10)
			defer scores.Release()
			defer labels.Release()
			for b.Loop() {
				loss, ds, err := d.SoftmaxCrossEntropy(scores, labels)
				if err != nil {
					b.Fatal(err)
				}
				if err := d.Sync(); err != nil {
					b.Fatal(err)
				}
				release(loss, ds)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkOptimUpdate times one in-place update of a 2^20-element
// parameter with each rule; plain SGD is the baseline (it moves the least
// memory: Adam reads 4 and writes 3 arrays, SGD reads 2 and writes 1).
// Reports GB/s of array traffic.
func BenchmarkOptimUpdate(b *testing.B) {
	d := device(b)
	const n = 1 << 20
	r := rand.New(rand.NewPCG(2, 2))
	w := upload(b, d, randF32(r, n), n)
	g := upload(b, d, randF32(r, n), n)
	m, v := zeros(b, d, n), zeros(b, d, n)
	defer release(w, g, m, v)
	rules := []struct {
		name   string
		arrays int // arrays read + written per element
		step   func(t int) error
	}{
		{"sgd", 3, func(int) error { return d.SGDUpdate(w, g, 1e-3) }},
		{"sgd_momentum", 5, func(int) error { return d.SGDMomentumUpdate(w, g, m, 1e-3, 0.9) }},
		{"adam", 7, func(t int) error { return d.AdamUpdate(w, g, m, v, 1e-3, 0.9, 0.999, 1e-8, t, 0) }},
	}
	for _, rule := range rules {
		b.Run(rule.name, func(b *testing.B) {
			t := 0
			for b.Loop() {
				t++
				if err := rule.step(t); err != nil {
					b.Fatal(err)
				}
				if err := d.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rule.arrays)*4*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
