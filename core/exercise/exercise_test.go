package exercise

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"gradlab/core/gpu"
)

var (
	checkerOnce sync.Once
	checker     *Checker
	checkerErr  error
)

// testChecker shares one device; without an adapter it skips, except under
// CI=true (CI installs lavapipe), like core/gpu's tests.
func testChecker(t *testing.T) *Checker {
	t.Helper()
	checkerOnce.Do(func() {
		checker = NewChecker()
		_, checkerErr = checker.Device()
	})
	if checkerErr != nil {
		if errors.Is(checkerErr, gpu.ErrNoAdapter) && os.Getenv("CI") != "true" {
			t.Skipf("no WebGPU adapter: %v", checkerErr)
		}
		t.Fatal(checkerErr)
	}
	return checker
}

func TestMain(m *testing.M) {
	code := m.Run()
	if checker != nil {
		checker.Close()
	}
	os.Exit(code)
}

func TestEveryExerciseIsComplete(t *testing.T) {
	if philoxErr != nil || !strings.Contains(BySlug("dropout-forward").Prelude, "fn random_word(index: u32) -> u32") {
		t.Errorf("the dropout prelude lacks the Philox helpers: %v", philoxErr)
	}
	if got := len(All()); got != len(order) || got != 11 {
		t.Fatalf("%d exercises, want the 11 of the issue", got)
	}
	for _, e := range All() {
		if e.Title == "" || len(e.Task) == 0 || e.Skeleton == "" || len(e.Hints) < 2 || len(e.Hints) > 4 || e.Threshold == 0 || e.ThresholdNote == "" {
			t.Errorf("%s: incomplete definition", e.Slug)
		}
		if e.Reference() == "" || len(e.cases()) < 3 || len(e.mistakes) == 0 {
			t.Errorf("%s: needs a reference, at least 3 shapes and known mistakes", e.Slug)
		}
		if strings.Contains(e.Slug, "backward") != (e.numeric != nil) {
			t.Errorf("%s: backward kernels (only) need a numerical gradient check", e.Slug)
		}
	}
}

// Every reference kernel passes its own checker, gradient check included.
func TestReferenceSolutionsPass(t *testing.T) {
	c := testChecker(t)
	for _, e := range All() {
		t.Run(e.Slug, func(t *testing.T) {
			rep, err := c.Check(e, e.Reference())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Compile != nil {
				t.Fatalf("reference does not compile: %v", rep.Compile)
			}
			for _, r := range rep.Cases {
				if !r.Pass {
					t.Errorf("%s: max err %.3g at %s[%d] = %v, want %v: %s", r.Label, r.MaxRelErr, r.Output, r.FirstBad, r.Got, r.Want, r.Message)
				}
			}
			if e.numeric != nil && (rep.Grad == nil || !rep.Grad.Pass) {
				t.Errorf("gradient check: %+v", rep.Grad)
			}
			if !rep.Passed || len(rep.Notes) > 0 {
				t.Errorf("passed %v, notes %v", rep.Passed, rep.Notes)
			}
		})
	}
}

// The skeletons compile (a learner starts from a valid program) and fail.
func TestSkeletonsCompileAndFail(t *testing.T) {
	c := testChecker(t)
	for _, e := range All() {
		rep, err := c.Check(e, e.Skeleton)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Compile != nil || rep.Passed {
			t.Errorf("%s: skeleton compile error %v, passed %v; want it to compile and fail", e.Slug, rep.Compile, rep.Passed)
		}
		if len(rep.Cases) > 0 && !strings.Contains(rep.Cases[0].Message, "never written") {
			t.Errorf("%s: skeleton's message %q, want it to say the output was never written", e.Slug, rep.Cases[0].Message)
		}
	}
}

// seededMistakes edit a reference kernel into a known wrong one; the report
// must name the mistake.
var seededMistakes = []struct {
	slug, old, new, want string
}{
	{"relu", "max(x[i], 0.0)", "x[i]", "negative values must become 0"},
	{"dropout-forward", "s = p.scale;", "s = 1.0;", "forget to scale by 1/(1-p)"},
	{"dropout-forward", "random_word(i) >= p.threshold", "random_word(i) < p.threshold", "opposite"},
	{"dropout-backward", "dout[i] * mask[i]", "dout[i]", "multiply by the mask"},
	{"batchnorm-forward", "let v = sq / f32(p.N);", "let v = sq / f32(p.N - 1u);", "unbiased variance"},
	{"batchnorm-forward", "gamma[d] * (x[i] - mu) * istd + beta[d]", "(x[i] - mu) * istd", "gamma and beta"},
	{"batchnorm-backward", "gamma[d] * istd / nf * (nf * dout[i] - db - xhat * dg)", "gamma[d] * istd * dout[i]", "constants"},
	{"spatial-batchnorm-forward", "let v = sq / m;", "let v = sq / (m - 1.0);", "unbiased variance"},
	{"conv-forward", "i32(oh * p.stride + kh) - i32(p.pad)", "i32(oh * p.stride + kh) - i32(p.pad) + 1", "off by one"},
	{"conv-forward", "var acc = b[f];", "var acc = 0.0;", "bias is missing"},
	{"conv-backward-data", "th % s != 0", "th % s != th % s", "divides exactly"},
	{"conv-backward-data", "tw % s != 0", "tw % s != tw % s", "divides exactly"},
	{"conv-backward-weights", "i32(oh * p.stride + kh) - i32(p.pad)", "i32(oh * p.stride + kh) - i32(p.pad) - 1", "off by one"},
	{"maxpool-forward", "var best = x[base + (oh * p.stride) * p.W + ow * p.stride];", "var best = 0.0;", "starts at 0"},
	{"maxpool-backward", "if (arg == i) {", "if (true) {", "full gradient"},
}

func TestSeededMistakesAreNamed(t *testing.T) {
	c := testChecker(t)
	for _, m := range seededMistakes {
		t.Run(m.slug+"/"+m.want, func(t *testing.T) {
			e := BySlug(m.slug)
			src := e.Reference()
			if !strings.Contains(src, m.old) {
				t.Fatalf("reference has no %q", m.old)
			}
			rep, err := c.Check(e, strings.ReplaceAll(src, m.old, m.new))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Compile != nil {
				t.Fatalf("seeded variant does not compile: %v", rep.Compile)
			}
			if rep.Passed {
				t.Fatal("a wrong kernel passed")
			}
			var msgs []string
			found := false
			for _, r := range rep.Cases {
				msgs = append(msgs, r.Message)
				if !r.Pass && r.FirstBad < 0 {
					t.Errorf("%s failed without a first mismatching index", r.Label)
				}
				found = found || strings.Contains(r.Message, m.want)
			}
			if !found {
				t.Errorf("no message mentions %q: %q", m.want, msgs)
			}
		})
	}
}

func TestSyntaxErrorReportsItsLine(t *testing.T) {
	c := testChecker(t)
	e := BySlug("conv-forward")
	lines := strings.Split(e.Reference(), "\n")
	target := -1
	for i, l := range lines {
		if strings.Contains(l, "var acc = b[f];") {
			target = i
			lines[i] = strings.Replace(l, ";", "", 1) // drop the semicolon
		}
	}
	rep, err := c.Check(e, strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Compile == nil {
		t.Fatal("a missing semicolon compiled")
	}
	// The parser notices at the next token: the line itself or the next.
	if l := rep.Compile.Messages[0].Line; l != target+1 && l != target+2 {
		t.Errorf("error at line %d, want %d or %d: %v", l, target+1, target+2, rep.Compile)
	}
}

func TestInfiniteLoopIsContained(t *testing.T) {
	c := testChecker(t)
	e := BySlug("relu")
	src := strings.Replace(e.Reference(), "out[i] = max(x[i], 0.0);", "var k = 0u;\n    loop { k += 1u; }\n    out[i] = max(x[i], 0.0);", 1)
	rep, err := c.Check(e, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Notes) == 0 || !strings.Contains(rep.Cases[0].Message, "iteration budget") {
		t.Fatalf("endless loop: passed %v, notes %v, first case %q", rep.Passed, rep.Notes, rep.Cases[0].Message)
	}
	if len(rep.Cases) != len(e.cases()) || !strings.HasPrefix(rep.Cases[1].Message, "not run") || rep.Cases[1].Pass {
		t.Errorf("after the budget is hit the other shapes must be listed as not run: %+v", rep.Cases[1:])
	}
	// The device still works afterwards.
	rep, err = c.Check(e, e.Reference())
	if err != nil || !rep.Passed {
		t.Fatalf("after the endless loop the reference fails: %v %+v", err, rep)
	}
}

func TestLostDeviceIsReplaced(t *testing.T) {
	c := testChecker(t)
	own := NewCheckerOn(nil)
	defer own.Close()
	d, err := own.Device()
	if err != nil {
		t.Fatal(err)
	}
	d.LoseForTest()
	e := BySlug("relu")
	rep, err := own.Check(e, e.Reference())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "lost") {
		t.Fatalf("after a device loss: passed %v, notes %v", rep.Passed, rep.Notes)
	}
	rep, err = own.Check(e, e.Reference())
	if err != nil || !rep.Passed {
		t.Fatalf("the replaced device does not pass the reference: %v %+v", err, rep)
	}
	_ = c
}
