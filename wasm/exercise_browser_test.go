//go:build !js

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gradlab/app"
	"gradlab/core/exercise"

	"github.com/chromedp/chromedp"
)

// The exercise pages in headless Chromium (SwiftShader WebGPU): every
// exercise renders; on relu, dropout forward and conv forward, the
// reference pasted into the editor passes, a syntax error is shown at its
// line, and an endless loop is stopped while the page stays usable; code
// and progress survive a reload.

// setCode replaces the editor's text the way typing does (an input event).
func setCode(t *testing.T, tb *tab, code string) {
	t.Helper()
	js, _ := json.Marshal(code)
	_ = eval[bool](t, tb, fmt.Sprintf(`(() => {
		const t = document.getElementById('exercise-code');
		t.value = %s;
		t.dispatchEvent(new Event('input', {bubbles: true}));
		return true;
	})()`, js))
}

// checkAndWait clicks Check and waits for the result of that click: the
// result box counts finished checks in data-seq (a fast check can come and
// go between two polls, so waiting for a "running" state would be flaky).
func checkAndWait(t *testing.T, tb *tab, states ...string) string {
	t.Helper()
	seq := eval[int](t, tb, `+document.getElementById('exercise-result').dataset.seq`)
	// A click by coordinates could land where the button was before the
	// editor grew with the new code; the element's own click cannot miss.
	_ = eval[bool](t, tb, `document.getElementById('exercise-check').click(), true`)
	// Poll's own 30 s default is too short for a check of an endless loop
	// on SwiftShader when the machine is busy; the tab's deadline applies.
	ctx, cancel := context.WithTimeout(tb.ctx, pageTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(`+document.getElementById('exercise-result').dataset.seq > %d`, seq), chromedp.WithPollingTimeout(pageTimeout))); err != nil {
		tb.screenshot(t, "exercise-check-stuck")
		t.Fatalf("waiting for the check: %v; the page shows %q", err, resultText(t, tb))
	}
	st := eval[string](t, tb, `document.getElementById('exercise-result').dataset.state`)
	if !slices.Contains(states, st) {
		t.Fatalf("check ended in state %q, want one of %v: %s", st, states, resultText(t, tb))
	}
	return st
}

func resultText(t *testing.T, tb *tab) string {
	return eval[string](t, tb, `document.getElementById('exercise-result').textContent`)
}

func TestBrowserExerciseRoutesRender(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+app.ExercisesPath)
	links := eval[[]string](t, tb, `[...document.querySelectorAll('.ex-list a')].map(a => a.getAttribute('href'))`)
	if want := app.ExerciseRoutePaths()[1:]; strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("index links %v, want %v", links, want)
	}
	tb.screenshot(t, "exercises")
	for _, e := range exercise.All() {
		tb.open(t, root+app.ExercisesPath+"/"+e.Slug)
		if h1 := eval[string](t, tb, `document.querySelector('h1').textContent`); h1 != "Exercise: "+e.Title {
			t.Errorf("%s: h1 %q", e.Slug, h1)
		}
		if code := eval[string](t, tb, `document.getElementById('exercise-code').value`); code != e.Skeleton {
			t.Errorf("%s: the editor starts with %q, want the skeleton", e.Slug, code)
		}
		tb.checkNoErrors(t, e.Slug)
	}
	// On a phone nothing may be wider than the screen: the editor and the
	// declarations scroll inside their boxes.
	phone := newTab(t, browser)
	phone.do(t, "emulating a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	phone.open(t, root+app.ExercisesPath+"/conv-forward")
	if w := eval[[]int](t, phone, "[document.documentElement.scrollWidth, window.innerWidth]"); w[0] > w[1] {
		t.Errorf("an exercise on a phone is %dpx wide in a %dpx viewport", w[0], w[1])
	}
	phone.screenshot(t, "exercise-conv-forward-phone")
	tb.open(t, root+"/")
	if href := eval[string](t, tb, `document.getElementById('exercises-link')?.getAttribute('href') ?? ''`); href != app.ExercisesPath {
		t.Errorf("home links the exercises as %q", href)
	}
}

func TestBrowserExerciseCheck(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	for _, slug := range []string{"relu", "dropout-forward", "conv-forward"} {
		t.Run(slug, func(t *testing.T) {
			e := exercise.BySlug(slug)
			tb := newTab(t, browser)
			tb.open(t, root+app.ExercisesPath+"/"+slug)

			// A syntax error: drop the first semicolon of the reference's
			// body; the compiler stops there or at the next token.
			ref := e.Reference()
			lines := strings.Split(ref, "\n")
			bad := -1
			for i, l := range lines {
				if strings.HasPrefix(strings.TrimSpace(l), "let ") && strings.HasSuffix(l, ";") {
					lines[i], bad = strings.TrimSuffix(l, ";"), i+1
					break
				}
			}
			setCode(t, tb, strings.Join(lines, "\n"))
			if st := checkAndWait(t, tb, "compile-error", "pass", "fail", "error"); st != "compile-error" {
				t.Fatalf("syntax error: state %q: %s", st, resultText(t, tb))
			}
			msg := resultText(t, tb)
			marked := eval[[]int](t, tb, `[...document.querySelectorAll('.ed-ln-err')].map(e => +e.dataset.line)`)
			if len(marked) == 0 || (marked[0] != bad && marked[0] != bad+1) || !strings.Contains(msg, fmt.Sprintf("line %d:", marked[0])) {
				t.Errorf("syntax error on line %d: gutter marks %v, message %q", bad, marked, msg)
			}
			tb.screenshot(t, "exercise-"+slug+"-compile-error")

			// An endless loop: stopped by the budget, page still usable.
			loop := strings.Replace(ref, "if (i >= p.n) {", "var k = 0u;\n    loop { k += 1u; }\n    if (i >= p.n) {", 1)
			if slug == "conv-forward" {
				loop = strings.Replace(ref, "var acc = b[f];", "var acc = b[f];\n    while (acc == acc) { acc += 0.0; }", 1)
			}
			if loop == ref {
				t.Fatal("could not plant the endless loop")
			}
			setCode(t, tb, loop)
			if st := checkAndWait(t, tb, "compile-error", "pass", "fail", "error"); st != "fail" || !strings.Contains(resultText(t, tb), "iteration budget") {
				t.Errorf("endless loop: state %q, %q", st, resultText(t, tb))
			}
			tb.do(t, "showing a hint after the endless loop",
				chromedp.Click(chromedp.CSS("#exercise-hint")),
				chromedp.WaitVisible(chromedp.CSS("#exercise-hints li")),
			)

			// The reference passes, and the pass is remembered.
			setCode(t, tb, ref)
			if st := checkAndWait(t, tb, "compile-error", "pass", "fail", "error"); st != "pass" {
				t.Fatalf("reference: state %q: %s", st, resultText(t, tb))
			}
			tb.screenshot(t, "exercise-"+slug+"-pass")
			tb.checkNoErrors(t, slug+" after the reference passed")

			tb.open(t, root+app.ExercisesPath+"/"+slug)
			ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
			defer cancel()
			_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.getElementById('exercise-code').value.includes('fn main') && document.getElementById('exercise-status').textContent.includes('passed')`))
			if err != nil {
				t.Fatalf("after a reload: %v", err)
			}
			if code := eval[string](t, tb, `document.getElementById('exercise-code').value`); code != ref {
				t.Errorf("after a reload the editor holds %q, want the code checked last", code)
			}
			if !strings.Contains(eval[string](t, tb, `document.getElementById('exercise-status').textContent`), "✓ passed") {
				t.Error("progress not kept across the reload")
			}
		})
	}
}

// Hints unlock one at a time, the reference shows only after the
// confirmation, and saved work goes out to a file and comes back in.
func TestBrowserExerciseHintsReferenceAndImport(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	e := exercise.BySlug("maxpool-forward")
	tb.open(t, root+app.ExercisesPath+"/"+e.Slug)
	for i := 1; i <= len(e.Hints); i++ {
		tb.do(t, "showing a hint", chromedp.Click(chromedp.CSS("#exercise-hint")),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('#exercise-hints li').length === %d`, i)))
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#exercise-hint').length`); n != 0 {
		t.Error("the hint button stays after the last hint")
	}
	// Declining the confirmation keeps the reference hidden.
	_ = eval[bool](t, tb, `window.confirm = () => false; true`)
	tb.do(t, "declining the reference", chromedp.Click(chromedp.CSS("#exercise-show-reference")))
	if eval[bool](t, tb, `!!document.getElementById('exercise-reference')`) {
		t.Fatal("the reference showed without confirmation")
	}
	_ = eval[bool](t, tb, `window.confirm = () => true; true`)
	tb.do(t, "showing the reference", chromedp.Click(chromedp.CSS("#exercise-show-reference")),
		chromedp.WaitVisible(chromedp.CSS("#exercise-reference")))
	if got := eval[string](t, tb, `document.getElementById('exercise-reference').textContent`); strings.TrimSpace(got) != strings.TrimSpace(e.Reference()) {
		t.Errorf("the reference shown is not gradlab's kernel: %q", got)
	}

	file := filepath.Join(t.TempDir(), "work.json")
	code := "// imported\n" + e.Skeleton
	b, _ := json.Marshal(map[string]any{"format": "gradlab-exercises-1", "code": map[string]string{e.Slug: code, "no-such-exercise": "x"}, "passed": map[string]bool{e.Slug: true}})
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tb.open(t, root+app.ExercisesPath)
	tb.do(t, "importing a file",
		chromedp.SetUploadFiles(chromedp.CSS("#exercise-import"), []string{file}),
		chromedp.Poll[chromedp.Void](`document.getElementById('exercise-io-status').textContent.startsWith('Imported 1 ')`))
	if !strings.Contains(eval[string](t, tb, `document.querySelector('.ex-list li[data-slug="`+e.Slug+`"]').textContent`), "passed") {
		t.Error("imported progress not shown in the index")
	}
	tb.do(t, "exporting", chromedp.Click(chromedp.CSS("#exercise-export")),
		chromedp.Poll[chromedp.Void](`document.getElementById('exercise-io-status').textContent.startsWith('Exported 1 ')`))
	tb.open(t, root+app.ExercisesPath+"/"+e.Slug)
	if got := eval[string](t, tb, `document.getElementById('exercise-code').value`); got != code {
		t.Errorf("after the import the editor holds %q", got)
	}
	// A file that is not an export changes nothing.
	if err := os.WriteFile(file, []byte(`{"code": {"relu": "bad"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.open(t, root+app.ExercisesPath)
	tb.do(t, "importing a wrong file",
		chromedp.SetUploadFiles(chromedp.CSS("#exercise-import"), []string{file}),
		chromedp.Poll[chromedp.Void](`document.getElementById('exercise-io-status').textContent.includes('not a gradlab')`))
	tb.checkNoErrors(t, "hints, reference and import")
}
