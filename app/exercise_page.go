package app

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"gradlab/core/exercise"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// ExercisesPath is the exercise index; each exercise is at
// ExercisesPath/<slug>.
const ExercisesPath = "/exercises"

// ExerciseRoutePaths lists the exercise routes, index first.
func ExerciseRoutePaths() []string {
	paths := []string{ExercisesPath}
	for _, e := range exercise.All() {
		paths = append(paths, ExercisesPath+"/"+e.Slug)
	}
	return paths
}

func registerExerciseRoutes() {
	goapp.Route(ExercisesPath, func() goapp.Composer { return &ExerciseIndex{} })
	for _, e := range exercise.All() {
		slug := e.Slug
		goapp.Route(ExercisesPath+"/"+slug, func() goapp.Composer { return &ExercisePage{Slug: slug} })
	}
}

// Saved work lives in localStorage under these keys: the code per exercise
// and whether it has passed. Both survive reloads and offline use.
func codeKey(slug string) string   { return "gradlab.exercise." + slug + ".code" }
func passedKey(slug string) string { return "gradlab.exercise." + slug + ".passed" }

// exerciseChecker is shared by every exercise page: one GPU device, one
// check at a time (a second click waits for the first).
var (
	checkerMu       sync.Mutex
	exerciseChecker *exercise.Checker
)

func runCheck(e *exercise.Exercise, src string) (*exercise.Report, error) {
	checkerMu.Lock()
	defer checkerMu.Unlock()
	if exerciseChecker == nil {
		exerciseChecker = exercise.NewChecker()
	}
	return exerciseChecker.Check(e, src)
}

// ExerciseIndex lists the exercises with the learner's progress, and
// exports or imports all saved work as one file.
type ExerciseIndex struct {
	goapp.Compo
	passed map[string]bool
	status string
}

func (p *ExerciseIndex) OnMount(ctx goapp.Context) { p.load(ctx) }

func (p *ExerciseIndex) load(ctx goapp.Context) {
	p.passed = map[string]bool{}
	for _, e := range exercise.All() {
		var ok bool
		ctx.LocalStorage().Get(passedKey(e.Slug), &ok)
		p.passed[e.Slug] = ok
	}
}

func (p *ExerciseIndex) OnNav(ctx goapp.Context) { ctx.Page().SetTitle("Exercises · gradlab") }

func (p *ExerciseIndex) OnPreRender(ctx goapp.Context) { ctx.Page().SetTitle("Exercises · gradlab") }

func (p *ExerciseIndex) Render() goapp.UI {
	exs := exercise.All()
	done := 0
	for _, e := range exs {
		if p.passed[e.Slug] {
			done++
		}
	}
	return Shell(ExercisesPath,
		goapp.Raw(exerciseCSS),
		goapp.H1().Text("Exercises · write the kernels yourself"),
		goapp.P().Class("lead").Text("Each exercise asks for one layer's WGSL compute kernel. Check compiles it in this browser, runs it on your GPU on several shapes and compares it with gradlab's float64 reference. Your code and progress are saved in this browser."),
		goapp.P().ID("exercise-progress").Text(fmt.Sprintf("Passed %d of %d.", done, len(exs))),
		goapp.Ol().Class("ex-list").Body(
			goapp.Range(exs).Slice(func(i int) goapp.UI {
				e := exs[i]
				mark := goapp.Span().Class("ex-todo").Text(" ○ not passed yet")
				if p.passed[e.Slug] {
					mark = goapp.Span().Class("ex-pass").Text(" ✓ passed")
				}
				return goapp.Li().DataSet("slug", e.Slug).Body(goapp.A().Href(Href(ExercisesPath+"/"+e.Slug)).Text(e.Title), mark)
			}),
		),
		goapp.H2().Text("Your saved work"),
		goapp.P().Text("Export writes every exercise's code and progress to a file; import reads such a file back (it replaces the code saved here)."),
		goapp.Div().Class("ex-actions").Body(
			goapp.Button().ID("exercise-export").Text("Export to a file").OnClick(p.export),
			goapp.Label().Body(goapp.Text("Import a file: "), goapp.Input().ID("exercise-import").Type("file").Accept(".json,application/json").OnChange(p.importFile)),
		),
		goapp.P().ID("exercise-io-status").Aria("live", "polite").Text(p.status),
	)
}

// savedWork is the export file's format.
type savedWork struct {
	Format string            `json:"format"`
	Code   map[string]string `json:"code"`
	Passed map[string]bool   `json:"passed"`
}

const savedWorkFormat = "gradlab-exercises-1"

func (p *ExerciseIndex) export(ctx goapp.Context, _ goapp.Event) {
	w := savedWork{Format: savedWorkFormat, Code: map[string]string{}, Passed: map[string]bool{}}
	for _, e := range exercise.All() {
		var code string
		if ctx.LocalStorage().Get(codeKey(e.Slug), &code); code != "" {
			w.Code[e.Slug] = code
		}
		w.Passed[e.Slug] = p.passed[e.Slug]
	}
	b, _ := json.MarshalIndent(w, "", "  ")
	blob := goapp.Window().Get("Blob").New([]any{string(b)}, map[string]any{"type": "application/json"})
	url := goapp.Window().Get("URL").Call("createObjectURL", blob)
	a := goapp.Window().Get("document").Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", "gradlab-exercises.json")
	a.Call("click")
	goapp.Window().Get("URL").Call("revokeObjectURL", url)
	p.status = fmt.Sprintf("Exported %d kernels.", len(w.Code))
}

func (p *ExerciseIndex) importFile(ctx goapp.Context, _ goapp.Event) {
	files := ctx.JSSrc().Get("files")
	if files.Length() == 0 {
		return
	}
	var done goapp.Func
	done = goapp.FuncOf(func(_ goapp.Value, args []goapp.Value) any {
		defer done.Release()
		text := args[0].String()
		ctx.Dispatch(func(ctx goapp.Context) { p.apply(ctx, text) })
		return nil
	})
	files.Index(0).Call("text").Call("then", done)
}

// apply stores an imported file, refusing anything that is not one.
func (p *ExerciseIndex) apply(ctx goapp.Context, text string) {
	var w savedWork
	if err := json.Unmarshal([]byte(text), &w); err != nil || w.Format != savedWorkFormat {
		p.status = "That file is not a gradlab exercises export; nothing was changed."
		return
	}
	var names []string
	for slug, code := range w.Code {
		if exercise.BySlug(slug) == nil || len(code) > 1<<20 {
			continue
		}
		ctx.LocalStorage().Set(codeKey(slug), code)
		ctx.LocalStorage().Set(passedKey(slug), w.Passed[slug])
		names = append(names, slug)
	}
	sort.Strings(names)
	p.load(ctx)
	p.status = fmt.Sprintf("Imported %d kernels: %s.", len(names), strings.Join(names, ", "))
}

// ExercisePage is one exercise: task, fixed declarations, editor, check
// results, hints and the reference.
type ExercisePage struct {
	goapp.Compo
	Slug string

	code     string
	report   *exercise.Report
	checkErr string
	running  bool
	hints    int
	showRef  bool
	passed   bool
	checks   int // finished checks, shown as data-seq so a test can tell results apart
}

func (p *ExercisePage) ex() *exercise.Exercise { return exercise.BySlug(p.Slug) }

func (p *ExercisePage) OnMount(ctx goapp.Context) {
	e := p.ex()
	if e == nil {
		return
	}
	p.code = e.Skeleton
	var saved string
	if ctx.LocalStorage().Get(codeKey(e.Slug), &saved); saved != "" {
		p.code = saved
	}
	ctx.LocalStorage().Get(passedKey(e.Slug), &p.passed)
}

func (p *ExercisePage) OnPreRender(ctx goapp.Context) { p.setTitle(ctx) }
func (p *ExercisePage) OnNav(ctx goapp.Context)       { p.setTitle(ctx) }

func (p *ExercisePage) setTitle(ctx goapp.Context) {
	if e := p.ex(); e != nil {
		ctx.Page().SetTitle("Exercise: %s · gradlab", e.Title)
	}
}

func (p *ExercisePage) onInput(ctx goapp.Context, _ goapp.Event) {
	p.code = ctx.JSSrc().Get("value").String()
	ctx.LocalStorage().Set(codeKey(p.Slug), p.code)
}

func (p *ExercisePage) check(ctx goapp.Context, _ goapp.Event) {
	e := p.ex()
	if e == nil || p.running {
		return
	}
	p.running, p.report, p.checkErr = true, nil, ""
	src := p.code
	// The check waits on GPU promises: it must run in a goroutine, never
	// in the event handler itself.
	ctx.Async(func() {
		rep, err := runCheck(e, src)
		ctx.Dispatch(func(ctx goapp.Context) {
			p.running, p.report = false, rep
			p.checks++
			if err != nil {
				p.checkErr = "The kernel could not be run: " + err.Error()
			}
			if rep != nil && rep.Passed {
				p.passed = true
				ctx.LocalStorage().Set(passedKey(e.Slug), true)
			}
		})
	})
}

func (p *ExercisePage) revealReference(ctx goapp.Context, _ goapp.Event) {
	if goapp.Window().Call("confirm", "Show gradlab's reference kernel? Try the hints first: reading the answer teaches less than finding it.").Bool() {
		p.showRef = true
	}
}

func (p *ExercisePage) reset(ctx goapp.Context, _ goapp.Event) {
	if e := p.ex(); e != nil && goapp.Window().Call("confirm", "Replace your code with the skeleton? Your current code is lost.").Bool() {
		p.code = e.Skeleton
		ctx.LocalStorage().Set(codeKey(e.Slug), p.code)
	}
}

func (p *ExercisePage) Render() goapp.UI {
	e := p.ex()
	if e == nil {
		return Shell(ExercisesPath, goapp.H1().Text("No such exercise"), goapp.A().Href(Href(ExercisesPath)).Text("All exercises"))
	}
	code := p.code
	if code == "" {
		code = e.Skeleton
	}
	errLines := map[int]string{}
	if p.report != nil && p.report.Compile != nil {
		for _, m := range p.report.Compile.Messages {
			if m.Line > 0 {
				errLines[m.Line] = m.Text
			}
		}
	}
	var task []goapp.UI
	for _, para := range e.Task {
		task = append(task, goapp.P().Text(para))
	}
	status := goapp.Span().Class("ex-todo").Text("not passed yet")
	if p.passed {
		status = goapp.Span().Class("ex-pass").Text("✓ passed")
	}
	return Shell(ExercisesPath,
		goapp.Raw(exerciseCSS),
		goapp.P().Body(goapp.A().Href(Href(ExercisesPath)).Text("← All exercises")),
		goapp.H1().Text("Exercise: "+e.Title),
		goapp.P().ID("exercise-status").Body(goapp.Text("Progress: "), status),
		goapp.Section().Body(append([]goapp.UI{goapp.H2().Text("Task")}, task...)...),
		goapp.P().Body(goapp.Strong().Text("Invocations: "), goapp.Text(e.Threads+fmt.Sprintf(" (workgroups of WG = %d along x).", exercise.WorkgroupSize))),
		goapp.P().Body(goapp.Strong().Text("Passing: "), goapp.Text(fmt.Sprintf("error ≤ %g per element (|got − want| / max(|want|, 1%% of the largest |want|)). %s", e.Threshold, e.ThresholdNote))),
		goapp.If(e.GradThreshold > 0, func() goapp.UI {
			return goapp.P().Text(fmt.Sprintf("Backward kernel: on the first shape your result is also compared with finite differences (h = 1e-5) of core/nn's float64 forward pass; error ≤ %g.", e.GradThreshold))
		}),
		goapp.H2().Text("Fixed declarations (do not change)"),
		goapp.P().Text("These come before your code; your kernel uses them as they are."),
		goapp.Pre().Class("ex-prelude").Body(highlightWGSL(strings.TrimRight(e.Prelude, "\n"), nil)...),
		goapp.H2().Text("Your kernel"),
		codeEditor("exercise-code", code, errLines, p.onInput),
		goapp.Div().Class("ex-actions").Body(
			goapp.Button().ID("exercise-check").Disabled(p.running).Text(map[bool]string{true: "Checking…", false: "Check"}[p.running]).OnClick(p.check),
			goapp.Button().ID("exercise-reset").Text("Reset to the skeleton").OnClick(p.reset),
		),
		p.renderResult(),
		goapp.H2().Text("Hints"),
		goapp.Ol().ID("exercise-hints").Body(
			goapp.Range(e.Hints[:p.hints]).Slice(func(i int) goapp.UI { return goapp.Li().Text(e.Hints[i]) }),
		),
		goapp.If(p.hints < len(e.Hints), func() goapp.UI {
			return goapp.Button().ID("exercise-hint").Text(fmt.Sprintf("Show hint %d of %d", p.hints+1, len(e.Hints))).OnClick(func(goapp.Context, goapp.Event) { p.hints++ })
		}),
		goapp.H2().Text("Reference"),
		goapp.If(p.showRef, func() goapp.UI {
			return goapp.Pre().ID("exercise-reference").Class("ex-prelude").Body(highlightWGSL(e.Reference(), nil)...)
		}).Else(func() goapp.UI {
			return goapp.Button().ID("exercise-show-reference").Text("Show gradlab's kernel…").OnClick(p.revealReference)
		}),
	)
}

// renderResult is the check's outcome: compile errors at their lines, or
// the per-shape table. data-state lets tests and screen readers follow it.
func (p *ExercisePage) renderResult() goapp.UI {
	box := goapp.Div().ID("exercise-result").Aria("live", "polite").DataSet("seq", p.checks)
	switch {
	case p.running:
		return box.DataSet("state", "running").Body(goapp.P().Text("Compiling and running your kernel on the GPU…"))
	case p.checkErr != "":
		return box.DataSet("state", "error").Body(goapp.P().Class("ex-errors").Text(p.checkErr))
	case p.report == nil:
		return box.DataSet("state", "none")
	case p.report.Compile != nil:
		var items []goapp.UI
		for _, m := range p.report.Compile.Messages {
			items = append(items, goapp.Li().Text(m.String()))
		}
		return box.DataSet("state", "compile-error").Body(
			goapp.P().Class("ex-fail").Text("Your kernel does not compile:"),
			goapp.Ul().Class("ex-errors compile-errors").Body(items...),
		)
	}
	r := p.report
	state, verdict := "fail", goapp.P().Class("ex-fail").Text("Not yet: see the failing rows.")
	if r.Passed {
		state, verdict = "pass", goapp.P().Class("ex-pass").Text("✓ All shapes pass.")
	}
	rows := append([]exercise.CaseResult(nil), r.Cases...)
	if r.Grad != nil {
		rows = append(rows, *r.Grad)
	}
	var notes []goapp.UI
	for _, n := range r.Notes {
		notes = append(notes, goapp.P().Class("ex-note").Text(n))
	}
	return box.DataSet("state", state).Body(
		verdict,
		goapp.Div().Body(notes...),
		goapp.Div().Class("ex-scroll").Body(goapp.Table().Class("ex-results").Body(
			goapp.Tr().Body(goapp.Th().Text("Shape"), goapp.Th().Text("Result"), goapp.Th().Text("Max error"), goapp.Th().Text("First mismatch"), goapp.Th().Text("What it suggests")),
			goapp.Range(rows).Slice(func(i int) goapp.UI {
				c := rows[i]
				res := goapp.Td().Class("ex-pass").Text("pass")
				mism := "—"
				if !c.Pass {
					res = goapp.Td().Class("ex-fail").Text("FAIL")
					if c.FirstBad >= 0 {
						mism = fmt.Sprintf("%s[%d] = %g, want %g", c.Output, c.FirstBad, c.Got, c.Want)
					}
				}
				maxErr := fmt.Sprintf("%.3g", c.MaxRelErr)
				if math.IsNaN(c.MaxRelErr) {
					maxErr = "—" // not run
				}
				return goapp.Tr().Body(goapp.Td().Text(c.Label), res, goapp.Td().Text(maxErr), goapp.Td().Text(mism), goapp.Td().Text(c.Message))
			}),
		)),
	)
}
