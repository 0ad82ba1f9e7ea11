package app

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// byID returns the HTML of the element with this id, up to its matching
// closing tag.
func byID(t *testing.T, html, id string) string {
	t.Helper()
	open := regexp.MustCompile(`<(\w+)[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	loc := open.FindStringSubmatchIndex(html)
	if loc == nil {
		t.Fatalf("no element with id %q", id)
	}
	tag := html[loc[2]:loc[3]]
	tags := regexp.MustCompile(`<(/?)` + tag + `\b[^>]*>`)
	depth := 0
	for _, m := range tags.FindAllStringSubmatchIndex(html[loc[0]:], -1) {
		if m[3] > m[2] {
			depth--
		} else {
			depth++
		}
		if depth == 0 {
			return html[loc[0] : loc[0]+m[1]]
		}
	}
	return html[loc[0]:]
}

func mustContain(t *testing.T, html string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(html, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func TestEveryBuiltPageIsRoutedWithItsHeading(t *testing.T) {
	for n, newPage := range pages {
		p, _ := ProblemByNumber(n)
		html := render(t, newPage())
		mustContain(t, html, "<h1>"+escape(problemHeading(p))+"</h1>", `aria-current="page"`, escape(p.Statement))
		if strings.Contains(html, "This page is not built yet") {
			t.Errorf("page %d still shows the placeholder", n)
		}
	}
}

func TestP1AnswersTheHomework(t *testing.T) {
	html := render(t, &SeparablePage{})
	// 3*3*3*4 = 108 and 3*3*3 + 3*4 = 39, worked by hand from the homework.
	mustContain(t, byID(t, html, "p1-trad"), ">108<")
	mustContain(t, byID(t, html, "p1-sep"), ">39<")
	mustContain(t, byID(t, html, "p1-c-trad"), ">108<")
	mustContain(t, byID(t, html, "p1-c-sep"), ">39<")
	// 224x224 output, 108 multiply-adds per output pixel.
	mustContain(t, byID(t, html, "p1-f-trad"), ">"+Count(224*224*108)+"<")
	mustContain(t, html, "1, 1, 1", "3 (at most min(C_out, C_in) = 3; a free kernel has 4)", `id="p1-gpu-run"`)
}

func TestP1FollowsTheInputs(t *testing.T) {
	p := &SeparablePage{}
	p.defaults()
	p.cin, p.cout, p.k, p.h, p.w = 16, 32, 5, 10, 12
	html := render(t, p)
	mustContain(t, byID(t, html, "p1-c-trad"), ">"+Count(5*5*16*32)+"<")
	mustContain(t, byID(t, html, "p1-c-sep"), ">"+Count(5*5*16+16*32)+"<")
	mustContain(t, byID(t, html, "p1-f-dw"), ">"+Count(10*12*16*25)+"<")
	// The homework's answer does not move with the experiment.
	mustContain(t, byID(t, html, "p1-trad"), ">108<")

	big := &SeparablePage{}
	big.defaults()
	big.cin, big.cout = 2048, 2048
	html = render(t, big)
	mustContain(t, html, "the page factorises kernels of up to")
}

func TestP2ClosedFormInsideTheInterval(t *testing.T) {
	pg := &TikhonovPage{}
	html := render(t, pg)
	x, y, w := pg.data()
	exact, err := hw.DropoutExpectedLoss(x, y, w, pg.p)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, byID(t, html, "p2-exact"), FormatNum(exact.Total, 6))
	mustContain(t, byID(t, html, "p2-verdict"), `data-inside`, "inside the 95% interval")
	mustContain(t, html, "𝔼", "p(1−p)", `id="p2-weights"`, `id="p2-norms"`, "batch normalisation")
	// Every column of X~ has norm 1 (part d).
	norms := byID(t, html, "p2-norms")
	if n := strings.Count(norms, "<td>1</td>"); n != int(pg.d) {
		t.Errorf("X~ has %d unit column norms shown, want %d: %s", n, int(pg.d), norms)
	}
}

func TestP2ShowsCoreErrorAtTheEdges(t *testing.T) {
	pg := &TikhonovPage{}
	pg.defaults()
	pg.p = 1
	html := render(t, pg)
	mustContain(t, byID(t, html, "p2-ridge-error"), "strictly between 0 and 1")
	mustContain(t, html, `id="p2-exact"`) // the Monte-Carlo check still runs at p = 1
}

func TestP3CandidateTestPicksTheAnswer(t *testing.T) {
	pg := &GaussNoisePage{}
	html := render(t, pg)
	mustContain(t, byID(t, html, "p3-result"), "(A) = ", "μ", "(B) = ", "σ²")
	a, b := hw.GaussAnswer()
	cands := regexp.MustCompile(`(?s)id="p3-candidates".*?</table>`).FindString(html)
	if n := strings.Count(cands, `class="hl"`); n != 1 {
		t.Errorf("%d candidates consistent at μ=0.8, σ=0.6, want only the answer", n)
	}
	// The highlighted cell is row a, column b.
	rows := regexp.MustCompile(`(?s)<tr>.*?</tr>`).FindAllString(cands[strings.Index(cands, "<tbody>"):], -1)
	cells := regexp.MustCompile(`<td[^>]*>`).FindAllString(rows[a], -1)
	if !strings.Contains(cells[b], "hl") {
		t.Errorf("row %d's highlighted cell is not column %d: %v", a, b, cells)
	}
	mustContain(t, html, "Pick one option in each group")

	right := &GaussNoisePage{}
	right.defaults()
	right.pickA, right.pickB = a, b
	mustContain(t, byID(t, render(t, right), "p3-pick"), "consistent with the simulation")
	wrong := &GaussNoisePage{}
	wrong.defaults()
	wrong.pickA, wrong.pickB = a, (b+1)%len(hw.GaussChoicesB)
	mustContain(t, byID(t, render(t, wrong), "p3-pick"), "ruled out")
}

func TestP4TableMatchesSimulation(t *testing.T) {
	pg := &DistributedPage{}
	html := render(t, pg)
	table := byID(t, html, "p4-table")
	// n = 4, p = 1200: 12 messages of 1200, 8 of 1200, 24 of 300.
	mustContain(t, table, "n(n−1) = 12", "2n = 8", "2n(n−1) = 24", "p/n = 300", ">12<", ">8<", ">24<", ">[1200]<", ">[300]<")
	if n := strings.Count(byID(t, html, "p4-checks"), "equals the true mean"); n != 3 {
		t.Errorf("%d schemes averaged correctly, want 3", n)
	}
	mustContain(t, byID(t, html, "p4-step"), "Step 0 of 4")
	if n := strings.Count(byID(t, html, "p4-ring-svg"), `class="send"`); n != 0 {
		t.Errorf("start of the animation shows %d sends", n)
	}

	last := &DistributedPage{}
	last.defaults()
	last.animStep = 4
	html = render(t, last)
	mustContain(t, byID(t, html, "p4-step"), "Done")
	if n := strings.Count(byID(t, html, "p4-ring-svg"), `class="send"`); n != 3 {
		t.Errorf("last step shows %d sends, want one per worker", n)
	}
	if n := strings.Count(byID(t, html, "p4-ring-svg"), `>3</text>`); n != 9 {
		t.Errorf("after the last step %d chunks hold all 3 gradients, want 9", n)
	}
}

func TestP4BadAndLargeInputs(t *testing.T) {
	bad := &DistributedPage{}
	bad.defaults()
	bad.n, bad.p = 7, 1200
	mustContain(t, byID(t, render(t, bad), "p4-error"), "not divisible")
	big := &DistributedPage{}
	big.defaults()
	big.n, big.p = 1000, 1e9
	html := render(t, big)
	mustContain(t, html, `id="p4-sim-skipped"`, "n(n−1) = 999,000")
}

func TestP6NotebookAnswers(t *testing.T) {
	html := render(t, &DropoutNotebookPage{})
	// OLS: x y / |x|^2 = 11/101 [10, 1].
	mustContain(t, byID(t, html, "p6-ols"), Vec([]float64{110.0 / 101, 11.0 / 101}))
	// Augmented least squares at p = 0.5 and the p -> 0+ limit (worked by hand:
	// (X^T X + Gamma^2) w = X^T y gives [11/30, 11/3]; the limit is y/(2 x_j)).
	mustContain(t, byID(t, html, "p6-aug-w"), Vec([]float64{11.0 / 30, 11.0 / 3}))
	mustContain(t, byID(t, html, "p6-jump"), Vec([]float64{0.55, 5.5}))
	mustContain(t, html, `id="p6-de-plot"`, `id="p6-g-plot"`, `id="p6-h-table"`, `id="p6-i-status"`, "Run the empirical sweep", "batch 1024")
	if strings.Contains(html, `id="p6-run-error"`) {
		t.Errorf("default training runs failed: %s", byID(t, html, "p6-run-error"))
	}
}

func TestP6ShowsDivergence(t *testing.T) {
	pg := &DropoutNotebookPage{}
	pg.defaults()
	pg.runs, pg.runErr = trainRuns(0.01, 2000, 1)
	html := render(t, pg)
	mustContain(t, byID(t, html, "p6-run-error"), "diverged")
	// Shorter, the run ends with huge but finite weights: the page must
	// still say it diverged.
	short := &DropoutNotebookPage{}
	short.defaults()
	short.runs, short.runErr = trainRuns(0.01, 200, 1)
	if short.runErr != nil {
		t.Fatal(short.runErr)
	}
	mustContain(t, byID(t, render(t, short), "p6-diverging"), "diverging")
	ok := &DropoutNotebookPage{}
	if strings.Contains(render(t, ok), "p6-diverging") {
		t.Error("the default run is reported as diverging")
	}
}

func TestP7MatricesFollowEdits(t *testing.T) {
	pg := &GraphsPage{}
	html := render(t, pg)
	a := byID(t, html, "p7-A")
	if n := strings.Count(a, `class="hl"`); n != 12 {
		t.Errorf("example A has %d non-zero entries, want 12 (6 undirected edges)", n)
	}
	mustContain(t, html, "Eq. (14) holds", "are real", `id="p7-graph"`)

	edited := &GraphsPage{}
	edited.defaults()
	edited.RemoveEdge(0)
	if n := strings.Count(byID(t, render(t, edited), "p7-A"), `class="hl"`); n != 10 {
		t.Errorf("after removing an edge A has %d non-zero entries, want 10", n)
	}

	// Node 1 is on edges 1-2 and 1-3: without them it is isolated.
	iso := &GraphsPage{}
	iso.defaults()
	iso.RemoveEdge(0)
	iso.RemoveEdge(0)
	html = render(t, iso)
	mustContain(t, byID(t, html, "p7-v0-zero"), "Node(s) 1 have degree 0")
	mustContain(t, byID(t, html, "p7-v0-eq14"), "does not hold")
}

func TestP7EditErrorsAndDirected(t *testing.T) {
	pg := &GraphsPage{}
	pg.defaults()
	pg.AddEdge(0, 0)
	mustContain(t, byID(t, render(t, pg), "p7-edit-error"), "self-loop")

	dup := &GraphsPage{}
	dup.defaults()
	dup.AddNode("2")
	mustContain(t, byID(t, render(t, dup), "p7-edit-error"), "already exists")

	dir := &GraphsPage{}
	dir.defaults()
	dir.SetDirected(true)
	html := render(t, dir)
	mustContain(t, html, "With the in-degree matrix", "With the out-degree matrix", "marker-end")

	empty := &GraphsPage{}
	empty.defaults()
	for empty.g.N() > 0 {
		empty.RemoveNode(0)
	}
	html = render(t, empty)
	mustContain(t, byID(t, html, "p7-matrices-error"), "no nodes")
	mustContain(t, html, "The graph has no nodes")
}

func TestP7RoadFlows(t *testing.T) {
	pg := &GraphsPage{}
	html := render(t, pg)
	mustContain(t, byID(t, html, "p7-flow-status"), "Unique solution: 8 equations")
	// Conservation holds exactly: every imbalance shows as 0.
	if n := strings.Count(byID(t, html, "p7-residual"), "<td>0</td>"); n != 8 {
		t.Errorf("%d of 8 intersections balanced", n)
	}

	under := &GraphsPage{}
	under.defaults()
	under.SetFlow(5, 0, false)
	mustContain(t, byID(t, render(t, under), "p7-flow-status"), "Under-determined")

	over := &GraphsPage{}
	over.defaults()
	for id := 1; id <= 22; id++ {
		over.SetFlow(id, 100, true)
	}
	mustContain(t, byID(t, render(t, over), "p7-flow-status"), "inconsistent")
}

// memStorage is a BrowserStorage for tests: the native engine's own is
// not exported.
type memStorage map[string][]byte

func (m memStorage) Set(k string, v any) error {
	b, err := json.Marshal(v)
	m[k] = b
	return err
}
func (m memStorage) Get(k string, v any) error {
	if b, ok := m[k]; ok {
		return json.Unmarshal(b, v)
	}
	return nil
}
func (m memStorage) Del(k string) { delete(m, k) }
func (m memStorage) Len() int     { return len(m) }
func (m memStorage) Clear()       { clear(m) }
func (m memStorage) ForEach(f func(k string)) {
	for k := range m {
		f(k)
	}
}
func (m memStorage) Contains(k string) bool { _, ok := m[k]; return ok }

func TestP8NotesAreSavedAndExported(t *testing.T) {
	store := memStorage{}
	_ = store.Set(NotesKey, Notes{Sources: "Goodfellow ch. 7", Hours: 6.5, HasHours: true})
	pg := &NotesPage{}
	pg.Load(store)
	pg.Edit(func(n *Notes) { n.Collaborators = "Ada & Alan #2" })
	var saved Notes
	if err := store.Get(NotesKey, &saved); err != nil || saved.Collaborators != "Ada & Alan #2" || saved.Sources != "Goodfellow ch. 7" || saved.Hours != 6.5 {
		t.Fatalf("saved %+v (%v)", saved, err)
	}
	html := render(t, pg)
	mustContain(t, html, "Goodfellow ch. 7", `value="6.5"`, "Saved in this browser", `download="gradlab-homework-notes.txt"`)
	href := regexp.MustCompile(`href="(data:[^"]*)"`).FindStringSubmatch(html)
	if href == nil {
		t.Fatal("no data: link")
	}
	body, err := url.PathUnescape(strings.TrimPrefix(strings.ReplaceAll(href[1], "&amp;", "&"), "data:text/plain;charset=utf-8,"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, body, "(a) Sources used:\nGoodfellow ch. 7", "(b) Collaborators:\nAda & Alan #2", "(c) Hours spent: 6.5")
	if strings.Contains(href[1], "#") {
		t.Error("a # in the data URL would cut the file short")
	}
}

func TestP8ReportsStorageFailure(t *testing.T) {
	pg := &NotesPage{}
	pg.Load(failingStorage{memStorage{}})
	pg.Edit(func(n *Notes) { n.Free = "x" })
	mustContain(t, byID(t, render(t, pg), "p8-save-error"), "not saved")
}

type failingStorage struct{ memStorage }

func (failingStorage) Set(string, any) error { return fmt.Errorf("QuotaExceededError") }

var _ goapp.BrowserStorage = memStorage{}

func TestP4SingleWorkerAndP7EmptyLabel(t *testing.T) {
	one := &DistributedPage{}
	one.defaults()
	one.n, one.p = 1, 10
	html := render(t, one)
	mustContain(t, byID(t, html, "p4-table"), "n(n−1) = 0", "2n = 2")
	if strings.Contains(html, `id="p4-sim-error"`) {
		t.Errorf("one worker: %s", byID(t, html, "p4-sim-error"))
	}
	pg := &GraphsPage{}
	pg.defaults()
	pg.AddNode("  ")
	mustContain(t, byID(t, render(t, pg), "p7-edit-error"), "empty")
	full := &GraphsPage{}
	full.defaults()
	for i := 0; full.g.N() < maxEditorNodes; i++ {
		full.AddNode(fmt.Sprint("n", i))
	}
	full.AddNode("extra")
	mustContain(t, byID(t, render(t, full), "p7-edit-error"), "at most 16 nodes")
}

// In the browser the page opens before its training runs finish: each
// missing result shows a progress bar, never an empty plot.
func TestP6OpensWithProgressBeforeResults(t *testing.T) {
	pg := &DropoutNotebookPage{}
	html := goapp.HTMLString(pg.Render())
	for _, id := range []string{"p6-de-computing", "p6-g-computing", "p6-h-computing"} {
		mustContain(t, byID(t, html, id), `role="progressbar"`, "Computing")
	}
	if strings.Contains(html, `id="p6-de-plot"`) {
		t.Error("loss plot drawn before the runs exist")
	}
}
