package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"math"
	"strings"
	"testing"

	"gradlab/core/net"
	"gradlab/core/train"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// tinyTrainOptions is a run small enough for a unit test: a 4-filter conv
// net on 200 synthetic colour images, on the CPU.
func tinyTrainOptions() trainOptions {
	o := defaultTrainOptions()
	o.Dataset, o.Model = "synthetic", "custom"
	o.Custom = "conv 4 3 pad=1, relu, pool 4, affine 10"
	o.Optimizer, o.LR, o.Batch, o.Epochs, o.Subset = "adam", 5e-3, 16, 3, 200
	return o
}

func TestTrainSpecsFollowTheDataset(t *testing.T) {
	for _, ds := range trainDatasets {
		for _, m := range trainModels {
			o := defaultTrainOptions()
			o.Dataset, o.Model = ds.Key, m.Key
			s, err := o.spec()
			if err != nil {
				t.Errorf("%s on %s: %v", m.Key, ds.Key, err)
				continue
			}
			if s.C != ds.C || s.H != ds.H || s.W != ds.W || s.Classes != len(ds.Classes) {
				t.Errorf("%s on %s: input %dx%dx%d with %d classes, want the dataset's %dx%dx%d and %d",
					m.Key, ds.Key, s.C, s.H, s.W, s.Classes, ds.C, ds.H, ds.W, len(ds.Classes))
			}
		}
	}
	o := defaultTrainOptions()
	o.BN, o.Dropout = false, 0
	s, _ := o.spec()
	for _, l := range s.Layers {
		if l.Kind == net.BatchNorm || l.Kind == net.Dropout {
			t.Errorf("BN off and dropout 0 still give a %s layer", l.Kind)
		}
	}
}

func TestTrainCheckRefusesWhatCannotRun(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*trainOptions)
		onGPU bool
		want  string
	}{
		{"stack not ending in the classes", func(o *trainOptions) { o.Model, o.Custom = "custom", "conv 8 3, relu, affine 3" }, false, `last layer must be "affine 10"`},
		{"unknown layer", func(o *trainOptions) { o.Model, o.Custom = "custom", "conv 8 3, softmax, affine 10" }, false, `layer 2 ("softmax")`},
		{"kernel larger than the image", func(o *trainOptions) { o.Model, o.Custom = "custom", "conv 8 40, affine 10" }, false, "does not fit"},
		{"rmsprop on the GPU", func(o *trainOptions) { o.Optimizer = "rmsprop" }, true, "no GPU kernel"},
		{"subset below two batches", func(o *trainOptions) { o.Subset, o.Batch = 100, 64 }, false, "at least two batches"},
		{"too many parameters", func(o *trainOptions) { o.Model, o.Custom = "custom", "affine 30000, relu, affine 10" }, false, "more than a browser tab"},
		{"activations of a batch too large", func(o *trainOptions) {
			o.Model, o.Custom, o.Batch, o.Subset = "custom", "conv 512 3 pad=1, relu, affine 10", 512, 60000
		}, false, "smaller batch"},
		{"step schedule without decay", func(o *trainOptions) { o.Schedule, o.Decay = "step", 0 }, false, "decay"},
	}
	for _, c := range cases {
		o := defaultTrainOptions()
		c.edit(&o)
		err := o.check(c.onGPU)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	o := defaultTrainOptions()
	o.Optimizer = "rmsprop"
	if err := o.check(false); err != nil {
		t.Errorf("rmsprop on the CPU: %v", err)
	}
	if err := defaultTrainOptions().check(true); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	// The reference CNN at a large batch fits the GPU (f32 in its own
	// memory) but not the CPU path's float64 wasm heap.
	big := defaultTrainOptions()
	big.Batch, big.Subset = 512, 60000
	if err := big.check(true); err != nil {
		t.Errorf("reference CNN, batch 512, on the GPU: %v", err)
	}
	if err := big.check(false); err == nil || !strings.Contains(err.Error(), "smaller batch") {
		t.Errorf("reference CNN, batch 512, on the CPU: %v, want a refusal", err)
	}
}

func TestTrainPageShowsTheFormAndTheCPUBanner(t *testing.T) {
	p := &TrainPage{}
	html := render(t, p)
	mustContain(t, html, `id="train-start"`, `id="train-model"`, `id="train-dataset"`, `id="train-lr"`,
		`id="train-subset"`, "Looking for a WebGPU adapter", `href="/p5"`)
	if strings.Contains(html, "train-cpu-banner") {
		t.Error("the CPU banner shows before the GPU check finished")
	}
	p.setDevice(nil, errString("gpu: no WebGPU adapter found: this browser has no navigator.gpu"))
	html = rerender(t, p)
	mustContain(t, byID(t, html, "train-cpu-banner"), escape(cpuBanner), "navigator.gpu")
}

// rerender draws p's current state: a go-app test engine mounts a
// component only once, so the copy (and copies of its fields) is drawn.
func rerender(t *testing.T, p *TrainPage) string {
	t.Helper()
	q := *p
	q.Compo = goapp.Compo{}
	q.fields = map[string]*NumberInput{}
	for k, f := range p.fields {
		c := *f
		c.Compo = goapp.Compo{}
		q.fields[k] = &c
	}
	return render(t, &q)
}

type errString string

func (e errString) Error() string { return string(e) }

func TestTrainPageCustomStackShowsThePlanError(t *testing.T) {
	p := &TrainPage{}
	p.init()
	p.opts.Model, p.opts.Custom = "custom", "conv 8 3, relu, affine 3"
	html := render(t, p)
	msg := byID(t, html, "train-custom-msg")
	if !strings.Contains(msg, "last layer must be") {
		t.Errorf("custom stack message %q, want the plan's error", msg)
	}
	p.device = "cpu"
	p.start(goapp.Context{}, goapp.Event{})
	if p.phase != phaseIdle || !strings.Contains(p.formErr, "last layer must be") {
		t.Errorf("after Train: phase %q, form error %q; want idle and the plan error", p.phase, p.formErr)
	}
}

func TestTrainPageInvalidNumberBlocksTraining(t *testing.T) {
	p := &TrainPage{}
	render(t, p)
	p.device = "cpu"
	lr := p.fields["lr"]
	if msg := lr.SetRaw(goapp.Context{}, "fast"); msg == "" {
		t.Fatal("learning rate \"fast\" was accepted")
	}
	p.start(goapp.Context{}, goapp.Event{})
	if p.phase != phaseIdle || !strings.Contains(p.formErr, "Learning rate") {
		t.Errorf("phase %q, form error %q; want idle and a message naming the learning rate", p.phase, p.formErr)
	}
	html := rerender(t, p)
	mustContain(t, byID(t, html, "train-form-error"), "Learning rate")
	mustContain(t, byID(t, html, "train-lr-msg"), "is not a number")
	if p.opts.LR != defaultTrainOptions().LR {
		t.Errorf("an invalid field changed the learning rate to %v", p.opts.LR)
	}
}

func TestRunTrainingOnTheCPULearnsAndSaves(t *testing.T) {
	o := tinyTrainOptions()
	ds, _ := datasetByKey(o.Dataset)
	d, err := loadDataset(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	yields := 0
	var progress []train.Progress
	out := runTraining(context.Background(), o, d, nil, func() { yields++ }, func(p train.Progress) { progress = append(progress, p) })
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	ls := out.Result.Losses
	if len(ls) < 5 {
		t.Fatalf("%d loss points, want a curve", len(ls))
	}
	// Chance level for 10 classes is ln 10; a learning run ends well below
	// its own start.
	if first, last := ls[0].Loss, ls[len(ls)-1].Loss; !(last < 0.8*first) {
		t.Errorf("loss %v -> %v: did not fall", first, last)
	}
	if yields != out.Result.Steps || len(out.Result.Epochs) != o.Epochs || len(progress) < len(ls) {
		t.Errorf("%d yields for %d steps, %d epochs, %d progress calls", yields, out.Result.Steps, len(out.Result.Epochs), len(progress))
	}
	if got := filterImages(out.Model); len(got) != 4 {
		t.Errorf("%d filter images, want 4", len(got))
	}
	acts, err := activationImages(out.Model, d.Test, d.NZ, 3)
	if err != nil || len(acts) != 4 {
		t.Errorf("activations: %d images, %v", len(acts), err)
	}
	preds, err := predictGrid(out.Model, d.Test, d.NZ, 16)
	if err != nil || len(preds) != 16 {
		t.Fatalf("predictions: %d, %v", len(preds), err)
	}
	for i, pr := range preds {
		if pr.True != int(d.Test.Labels[i]) {
			t.Errorf("prediction %d carries label %d, the set says %d", i, pr.True, d.Test.Labels[i])
		}
	}

	// The saved record restores the same weights and curves.
	text, err := encodeSavedRun(savedRun{Options: o, Arch: out.Model.Spec.String(), Mean: d.NZ.Mean, Std: d.NZ.Std, Result: out.Result, Weights: out.Weights})
	if err != nil {
		t.Fatal(err)
	}
	rec, m, err := decodeSavedRun(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Result.Losses) != len(ls) || rec.Result.Losses[len(ls)-1] != ls[len(ls)-1] {
		t.Error("the restored curve differs")
	}
	for i, p := range m.Params {
		for j, v := range p.Value.Data {
			if float32(v) != float32(out.Model.Params[i].Value.Data[j]) {
				t.Fatalf("restored %s[%d] = %v, trained %v", p.Name, j, v, out.Model.Params[i].Value.Data[j])
			}
		}
	}

	// Importing the file into another architecture is refused with
	// net.Load's reason; into the same one it works.
	other := o
	other.Custom = "conv 8 3 pad=1, relu, pool 4, affine 10"
	if _, _, err := importWeights(other, out.Weights); err == nil || !strings.Contains(err.Error(), "different network") {
		t.Errorf("import into another architecture: %v", err)
	}
	if m, _, err := importWeights(o, out.Weights); err != nil || m == nil {
		t.Errorf("import into the same architecture: %v", err)
	}
}

func TestRunTrainingStopsWhenCancelled(t *testing.T) {
	o := tinyTrainOptions()
	ds, _ := datasetByKey(o.Dataset)
	d, err := loadDataset(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	out := runTraining(ctx, o, d, nil, func() {
		if steps++; steps == 3 {
			cancel()
		}
	}, nil)
	if out.Err != nil || out.Result == nil || out.Result.Stopped == "" || out.Result.Steps != 3 || out.Model == nil {
		t.Fatalf("cancelled run: err %v, result %+v; want stopped after 3 steps with weights kept", out.Err, out.Result)
	}
}

func TestSavedRunRefusesDamage(t *testing.T) {
	o := tinyTrainOptions()
	spec, _ := o.spec()
	n, err := net.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if err := n.Save(&w); err != nil {
		t.Fatal(err)
	}
	good := savedRun{Options: o, Arch: spec.String(), Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.2, 0.2, 0.2}, Weights: w.Bytes()}
	if text, _ := encodeSavedRun(good); true {
		if _, _, err := decodeSavedRun(text); err != nil {
			t.Fatalf("a good record is refused: %v", err)
		}
	}
	bad := map[string]func(r *savedRun){
		"truncated weights": func(r *savedRun) { r.Weights = r.Weights[:len(r.Weights)/2] },
		"other arch":        func(r *savedRun) { r.Options.Custom = "conv 5 3 pad=1, relu, pool 4, affine 10" },
		"one channel":       func(r *savedRun) { r.Mean = r.Mean[:1] },
	}
	for name, edit := range bad {
		r := good
		r.Weights = append([]byte(nil), good.Weights...)
		edit(&r)
		text, _ := encodeSavedRun(r)
		if _, _, err := decodeSavedRun(text); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, text := range []string{"", "{", `{"version": 99}`, "null"} {
		if _, _, err := decodeSavedRun(text); err == nil {
			t.Errorf("record %q accepted", text)
		}
	}
}

func TestPNGMapsTheRangeToBlackAndWhite(t *testing.T) {
	url := pngURL([]float64{-2, 0, 2, math.NaN()}, 1, 2, 2, -2, 2)
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{0, 0}, {1, 128}, {2, 255}, {3, 0}} // -2 → 0, 0 → 127.5 rounds to 128, 2 → 255, NaN → 0
	for _, wv := range want {
		r, _, _, _ := img.At(wv[0]%2, wv[0]/2).RGBA()
		if int(r>>8) != wv[1] {
			t.Errorf("pixel %d = %d, want %d", wv[0], r>>8, wv[1])
		}
	}
}
