package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gradlab/core/data"
	"gradlab/core/gpu"
	"gradlab/core/net"
	"gradlab/core/train"
)

// loadedData is a dataset ready to train on: the training and test sets and
// the normaliser from the whole training set (so a run on any subset, a
// restored model and an imported one all see the same pixels).
type loadedData struct {
	Train, Test *data.Set
	NZ          data.Normalizer
}

// The datasets and the GPU device are loaded once per page lifetime: the
// packs are tens of megabytes and a device takes a while to open.
var (
	dataMu    sync.Mutex
	dataCache = map[string]*loadedData{}

	devOnce sync.Once
	devGPU  *gpu.Device
	devErr  error
)

// trainDevice opens the GPU once; the error (wrapping gpu.ErrNoAdapter when
// there is none) makes the page fall back to the CPU.
func trainDevice() (*gpu.Device, error) {
	devOnce.Do(func() { devGPU, devErr = gpu.Open(gpu.Options{}) })
	return devGPU, devErr
}

// loadDataset returns ds, downloading and decoding its pack the first time
// (progress reports the download) or drawing the synthetic set.
func loadDataset(ds trainDataset, progress func(loaded, total int64)) (*loadedData, error) {
	dataMu.Lock()
	defer dataMu.Unlock()
	if d, ok := dataCache[ds.Key]; ok {
		return d, nil
	}
	var trainSet, testSet *data.Set
	if ds.File == "" {
		var err error
		if trainSet, err = data.Synthetic("train", syntheticTrainN, ds.H, ds.W, 7); err != nil {
			return nil, err
		}
		if testSet, err = data.Synthetic("test", syntheticTestN, ds.H, ds.W, 8); err != nil {
			return nil, err
		}
	} else {
		b, err := fetchBytes(Href("/web/data/"+ds.File), progress)
		if err != nil {
			return nil, fmt.Errorf("%v (the site serves the datasets from web/data/; was it built with ./build.sh site?)", err)
		}
		sets, err := data.ReadPack(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if trainSet, err = data.Find(sets, "train"); err != nil {
			return nil, err
		}
		if testSet, err = data.Find(sets, "test"); err != nil {
			return nil, err
		}
	}
	if trainSet.C != ds.C || trainSet.H != ds.H || trainSet.W != ds.W || trainSet.Classes != len(ds.Classes) {
		return nil, fmt.Errorf("%s: the pack holds %dx%dx%d images in %d classes, the page expects %dx%dx%d in %d",
			ds.Label, trainSet.C, trainSet.H, trainSet.W, trainSet.Classes, ds.C, ds.H, ds.W, len(ds.Classes))
	}
	mean, std := trainSet.Stats()
	d := &loadedData{Train: trainSet, Test: testSet, NZ: data.Normalizer{Mean: mean, Std: std}}
	dataCache[ds.Key] = d
	return d, nil
}

// splitForRun takes the run's training subset (seeded) and holds a fifth of
// it, at most 1000 images, out for validation.
func splitForRun(d *loadedData, o trainOptions) (trainSet, val *data.Set, err error) {
	s := d.Train
	if o.Subset < s.N {
		if s, err = s.Subset("train", data.Permutation(s.N, uint64(o.Seed))[:o.Subset]); err != nil {
			return nil, nil, err
		}
	}
	return s.Split(max(1, min(1000, s.N/5)), uint64(o.Seed))
}

// runOutcome is what a finished (or stopped) run leaves behind.
type runOutcome struct {
	Result  *train.Result
	Err     error
	Weights []byte
	Model   *net.Net // the trained weights on the float64 reference, for the views
}

// newRunBackend builds the network on dev, or on the CPU when dev is nil.
func newRunBackend(o trainOptions, spec net.Spec, dev *gpu.Device) (train.Backend, *net.Net, func(), error) {
	n, err := net.New(spec, uint64(o.Seed))
	if err != nil {
		return nil, nil, nil, err
	}
	const weightDecay = 0.01
	if dev == nil {
		b, err := train.NewCPU(n, train.OptimConfig{Name: o.Optimizer, Momentum: 0.9, WeightDecay: weightDecay}, o.LR)
		return b, n, func() {}, err
	}
	g, err := gpu.NewNetwork(dev, n, gpu.Optimizer{Name: o.Optimizer, Momentum: 0.9, WeightDecay: weightDecay})
	if err != nil {
		return nil, nil, nil, err
	}
	return g, n, g.Release, nil
}

// runTraining trains one run to the end, to a stop (ctx cancelled) or to a
// failure, and always hands back the weights reached when there are any:
// a diverged run keeps its last good ones, a stopped one what it learnt.
func runTraining(ctx context.Context, o trainOptions, d *loadedData, dev *gpu.Device, yield func(), progress func(train.Progress)) runOutcome {
	spec, err := o.spec()
	if err != nil {
		return runOutcome{Err: err}
	}
	trainSet, val, err := splitForRun(d, o)
	if err != nil {
		return runOutcome{Err: err}
	}
	b, n, release, err := newRunBackend(o, spec, dev)
	if err != nil {
		return runOutcome{Err: err}
	}
	defer release()
	cfg := o.config(trainSet.N, dev != nil)
	cfg.Yield = yield
	res, runErr := train.Run(ctx, b, trainSet, val, d.NZ, cfg, progress)
	out := runOutcome{Result: res, Err: runErr}
	if res == nil {
		return out
	}
	w, err := b.Snapshot()
	if err != nil {
		out.Err = errors.Join(runErr, err)
		return out
	}
	// The host net already holds these weights (Snapshot downloads into
	// it); loading them again checks the file the page will save.
	if err := n.Load(w); err != nil {
		out.Err = errors.Join(runErr, err)
		return out
	}
	out.Weights, out.Model = w, n
	return out
}

// yielder gives the browser a chance to draw about every frame: sleeping
// in a wasm goroutine returns control to the JavaScript event loop.
func yielder() func() {
	last := time.Now()
	return func() {
		if time.Since(last) > 30*time.Millisecond {
			time.Sleep(time.Millisecond)
			last = time.Now()
		}
	}
}
