//go:build !js

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Browser checks of the computed problem pages: each renders in the real
// browser without console errors and fits a phone; inputs validate; state
// that must survive a reload does.

// setField types a value into a field the way a learner's keystroke does:
// the value changes, then an input event bubbles.
func setField(t *testing.T, tb *tab, selector, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
		el.value = %q; el.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, selector, value)
	if !eval[bool](t, tb, js) {
		t.Fatalf("no field %s", selector)
	}
}

func text(t *testing.T, tb *tab, selector string) string {
	t.Helper()
	return eval[string](t, tb, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ''`, selector))
}

// waitText polls until the element's text contains want.
func waitText(t *testing.T, tb *tab, selector, want string) {
	t.Helper()
	tb.do(t, fmt.Sprintf("waiting for %s to contain %q", selector, want),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? '').includes(%q)`, selector, want)))
}

// computedPages lists each page with an element whose text proves it
// computed its answer in the browser.
var computedPages = []struct{ route, selector, want string }{
	{"/p1", "#p1-sep", "39"},
	{"/p2", "#p2-verdict", "inside the 95% interval"},
	{"/p3", "#p3-result", "σ²"},
	{"/p4", "#p4-table", "2n(n−1) = 24"},
	{"/p6", "#p6-ols", "1.089"},
	{"/p7", "#p7-flow-status", "Unique solution"},
	{"/p8", "#p8-status", "Saved automatically"},
}

const phoneWidth = 390

// wideElements lists the innermost elements reaching past the phone's
// width, leaving out those inside a box that scrolls sideways on its own.
const wideElements = `(() => {
	const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
		if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true } return false };
	return [...document.querySelectorAll('main *')].filter(e => {
		const r = e.getBoundingClientRect();
		return r.right > 391 && !scrolls(e) && ![...e.children].some(c => c.getBoundingClientRect().right > 391);
	}).slice(0, 8).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
})()`

func TestBrowserComputedPagesRenderOnLaptopAndPhone(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	for _, pg := range computedPages {
		t.Run(routeName(pg.route), func(t *testing.T) {
			tb := newTab(t, browser)
			tb.open(t, root+pg.route)
			waitText(t, tb, pg.selector, pg.want)
			if n := eval[int](t, tb, `document.querySelectorAll('section[aria-labelledby="computes"]').length`); n != 0 {
				t.Errorf("%s still shows the placeholder page", pg.route)
			}
			tb.screenshot(t, routeName(pg.route)+"-laptop")
			tb.checkNoErrors(t, pg.route)

			phone := newTab(t, browser)
			phone.do(t, "emulating a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
			phone.open(t, root+pg.route)
			waitText(t, phone, pg.selector, pg.want)
			// A mobile viewport zooms out to fit wide content, so compare with
			// the device width, not innerWidth, and name what sticks out.
			if w := eval[int](t, phone, "document.documentElement.scrollWidth"); w > phoneWidth {
				wide := eval[[]string](t, phone, wideElements)
				t.Errorf("%s on a phone is %dpx wide on a %dpx screen; too wide: %v", pg.route, w, phoneWidth, wide)
			}
			phone.screenshot(t, routeName(pg.route)+"-phone")
			phone.checkNoErrors(t, pg.route+" (phone)")
		})
	}
}

func TestBrowserP1InvalidInputShowsMessage(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p1")
	waitText(t, tb, "#p1-c-trad", "108")
	setField(t, tb, "#p1-cin", "abc")
	waitText(t, tb, "#p1-cin-msg", "not a number")
	if inv := eval[string](t, tb, `document.querySelector('#p1-cin').getAttribute('aria-invalid')`); inv != "true" {
		t.Errorf("aria-invalid = %q on a field holding abc", inv)
	}
	// The invalid text is not passed on: the counts keep the last valid value.
	if got := text(t, tb, "#p1-c-trad"); got != "108" {
		t.Errorf("after abc the count is %q, want the unchanged 108", got)
	}
	setField(t, tb, "#p1-cin", "0")
	waitText(t, tb, "#p1-cin-msg", "at least 1")
	setField(t, tb, "#p1-cin", "8")
	waitText(t, tb, "#p1-c-trad", fmt.Sprint(3*3*8*4))
	if msg := text(t, tb, "#p1-cin-msg"); msg != "" {
		t.Errorf("valid 8 still shows %q", msg)
	}
	tb.screenshot(t, "p1-edited")
	tb.checkNoErrors(t, "p1 input")
}

func TestBrowserP7GraphEditChangesMatrix(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p7")
	const nonZero = `document.querySelectorAll('#p7-A td.hl').length`
	waitText(t, tb, "#p7-A", "1")
	if n := eval[int](t, tb, nonZero); n != 12 {
		t.Fatalf("example A has %d non-zero entries, want 12", n)
	}
	tb.do(t, "removing the first edge", chromedp.Click(chromedp.CSS(`#p7-edges li:first-child button`)))
	tb.do(t, "waiting for A to change", chromedp.Poll[chromedp.Void](nonZero+` === 10`))
	tb.do(t, "making the graph directed", chromedp.Click(chromedp.CSS(`#p7-directed`)))
	waitText(t, tb, "#p7-matrices", "With the out-degree matrix")
	// Measured flows: clearing one leaves the system under-determined.
	setField(t, tb, "#p7-flow-5", "")
	waitText(t, tb, "#p7-flow-status", "Under-determined")
	setField(t, tb, "#p7-flow-5", "-3")
	waitText(t, tb, "#p7-flow-5-msg", "at least 0")
	tb.screenshot(t, "p7-edited")
	tb.checkNoErrors(t, "p7 edit")
}

func TestBrowserP4RingAnimation(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p4")
	waitText(t, tb, "#p4-step", "Step 0 of 4")
	tb.do(t, "stepping", chromedp.Click(chromedp.CSS(`#p4-next`)))
	waitText(t, tb, "#p4-step", "Step 1 of 4")
	if n := eval[int](t, tb, `document.querySelectorAll('#p4-ring-svg line.send').length`); n != 3 {
		t.Errorf("step 1 draws %d sends, want 3", n)
	}
	tb.do(t, "playing", chromedp.Click(chromedp.CSS(`#p4-play`)))
	waitText(t, tb, "#p4-step", "Done")
	tb.screenshot(t, "p4-ring-done")
	tb.checkNoErrors(t, "p4 animation")
}

func TestBrowserP6SweepShowsProgressAndPoints(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p6")
	waitText(t, tb, "#p6-ols", "1.089")
	tb.do(t, "starting the sweep", chromedp.Click(chromedp.CSS(`#p6-sweep`)))
	// The progress bar shows while the points arrive one by one.
	tb.do(t, "waiting for the progress bar", chromedp.WaitVisible(chromedp.CSS(`#p6-sweep-progress[role="progressbar"]`)))
	tb.do(t, "waiting for the sweep", chromedp.Poll[chromedp.Void](`document.querySelectorAll('#p6-sweep-table tbody tr').length === 5`))
	if n := eval[int](t, tb, `document.querySelectorAll('#p6-sweep-progress').length`); n != 0 {
		t.Error("progress bar still shown after the sweep")
	}
	if n := eval[int](t, tb, `document.querySelectorAll('#p6-g-plot circle.marker').length`); n < 4+10 {
		t.Errorf("sweep plot has %d markers, want the 4 at p = 0 and 10 trained", n)
	}
	tb.screenshot(t, "p6-sweep")
	tb.checkNoErrors(t, "p6 sweep")
}

func TestBrowserP8NotesSurviveReload(t *testing.T) {
	browser := newBrowser(t)
	root := serve(t, testSite(t), "")
	tb := newTab(t, browser)
	tb.open(t, root+"/p8")
	setField(t, tb, "#p8-sources", "Bishop, PRML ch. 5 & the #dropout paper")
	setField(t, tb, "#p8-hours", "-2")
	waitText(t, tb, "#p8-hours-msg", "at least 0")
	setField(t, tb, "#p8-hours", "7.5")
	waitText(t, tb, "#p8-status", "Saved in this browser")
	tb.open(t, root+"/p8")
	tb.do(t, "waiting for the saved notes",
		chromedp.Poll[chromedp.Void](`document.querySelector('#p8-sources')?.value.startsWith('Bishop')`))
	if v := eval[string](t, tb, `document.querySelector('#p8-sources').value`); v != "Bishop, PRML ch. 5 & the #dropout paper" {
		t.Errorf("sources after reload %q", v)
	}
	if v := eval[string](t, tb, `document.querySelector('#p8-hours').value`); v != "7.5" {
		t.Errorf("hours after reload %q (the invalid -2 must never have been saved over 7.5)", v)
	}
	href := eval[string](t, tb, `document.querySelector('#p8-export').getAttribute('href')`)
	exported := eval[string](t, tb, `decodeURIComponent(document.querySelector('#p8-export').getAttribute('href').split(',').slice(1).join(','))`)
	if !strings.HasPrefix(href, "data:text/plain") || !strings.Contains(exported, "Bishop, PRML ch. 5 & the #dropout paper") || !strings.Contains(exported, "Hours spent: 7.5") {
		t.Errorf("export link %q holds %q", href, exported)
	}
	tb.screenshot(t, "p8-reloaded")
	tb.checkNoErrors(t, "p8 reload")
}
