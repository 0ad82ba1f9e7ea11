// Command bench measures gradlab's GPU engine on whatever WebGPU adapter it
// finds: GEMM, each convolution of the reference CNN, and the reference CNN's
// whole training step. It prints JSON lines (for scripts) and readable rows.
//
//	go run ./bench                          # everything, sizes for a real GPU
//	go run ./bench -only gemm -gemm 256,512 # a quick look on lavapipe
//	go run ./bench -compare torch.jsonl ours.jsonl
//
// gpu-machine.sh runs it next to PyTorch (shared/bench/torch_reference.py) on
// the GPU machine and prints our/PyTorch ratios from the two JSON files.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gradlab/core/gpu"
)

func main() {
	only := flag.String("only", "gemm,conv,train", "comma-separated groups to run: gemm, conv, train, profile (where a training step's time goes, op by op)")
	gemmSizes := flag.String("gemm", "auto", "GEMM sizes n (n x n x n); auto: 1024,2048,4096 on a GPU, 256,512,1024 on a software adapter")
	naiveMax := flag.Int("naive-max", 2048, "largest GEMM size that also times the naive kernel (the baseline)")
	convBatch := flag.Int("conv-batch", 0, "batch size for the conv-layer benchmarks (0: 128 on a GPU, 8 on a software adapter)")
	trainBatches := flag.String("train", "auto", "batch sizes for the training-step benchmark; auto: 128,512 on a GPU, 32 on a software adapter")
	reps := flag.Int("reps", 5, "timed repetitions (the median is reported)")
	jsonOut := flag.String("json", "", "also append the JSON lines to this file")
	compare := flag.Bool("compare", false, "compare two JSON-lines files: bench -compare PEER.jsonl OURS.jsonl")
	flag.Parse()
	if *compare {
		if flag.NArg() != 2 {
			fatal(fmt.Errorf("-compare takes two files: the peer's JSON lines and ours"))
		}
		if err := compareFiles(os.Stdout, flag.Arg(0), flag.Arg(1)); err != nil {
			fatal(err)
		}
		return
	}
	d, err := gpu.Open(gpu.Options{})
	if err != nil {
		fatal(err)
	}
	defer d.Close()
	out, err := newReporter(os.Stdout, *jsonOut, d.Info().String())
	if err != nil {
		fatal(err)
	}
	defer out.Close()
	fmt.Fprintf(os.Stderr, "adapter: %s\n", d.Info())
	// A software adapter (lavapipe, SwiftShader) is about a thousand times
	// slower than a GPU: the default sizes follow the adapter.
	soft := d.Info().Fallback
	if *gemmSizes == "auto" {
		*gemmSizes = pick(soft, "256,512,1024", "1024,2048,4096")
	}
	if *trainBatches == "auto" {
		*trainBatches = pick(soft, "32", "128,512")
	}
	if *convBatch == 0 {
		*convBatch = map[bool]int{true: 8, false: 128}[soft]
	}
	groups := strings.Split(*only, ",")
	for _, g := range groups {
		switch strings.TrimSpace(g) {
		case "gemm":
			sizes, err := ints(*gemmSizes)
			if err != nil {
				fatal(err)
			}
			err = benchGEMM(d, out, sizes, *naiveMax, *reps)
			check(err)
		case "conv":
			check(benchConv(d, out, *convBatch, *reps))
		case "profile":
			bs, err := ints(*trainBatches)
			if err != nil {
				fatal(err)
			}
			check(benchProfile(d, out, bs[0], *reps))
		case "train":
			bs, err := ints(*trainBatches)
			if err != nil {
				fatal(err)
			}
			check(benchTrain(d, out, bs, *reps))
		default:
			fatal(fmt.Errorf("unknown group %q: use gemm, conv, train, profile", g))
		}
	}
}

func pick(soft bool, software, gpu string) string {
	if soft {
		return software
	}
	return gpu
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func check(err error) {
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
