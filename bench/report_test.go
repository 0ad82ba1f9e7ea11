package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The comparison joins our lines with a peer's on (bench, sizes), keeps our
// fastest kernel, reads TF.js's ms_per_step, and prints peer/ours.
func TestCompareFiles(t *testing.T) {
	dir := t.TempDir()
	peer := filepath.Join(dir, "peer.jsonl")
	ours := filepath.Join(dir, "ours.jsonl")
	os.WriteFile(peer, []byte(`{"bench":"gemm","n":1024,"ms":2.0}
{"bench":"train_step","batch":32,"ms_per_step":10500}
{"bench":"env","node":"20"}
not json, a log line
`), 0o644)
	os.WriteFile(ours, []byte(`{"bench":"gemm","n":1024,"kernel":"naive","ms":8.0}
{"bench":"gemm","n":1024,"kernel":"tiled128","ms":4.0}
{"bench":"train_step","batch":32,"ms":2100}
{"bench":"gemm","n":2048,"ms":30}
`), 0o644)
	var out bytes.Buffer
	if err := compareFiles(&out, peer, ours); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"bench=gemm n=1024", "0.50x", "bench=train_step batch=32", "5.00x"} {
		if !strings.Contains(got, want) {
			t.Errorf("comparison lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "n=2048") {
		t.Errorf("a measurement only we have was compared:\n%s", got)
	}
	os.WriteFile(peer, []byte(`{"bench":"conv_fwd","N":1,"ms":1}`+"\n"), 0o644)
	if err := compareFiles(&out, peer, ours); err == nil {
		t.Error("no common measurement, but no error")
	}
}
