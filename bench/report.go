package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// record is one measurement, in the same shape as torch_reference.py's lines
// so the two can be joined on (bench, sizes).
type record map[string]any

type reporter struct {
	w      io.Writer
	f      *os.File
	device string
}

func newReporter(w io.Writer, path, device string) (*reporter, error) {
	r := &reporter{w: w, device: device}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		r.f = f
	}
	return r, nil
}

func (r *reporter) Close() {
	if r.f != nil {
		r.f.Close()
	}
}

// emit prints the record as a JSON line and a readable row.
func (r *reporter) emit(rec record, row string) {
	rec["device"] = r.device
	rec["impl"] = "gradlab"
	b, _ := json.Marshal(rec)
	fmt.Fprintf(r.w, "%s\n# %s\n", b, row)
	if r.f != nil {
		r.f.Write(append(b, '\n'))
	}
}

// median times fn over reps runs after one warm-up run (pipeline compilation
// and pool allocation stay out of the timing). fn must wait for the GPU.
func median(reps int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ts := make([]time.Duration, 0, reps)
	for i := 0; i < max(1, reps); i++ {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ts = append(ts, time.Since(t))
	}
	return medianOf(ts), nil
}

func medianOf(ts []time.Duration) time.Duration {
	ts = append([]time.Duration(nil), ts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// key identifies a measurement across implementations.
func key(rec map[string]any) string {
	var parts []string
	for _, k := range []string{"bench", "n", "N", "C", "H", "K", "batch"} {
		if v, ok := rec[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

func readJSONL(path string) (map[string]map[string]any, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	out := map[string]map[string]any{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		k := key(rec)
		prev, seen := out[k]
		if !seen {
			order = append(order, k)
		}
		// Several kernels measure the same thing (naive, tiled, ...): the
		// comparison is with the fastest.
		// TF.js's bench.mjs names the time ms_per_step.
		if _, ok := rec["ms"]; !ok {
			rec["ms"] = rec["ms_per_step"]
		}
		cur, ok := rec["ms"].(float64)
		if !ok {
			continue
		}
		if pm, ok := prev["ms"].(float64); !seen || !ok || cur < pm {
			out[k] = rec
		}
	}
	return out, order, sc.Err()
}

// compareFiles prints, for every measurement both files have, our time, the
// peer's, and peer/ours (above 1: we are faster).
func compareFiles(w io.Writer, peerPath, oursPath string) error {
	peer, _, err := readJSONL(peerPath)
	if err != nil {
		return err
	}
	ours, order, err := readJSONL(oursPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-40s %12s %12s %14s\n", "measurement", "ours ms", "peer ms", "peer/ours")
	n := 0
	for _, k := range order {
		p, ok := peer[k]
		if !ok {
			continue
		}
		om, _ := ours[k]["ms"].(float64)
		pm, _ := p["ms"].(float64)
		if om <= 0 || pm <= 0 {
			continue
		}
		fmt.Fprintf(w, "%-40s %12.3f %12.3f %13.2fx\n", k, om, pm, pm/om)
		n++
	}
	if n == 0 {
		return fmt.Errorf("no measurement appears in both %s and %s", peerPath, oursPath)
	}
	return nil
}
