package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gradlab/core/data"
)

// CI's training check: a small CNN with batchnorm and dropout trains on a
// Fashion-MNIST subset for 200 steps on the GPU engine (lavapipe in CI) and
// must end far below its starting loss and far above chance (10%).
func TestTrainCommandLearnsFashionMNISTOnGPU(t *testing.T) {
	if _, err := os.Stat(data.FashionMNISTDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must install dataset-fashion-mnist: %v", err)
		}
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	device := "gpu"
	if os.Getenv("CI") != "true" {
		device = "auto" // without an adapter, locally, the CPU path still runs
	}
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{
		"-data", "fashion", "-subset", "2000", "-val", "400", "-batch", "16", "-max-steps", "200",
		"-lr", "0.01", "-optim", "sgd_momentum", "-schedule", "constant", "-loss-every", "10", "-eval-limit", "1000",
		"-device", device, "-quiet", "-seed", "3",
		"-model", "custom", "-layers", "conv 8 3 pad=1 nobias, bn, relu, pool 2, dropout 0.25, affine 10",
		"-out", out,
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("train: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Log(stdout.String())
	if device == "gpu" && !strings.Contains(stdout.String(), "GPU:") {
		t.Fatalf("did not train on the GPU:\n%s", stdout.String())
	}
	raw, err := os.ReadFile(out + ".curve.json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Losses []struct {
			Step int
			Loss float64
		}
		Epochs []struct {
			ValAcc float64 `json:"val_acc"`
		}
		TestAcc float64 `json:"test_acc"`
		Steps   int
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Steps != 200 || len(res.Losses) < 10 {
		t.Fatalf("ran %d steps with %d loss read-backs", res.Steps, len(res.Losses))
	}
	first := res.Losses[0].Loss
	var tail float64
	for _, l := range res.Losses[len(res.Losses)-5:] {
		tail += l.Loss / 5
	}
	if !(tail < 0.5*first) {
		t.Errorf("loss fell only from %.3f to %.3f (mean of the last five read-backs)", first, tail)
	}
	if res.TestAcc < 0.6 {
		t.Errorf("test accuracy %.3f, chance is 0.10", res.TestAcc)
	}
	for _, f := range []string{".curve.csv", ".weights"} {
		if st, err := os.Stat(out + f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

func TestTrainCommandRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-data", "cifar"},
		{"-data", "synthetic", "-model", "resnet"},
		{"-data", "synthetic", "-epochs", "0", "-device", "cpu"},
		{"-data", "synthetic", "-model", "custom", "-layers", "conv 8, affine 10", "-device", "cpu"},
		{"-data", "synthetic", "-device", "tpu"},
		{"-data", "synthetic", "-optim", "lbfgs", "-device", "cpu"},
		{"-data", "synthetic", "-lr", "-1", "-device", "cpu"},
		{"stray"},
	} {
		var o, e bytes.Buffer
		if err := run(context.Background(), append(args, "-quiet", "-subset", "200", "-out", filepath.Join(t.TempDir(), "x")), &o, &e); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
