package hw

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
)

// Problem 4: gradient averaging among n workers holding p parameters each.

// Scheme is a distributed-training communication pattern.
type Scheme int

const (
	// AllToAll: every worker sends its whole gradient to every other worker.
	AllToAll Scheme = iota
	// ParameterServer: workers push gradients to a server, which averages
	// them and sends the result back to each worker.
	ParameterServer
	// RingAllReduce: reduce-scatter then all-gather around a ring, one
	// p/n-sized chunk per message.
	RingAllReduce
)

// Schemes lists every scheme in table order.
var Schemes = []Scheme{AllToAll, ParameterServer, RingAllReduce}

func (s Scheme) String() string {
	switch s {
	case AllToAll:
		return "All-to-All"
	case ParameterServer:
		return "Parameter Server"
	case RingAllReduce:
		return "Ring All-Reduce"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// NetModel is a latency-bandwidth cost model: a message of s bytes occupies
// its sender's outgoing link and its receiver's incoming link for
// Latency + s/Bandwidth seconds. Within a synchronous round each node sends
// its messages one after another and receives them one after another, so a
// round lasts as long as the busiest link, and rounds run in sequence.
type NetModel struct {
	Latency       float64 // alpha, seconds per message
	Bandwidth     float64 // beta, bytes per second
	BytesPerParam int     // 4 for float32 gradients
}

// DefaultNet is 10 µs latency, 10 GB/s, float32 gradients.
var DefaultNet = NetModel{Latency: 10e-6, Bandwidth: 10e9, BytesPerParam: 4}

func (m NetModel) check(op string) error {
	if !finite(m.Latency) || m.Latency < 0 || !finite(m.Bandwidth) || m.Bandwidth <= 0 || m.BytesPerParam <= 0 {
		return errf(op, "network model needs latency >= 0, bandwidth > 0 and bytes per parameter > 0, got %+v", m)
	}
	return nil
}

func (m NetModel) msgTime(params int64) float64 {
	return m.Latency + float64(params)*float64(m.BytesPerParam)/m.Bandwidth
}

// CommFormula is one row of the homework's table, plus the costs derived
// from it.
type CommFormula struct {
	Scheme      Scheme
	Messages    int64 // total messages in one averaging
	MessageSize int64 // parameters per message
	// MaxSent is the most parameters any single node sends: the
	// parameter server's n*p is the bottleneck the ring removes.
	MaxSent int64
	Rounds  int // synchronous rounds
	Time    float64
}

// maxCommN and maxCommP keep every count exact in int64 and float64.
const (
	maxCommN = 1 << 20
	maxCommP = 1 << 40
)

func checkNP(op string, n, p int) error {
	if n < 1 || n > maxCommN {
		return errf(op, "number of workers n = %d must be in [1, %d]", n, maxCommN)
	}
	if p < 1 || p > maxCommP {
		return errf(op, "number of parameters p = %d must be in [1, %d]", p, int64(maxCommP))
	}
	if p%n != 0 {
		return errf(op, "p = %d is not divisible by n = %d, so the ring cannot split it into equal chunks", p, n)
	}
	return nil
}

// CommFormulas fills the homework's table for n workers and p parameters:
// all-to-all n(n-1) messages of size p, parameter server 2n of size p, ring
// all-reduce 2n(n-1) of size p/n; Time follows net.
func CommFormulas(n, p int, net NetModel) ([]CommFormula, error) {
	const op = "hw.CommFormulas"
	if err := checkNP(op, n, p); err != nil {
		return nil, err
	}
	if err := net.check(op); err != nil {
		return nil, err
	}
	N, P := int64(n), int64(p)
	ringRounds := 2 * (n - 1)
	return []CommFormula{
		{AllToAll, N * (N - 1), P, (N - 1) * P, min(1, n-1), float64(N-1) * net.msgTime(P)},
		{ParameterServer, 2 * N, P, N * P, 2, 2 * float64(N) * net.msgTime(P)},
		{RingAllReduce, 2 * N * (N - 1), P / N, 2 * (N - 1) * (P / N), ringRounds, float64(ringRounds) * net.msgTime(P/N)},
	}, nil
}

// Message is one send the simulation observed. Node n is the parameter server.
type Message struct {
	From, To int
	Round    int
	Chunk    int // ring chunk index; -1 for a whole gradient
	Size     int // parameters
}

// RingSend is one arrow of the ring animation.
type RingSend struct{ From, To, Chunk int }

// RingStep is one synchronous step of ring all-reduce.
type RingStep struct {
	Phase string // "reduce-scatter" or "all-gather"
	Step  int    // 0-based within the phase
	Sends []RingSend
	// Summed[w][c] is how many workers' gradients chunk c on worker w holds
	// after the step; the all-reduce is done when every entry is n.
	Summed [][]int
}

// SimResult is what Simulate measured.
type SimResult struct {
	Scheme       Scheme
	N, P         int
	Messages     int
	MessageSizes []int     // distinct sizes seen, ascending
	Log          []Message // sorted by round, sender, receiver
	SentParams   []int64   // per node (index N is the parameter server)
	SentBytes    []int64
	Rounds       int
	Time         float64 // from the log under the NetModel
	Averaged     [][]float64
	TrueMean     []float64 // the exact mean, rounded once to float64
	MaxAbsErr    float64   // largest |Averaged - exact mean| over workers and entries
	// ErrBound is the largest error a correct average may have: the
	// textbook bound gamma_(n-1) * sum|g| / n for summing n terms in any
	// order, plus the rounding of the division.
	ErrBound float64
	// WithinBound: every entry on every worker is within its own bound.
	WithinBound bool
	Identical   bool       // every worker ended with bit-identical averages
	Ring        []RingStep // RingAllReduce only
}

// maxSimWork bounds n*p so a page's simulation stays interactive.
const maxSimWork = 1 << 22

// RandomGradients draws n gradients of p N(0,1) entries from a fixed seed.
func RandomGradients(n, p int, seed uint64) ([][]float64, error) {
	const op = "hw.RandomGradients"
	if err := checkNP(op, n, p); err != nil {
		return nil, err
	}
	if int64(n)*int64(p) > maxSimWork {
		return nil, errf(op, "n*p = %d exceeds the simulation limit %d", int64(n)*int64(p), maxSimWork)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	g := make([][]float64, n)
	for i := range g {
		g[i] = make([]float64, p)
		for j := range g[i] {
			g[i][j] = r.NormFloat64()
		}
	}
	return g, nil
}

type packet struct {
	from, round, chunk, summed int
	data                       []float64
}

type network struct {
	inbox []chan packet
	mu    sync.Mutex
	log   []Message
}

func (nw *network) send(from, to, round, chunk, summed int, data []float64) {
	nw.mu.Lock()
	nw.log = append(nw.log, Message{From: from, To: to, Round: round, Chunk: chunk, Size: len(data)})
	nw.mu.Unlock()
	nw.inbox[to] <- packet{from, round, chunk, summed, slices.Clone(data)}
}

// Simulate runs one gradient averaging with one goroutine per worker (and
// one for the parameter server), sending real slices over channels. grads
// holds one gradient per worker, all of length p, p divisible by n.
func Simulate(s Scheme, grads [][]float64, net NetModel) (*SimResult, error) {
	const op = "hw.Simulate"
	if s < AllToAll || s > RingAllReduce {
		return nil, errf(op, "unknown scheme %d", int(s))
	}
	if err := net.check(op); err != nil {
		return nil, err
	}
	n := len(grads)
	if n == 0 {
		return nil, errf(op, "no workers: grads is empty")
	}
	p := len(grads[0])
	if err := checkNP(op, n, p); err != nil {
		return nil, err
	}
	if int64(n)*int64(p) > maxSimWork {
		return nil, errf(op, "n*p = %d exceeds the simulation limit %d", int64(n)*int64(p), maxSimWork)
	}
	for i, g := range grads {
		if _, err := vecOf(op, fmt.Sprintf("gradient of worker %d", i), g, p); err != nil {
			return nil, err
		}
	}

	nodes := n
	if s == ParameterServer {
		nodes++
	}
	nw := &network{inbox: make([]chan packet, nodes)}
	for i := range nw.inbox {
		nw.inbox[i] = make(chan packet, 2*n)
	}
	out := make([][]float64, n)
	errs := make([]error, nodes)
	var ring [][][]int // [round][worker][chunk] summed counts
	if s == RingAllReduce {
		ring = make([][][]int, 2*(n-1))
		for r := range ring {
			ring[r] = make([][]int, n)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < nodes; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch {
			case s == AllToAll:
				out[i], errs[i] = allToAllWorker(nw, i, n, grads[i])
			case s == ParameterServer && i == n:
				errs[i] = serverNode(nw, n, p)
			case s == ParameterServer:
				out[i], errs[i] = psWorker(nw, i, n, grads[i])
			default:
				out[i], errs[i] = ringWorker(nw, i, n, grads[i], ring)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, errf(op, "%s protocol broke: %v", s, e)
		}
	}
	return summarise(s, n, p, nodes, grads, out, nw.log, ring, net), nil
}

func expect(pk packet, from, round, chunk int) error {
	if pk.from != from || pk.round != round || pk.chunk != chunk {
		return fmt.Errorf("got (from %d, round %d, chunk %d), want (%d, %d, %d)", pk.from, pk.round, pk.chunk, from, round, chunk)
	}
	return nil
}

func allToAllWorker(nw *network, i, n int, g []float64) ([]float64, error) {
	for k := 1; k < n; k++ {
		nw.send(i, (i+k)%n, 0, -1, 1, g)
	}
	recv := make([][]float64, n)
	recv[i] = g
	for k := 1; k < n; k++ {
		pk := <-nw.inbox[i]
		if pk.round != 0 || pk.chunk != -1 || recv[pk.from] != nil {
			return nil, fmt.Errorf("worker %d: unexpected message from %d", i, pk.from)
		}
		recv[pk.from] = pk.data
	}
	// Sum in worker order on every worker, so all of them agree bit for bit.
	return meanOf(recv), nil
}

func meanOf(gs [][]float64) []float64 {
	sum := make([]float64, len(gs[0]))
	for _, g := range gs {
		for j, v := range g {
			sum[j] += v
		}
	}
	for j := range sum {
		sum[j] /= float64(len(gs))
	}
	return sum
}

func psWorker(nw *network, i, n int, g []float64) ([]float64, error) {
	nw.send(i, n, 0, -1, 1, g)
	pk := <-nw.inbox[i]
	if err := expect(pk, n, 1, -1); err != nil {
		return nil, fmt.Errorf("worker %d: %v", i, err)
	}
	return pk.data, nil
}

func serverNode(nw *network, n, p int) error {
	recv := make([][]float64, n)
	for k := 0; k < n; k++ {
		pk := <-nw.inbox[n]
		if pk.round != 0 || pk.from < 0 || pk.from >= n || recv[pk.from] != nil || len(pk.data) != p {
			return fmt.Errorf("server: unexpected message from %d", pk.from)
		}
		recv[pk.from] = pk.data
	}
	mean := meanOf(recv)
	for k := 0; k < n; k++ {
		nw.send(n, k, 1, -1, n, mean)
	}
	return nil
}

func ringWorker(nw *network, i, n int, g []float64, trace [][][]int) ([]float64, error) {
	c := len(g) / n
	buf := slices.Clone(g)
	summed := make([]int, n)
	for k := range summed {
		summed[k] = 1
	}
	mod := func(a int) int { return ((a % n) + n) % n }
	chunk := func(k int) []float64 { return buf[k*c : (k+1)*c] }
	next, prev := (i+1)%n, mod(i-1)
	// Reduce-scatter: at step s send chunk i-s, add the incoming chunk i-1-s.
	// After n-1 steps worker i holds the full sum of chunk i+1.
	for s := 0; s < n-1; s++ {
		k := mod(i - s)
		nw.send(i, next, s, k, summed[k], chunk(k))
		pk := <-nw.inbox[i]
		want := mod(i - 1 - s)
		if err := expect(pk, prev, s, want); err != nil {
			return nil, fmt.Errorf("worker %d: %v", i, err)
		}
		for j, v := range pk.data {
			chunk(want)[j] += v
		}
		summed[want] += pk.summed
		trace[s][i] = slices.Clone(summed)
	}
	// All-gather: pass the finished chunks on; the incoming one replaces ours.
	for s := 0; s < n-1; s++ {
		k := mod(i + 1 - s)
		nw.send(i, next, n-1+s, k, summed[k], chunk(k))
		pk := <-nw.inbox[i]
		want := mod(i - s)
		if err := expect(pk, prev, n-1+s, want); err != nil {
			return nil, fmt.Errorf("worker %d: %v", i, err)
		}
		copy(chunk(want), pk.data)
		summed[want] = pk.summed
		trace[n-1+s][i] = slices.Clone(summed)
	}
	for k, v := range summed {
		if v != n {
			return nil, fmt.Errorf("worker %d: chunk %d holds %d of %d gradients", i, k, v, n)
		}
	}
	for j := range buf {
		buf[j] /= float64(n)
	}
	return buf, nil
}

func summarise(s Scheme, n, p, nodes int, grads, out [][]float64, log []Message, ring [][][]int, net NetModel) *SimResult {
	slices.SortFunc(log, func(a, b Message) int {
		if a.Round != b.Round {
			return a.Round - b.Round
		}
		if a.From != b.From {
			return a.From - b.From
		}
		return a.To - b.To
	})
	res := &SimResult{Scheme: s, N: n, P: p, Messages: len(log), Log: log, Averaged: out,
		SentParams: make([]int64, nodes), SentBytes: make([]int64, nodes)}
	rounds := map[int][]Message{}
	for _, m := range log {
		res.SentParams[m.From] += int64(m.Size)
		res.SentBytes[m.From] += int64(m.Size) * int64(net.BytesPerParam)
		if !slices.Contains(res.MessageSizes, m.Size) {
			res.MessageSizes = append(res.MessageSizes, m.Size)
		}
		rounds[m.Round] = append(rounds[m.Round], m)
	}
	slices.Sort(res.MessageSizes)
	res.Rounds = len(rounds)
	for r := 0; r < res.Rounds; r++ {
		sent := make([]float64, nodes)
		recv := make([]float64, nodes)
		for _, m := range rounds[r] {
			t := net.msgTime(int64(m.Size))
			sent[m.From] += t
			recv[m.To] += t
		}
		res.Time += max(slices.Max(sent), slices.Max(recv))
	}

	var bounds []float64
	res.TrueMean, bounds = exactMean(grads)
	res.ErrBound = slices.Max(bounds)
	res.Identical, res.WithinBound = true, true
	for _, a := range out {
		for j, v := range a {
			e := math.Abs(v - res.TrueMean[j])
			res.MaxAbsErr = max(res.MaxAbsErr, e)
			if !(e <= bounds[j]) {
				res.WithinBound = false
			}
			if math.Float64bits(v) != math.Float64bits(out[0][j]) {
				res.Identical = false
			}
		}
	}

	if s == RingAllReduce {
		for r, st := range ring {
			step := RingStep{Phase: "reduce-scatter", Step: r, Summed: st}
			if r >= n-1 {
				step.Phase, step.Step = "all-gather", r-(n-1)
			}
			for _, m := range rounds[r] {
				step.Sends = append(step.Sends, RingSend{From: m.From, To: m.To, Chunk: m.Chunk})
			}
			res.Ring = append(res.Ring, step)
		}
	}
	return res
}

// exactMean sums in big.Float wide enough (2200 bits covers float64's whole
// exponent range) that the sum is exact, so the only rounding in TrueMean is
// the final conversion. The bound allows for the simulation's own rounding.
func exactMean(grads [][]float64) ([]float64, []float64) {
	n, p := len(grads), len(grads[0])
	const u = 0x1p-53
	gamma := float64(n-1) * u / (1 - float64(n-1)*u)
	mean := make([]float64, p)
	bound := make([]float64, p)
	for j := 0; j < p; j++ {
		sum := new(big.Float).SetPrec(2200)
		abs := 0.0
		for i := 0; i < n; i++ {
			sum.Add(sum, big.NewFloat(grads[i][j]))
			abs += math.Abs(grads[i][j])
		}
		sum.Quo(sum, new(big.Float).SetPrec(2200).SetInt64(int64(n)))
		mean[j], _ = sum.Float64()
		// Summation error, then one rounding for the division, then the
		// rounding of the exact mean itself; the 1+4u absorbs abs's own rounding.
		bound[j] = gamma*abs/float64(n)*(1+4*u) + 2*u*math.Abs(mean[j])
	}
	return mean, bound
}
