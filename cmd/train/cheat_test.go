package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"gradlab/core/data"
)

func TestCheatExperimentCommandPrintsBothRuns(t *testing.T) {
	if _, err := os.Stat(data.FashionMNISTDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must install dataset-fashion-mnist: %v", err)
		}
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{
		"-experiment", "cheat", "-data", "fashion", "-subset", "1000", "-epochs", "2", "-batch", "50",
		"-lr", "0.05", "-eval-limit", "500", "-device", "cpu", "-quiet", "-seed", "2", "-dropout", "0.5",
		"-model", "custom", "-layers", "affine 32, relu, affine 10",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("train: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Log(stdout.String())
	rows := 0
	for _, line := range strings.Split(stdout.String(), "\n") {
		if !strings.HasPrefix(line, "without dropout") && !strings.HasPrefix(line, "with input dropout p = 0.5") {
			continue
		}
		rows++
		f := strings.Fields(line)
		for _, s := range f[len(f)-4 : len(f)-1] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || v > 1 {
				t.Errorf("accuracy %q in %q", s, line)
			}
		}
	}
	if rows != 2 {
		t.Errorf("%d result rows, want 2:\n%s", rows, stdout.String())
	}
}

func TestCheatExperimentCommandRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-experiment", "cheats"}, "unknown experiment"},
		{[]string{"-experiment", "cheat", "-data", "synthetic", "-subset", "100", "-dropout", "0"}, "must be in (0, 1)"},
		{[]string{"-experiment", "cheat", "-data", "synthetic", "-subset", "100", "-model", "custom", "-layers", "dropout 0.2, affine 10"}, "already has dropout"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(c.args, "-quiet", "-device", "cpu"), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}
