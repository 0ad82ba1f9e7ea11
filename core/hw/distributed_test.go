package hw

import (
	"math"
	"testing"
)

func TestSimulationMatchesFormulas(t *testing.T) {
	net := NetModel{Latency: 1e-3, Bandwidth: 1e6, BytesPerParam: 4}
	for _, c := range []struct{ n, p int }{{1, 3}, {2, 4}, {3, 6}, {4, 8}, {5, 40}, {8, 24}} {
		f, err := CommFormulas(c.n, c.p, net)
		if err != nil {
			t.Fatal(err)
		}
		g, err := RandomGradients(c.n, c.p, uint64(c.n))
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range Schemes {
			r, err := Simulate(s, g, net)
			if err != nil {
				t.Fatal(err)
			}
			want := f[k]
			if want.Scheme != s || int64(r.Messages) != want.Messages {
				t.Errorf("n=%d p=%d %s: %d messages, formula %d", c.n, c.p, s, r.Messages, want.Messages)
			}
			if r.Messages > 0 && (len(r.MessageSizes) != 1 || int64(r.MessageSizes[0]) != want.MessageSize) {
				t.Errorf("n=%d p=%d %s: sizes %v, formula %d", c.n, c.p, s, r.MessageSizes, want.MessageSize)
			}
			maxSent := int64(0)
			for _, v := range r.SentParams {
				maxSent = max(maxSent, v)
			}
			if maxSent != want.MaxSent || r.Rounds != want.Rounds {
				t.Errorf("n=%d p=%d %s: max sent %d rounds %d, formula %d %d", c.n, c.p, s, maxSent, r.Rounds, want.MaxSent, want.Rounds)
			}
			if math.Abs(r.Time-want.Time) > 1e-12*want.Time {
				t.Errorf("n=%d p=%d %s: time %v from the log, formula %v", c.n, c.p, s, r.Time, want.Time)
			}
			if !r.WithinBound || !r.Identical {
				t.Errorf("n=%d p=%d %s: max error %v (bound %v), identical %v", c.n, c.p, s, r.MaxAbsErr, r.ErrBound, r.Identical)
			}
			if len(r.Averaged) != c.n {
				t.Errorf("%s: %d worker results", s, len(r.Averaged))
			}
		}
	}
}

// Summation order matters when magnitudes differ wildly; the bound must
// still hold, and must be non-trivial (a wrong average would exceed it).
func TestSimulationIllConditioned(t *testing.T) {
	n, p := 6, 12
	g, _ := RandomGradients(n, p, 5)
	for i := range g {
		for j := range g[i] {
			g[i][j] *= math.Pow(10, float64((i*7+j)%17-8))
		}
	}
	for _, s := range Schemes {
		r, err := Simulate(s, g, DefaultNet)
		if err != nil {
			t.Fatal(err)
		}
		if !r.WithinBound {
			t.Errorf("%s: max error %v exceeds bound %v", s, r.MaxAbsErr, r.ErrBound)
		}
	}
	// Dropping one worker's gradient must be caught by the same check.
	bad := make([][]float64, n)
	for i := range bad {
		bad[i] = g[0]
	}
	r, _ := Simulate(RingAllReduce, g, DefaultNet)
	wrong, _ := Simulate(RingAllReduce, bad, DefaultNet)
	for j := range wrong.Averaged[0] {
		r.Averaged[0][j] = wrong.Averaged[0][j]
	}
	mean, bounds := exactMean(g)
	caught := false
	for j, v := range r.Averaged[0] {
		if math.Abs(v-mean[j]) > bounds[j] {
			caught = true
		}
	}
	if !caught {
		t.Error("a wrong average passes the bound")
	}
}

func TestRingTrace(t *testing.T) {
	n, p := 4, 8
	g, _ := RandomGradients(n, p, 2)
	r, err := Simulate(RingAllReduce, g, DefaultNet)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ring) != 2*(n-1) {
		t.Fatalf("%d steps", len(r.Ring))
	}
	for k, st := range r.Ring {
		if len(st.Sends) != n {
			t.Errorf("step %d: %d sends", k, len(st.Sends))
		}
		seen := map[int]bool{}
		for _, m := range st.Sends {
			if m.To != (m.From+1)%n || seen[m.From] {
				t.Errorf("step %d: send %+v", k, m)
			}
			seen[m.From] = true
		}
		// During reduce-scatter the chunk worker w just received, w-1-k,
		// carries the gradients of workers w-1-k .. w: k+2 of them.
		if k < n-1 {
			for w, row := range st.Summed {
				if c := ((w-1-k)%n + n) % n; row[c] != k+2 {
					t.Errorf("step %d: worker %d chunk %d holds %d gradients, want %d", k, w, c, row[c], k+2)
				}
			}
		}
	}
	if st := r.Ring[n-2]; st.Phase != "reduce-scatter" || r.Ring[n-1].Phase != "all-gather" {
		t.Errorf("phases %q %q", st.Phase, r.Ring[n-1].Phase)
	}
	for w, row := range r.Ring[len(r.Ring)-1].Summed {
		for c, v := range row {
			if v != n {
				t.Errorf("worker %d chunk %d holds %d gradients at the end", w, c, v)
			}
		}
	}
	for w, b := range r.SentBytes {
		if b != int64(2*(n-1)*(p/n)*DefaultNet.BytesPerParam) {
			t.Errorf("worker %d sent %d bytes", w, b)
		}
	}
}

func TestDistributedErrors(t *testing.T) {
	g, _ := RandomGradients(3, 6, 1)
	ragged := [][]float64{{1, 2, 3}, {1, 2}, {1, 2, 3}}
	nan := [][]float64{{1, math.NaN()}, {1, 2}}
	bad := []func() error{
		func() error { _, err := CommFormulas(3, 7, DefaultNet); return err },
		func() error { _, err := CommFormulas(0, 6, DefaultNet); return err },
		func() error { _, err := CommFormulas(2, -2, DefaultNet); return err },
		func() error { _, err := CommFormulas(2, 2, NetModel{Bandwidth: 0, BytesPerParam: 4}); return err },
		func() error {
			_, err := CommFormulas(2, 2, NetModel{Latency: -1, Bandwidth: 1, BytesPerParam: 4})
			return err
		},
		func() error { _, err := RandomGradients(4, 6, 1); return err },
		func() error { _, err := RandomGradients(1024, 1<<20, 1); return err },
		func() error { _, err := Simulate(Scheme(9), g, DefaultNet); return err },
		func() error { _, err := Simulate(AllToAll, nil, DefaultNet); return err },
		func() error { _, err := Simulate(AllToAll, ragged, DefaultNet); return err },
		func() error { _, err := Simulate(RingAllReduce, nan, DefaultNet); return err },
		func() error {
			_, err := Simulate(RingAllReduce, [][]float64{{1, 2, 3}, {4, 5, 6}}, DefaultNet)
			return err
		},
		func() error { _, err := Simulate(RingAllReduce, g, NetModel{}); return err },
	}
	for i, f := range bad {
		if err := f(); err == nil {
			t.Errorf("case %d: no error", i)
		} else if testing.Verbose() {
			t.Log(err)
		}
	}
}
