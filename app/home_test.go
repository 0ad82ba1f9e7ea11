package app

import (
	"fmt"
	"strings"
	"testing"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

func render(t *testing.T, c goapp.Composer) string {
	t.Helper()
	e := goapp.NewTestEngine()
	if err := e.Load(c); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	return goapp.HTMLString(c)
}

func TestHomeListsEveryProblemWithItsRoute(t *testing.T) {
	h := &Home{}
	html := render(t, h)
	for _, p := range Problems {
		for _, want := range []string{`href="` + p.Path + `"`, p.Title, p.Summary} {
			if !strings.Contains(html, escape(want)) {
				t.Errorf("home page lacks %q for problem %d", want, p.Number)
			}
		}
	}
	if n := strings.Count(html, `class="problem"`); n != len(Problems) {
		t.Errorf("home lists %d problems, want %d", n, len(Problems))
	}
	// The first element of the page content is the h1.
	if err := goapp.Match(goapp.H1().Text("gradlab"), h, 0, 2, 0); err != nil {
		t.Error(err)
	}
}

func TestHomeShowsGPUStatus(t *testing.T) {
	h := &Home{}
	html := render(t, h)
	// OnMount (and so the check) runs only in a browser: natively the line
	// keeps its "checking" state.
	if !strings.Contains(html, `data-state="checking"`) || !strings.Contains(html, `aria-live="polite"`) {
		t.Errorf("status line not in checking state or not announced: %s", html)
	}
	h.gpu = GPUStatus{State: GPUWebGPU, Text: "WebGPU is available: vendor test."}
	html = goapp.HTMLString(h.Render())
	if !strings.Contains(html, `data-state="webgpu"`) || !strings.Contains(html, "vendor test") {
		t.Errorf("status line does not show a found adapter: %s", html)
	}
	h.gpu = fallbackStatus("no adapter")
	html = goapp.HTMLString(h.Render())
	if !strings.Contains(html, `data-state="cpu"`) || !strings.Contains(html, "CPU") {
		t.Errorf("status line does not announce the CPU fallback: %s", html)
	}
}

func TestDetectWebGPUNatively(t *testing.T) {
	s := DetectWebGPU()
	if s.State != GPUNotBrowser || s.Text != "not in a browser" {
		t.Errorf("native DetectWebGPU = %+v", s)
	}
}

func TestProblemPagesArePlaceholdersThatSaySo(t *testing.T) {
	for _, p := range Problems {
		html := render(t, &ProblemPage{Number: p.Number})
		for _, want := range []string{fmt.Sprintf("Problem %d", p.Number), p.Statement, p.Computes, "not built yet", `aria-current="page"`} {
			if !strings.Contains(html, escape(want)) {
				t.Errorf("page %s lacks %q", p.Path, want)
			}
		}
		if p.Number > 1 && !strings.Contains(html, `class="prev"`) || p.Number < len(Problems) && !strings.Contains(html, `class="next"`) {
			t.Errorf("page %s lacks its previous/next links", p.Path)
		}
	}
	html := render(t, &ProblemPage{Number: 9})
	if !strings.Contains(html, "no homework problem 9") {
		t.Errorf("problem 9 should say it does not exist: %s", html)
	}
}

func TestProblemsAreNumberedWithDistinctRoutes(t *testing.T) {
	seen := map[string]bool{}
	for i, p := range Problems {
		if p.Number != i+1 {
			t.Errorf("Problems[%d] has number %d", i, p.Number)
		}
		if p.Path != fmt.Sprintf("/p%d", p.Number) || seen[p.Path] {
			t.Errorf("problem %d has route %q; routes are /p1../p8 and stay stable", p.Number, p.Path)
		}
		seen[p.Path] = true
		if p.Title == "" || p.Short == "" || p.Summary == "" || p.Statement == "" || p.Computes == "" {
			t.Errorf("problem %d has an empty field: %+v", p.Number, p)
		}
	}
	if len(Problems) != 8 {
		t.Errorf("%d problems, the homework has 8", len(Problems))
	}
	for _, n := range []int{0, -1, 9} {
		if _, err := ProblemByNumber(n); err == nil {
			t.Errorf("ProblemByNumber(%d) returned no error", n)
		}
	}
	if got := RoutePaths(); len(got) != 9 || got[0] != "/" || got[8] != "/p8" {
		t.Errorf("RoutePaths() = %v", got)
	}
}

// escape matches how go-app writes text into HTML.
func escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	if strings.HasPrefix(s, "href=") || strings.HasPrefix(s, "aria-") || strings.HasPrefix(s, "class=") {
		return s
	}
	return r.Replace(s)
}
