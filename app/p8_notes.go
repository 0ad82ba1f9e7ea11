package app

import (
	"fmt"
	"net/url"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// NotesPage is problem 8: sources, collaborators and hours, kept in this
// browser's local storage on every change and exportable as a text file.
// Nothing leaves the browser.
type NotesPage struct {
	goapp.Compo
	notes   Notes
	store   goapp.BrowserStorage
	loaded  bool
	saveErr error
	saves   int
	reset   int
}

// Notes is what the form holds; it is stored as JSON under NotesKey.
type Notes struct {
	Sources       string  `json:"sources"`
	Collaborators string  `json:"collaborators"`
	Hours         float64 `json:"hours"`
	HasHours      bool    `json:"has_hours"`
	Free          string  `json:"notes"`
}

// NotesKey is the local-storage key; the version lets a later format
// migrate old notes instead of misreading them.
const NotesKey = "gradlab/notes/v1"

// maxHours bounds the hours field: more than a year of work is a typo.
const maxHours = 10000

// OnPreRender titles the pre-rendered page.
func (pg *NotesPage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 8) }

// OnNav titles the page after an in-app navigation.
func (pg *NotesPage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 8) }

// OnMount loads the saved notes (browser only).
func (pg *NotesPage) OnMount(ctx goapp.Context) { pg.Load(ctx.LocalStorage()) }

// Load reads the notes from a storage and keeps it for saving.
func (pg *NotesPage) Load(store goapp.BrowserStorage) {
	pg.store = store
	var n Notes
	if err := store.Get(NotesKey, &n); err != nil {
		pg.saveErr = fmt.Errorf("could not read the saved notes (%v); what you type now will replace them", err)
	} else {
		pg.notes = n
	}
	pg.loaded = true
	pg.reset++
}

// Edit changes the notes and saves them at once.
func (pg *NotesPage) Edit(f func(*Notes)) {
	f(&pg.notes)
	if pg.store == nil {
		return
	}
	if err := pg.store.Set(NotesKey, pg.notes); err != nil {
		pg.saveErr = fmt.Errorf("not saved: %v (the browser may block storage or be out of space); export your notes to keep them", err)
		return
	}
	pg.saveErr = nil
	pg.saves++
}

// Text is the export: a plain-text file of the three answers and the notes.
func (n Notes) Text() string {
	hours := "(not given)"
	if n.HasHours {
		hours = FormatNum(n.Hours, 6)
	}
	var b strings.Builder
	b.WriteString("Homework process (problem 8), written with gradlab\n\n")
	fmt.Fprintf(&b, "(a) Sources used:\n%s\n\n", orNone(n.Sources))
	fmt.Fprintf(&b, "(b) Collaborators:\n%s\n\n", orNone(n.Collaborators))
	fmt.Fprintf(&b, "(c) Hours spent: %s\n\n", hours)
	fmt.Fprintf(&b, "Notes:\n%s\n", orNone(n.Free))
	return b.String()
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}

// DataURL is the export as a data: URL, so the download link needs no
// script and no server.
func (n Notes) DataURL() string {
	return "data:text/plain;charset=utf-8," + url.PathEscape(n.Text())
}

// Render draws the page.
func (pg *NotesPage) Render() goapp.UI {
	area := func(id, label, hint, value string, set func(*Notes, string)) goapp.UI {
		return goapp.Div().Class("field wide").Body(
			goapp.Label().For(id).Body(goapp.Span().Class("field-label").Text(label), goapp.Span().Class("field-hint").Text(" ("+hint+")")),
			goapp.Textarea().ID(id).Rows(4).Attr("value", value).OnInput(func(ctx goapp.Context, _ goapp.Event) {
				v := ctx.JSSrc().Get("value").String()
				pg.Edit(func(n *Notes) { set(n, v) })
			}),
		)
	}
	var status goapp.UI
	switch {
	case pg.saveErr != nil:
		status = errorBox("p8-save-error", pg.saveErr)
	case pg.store == nil:
		status = goapp.P().ID("p8-status").Class("muted").Text("Your notes are kept in this browser once the page has loaded.")
	case pg.saves > 0:
		status = goapp.P().ID("p8-status").Class("verdict ok").Aria("live", "polite").Text("Saved in this browser.")
	default:
		status = goapp.P().ID("p8-status").Class("muted").Text("Saved automatically in this browser as you type; nothing is sent anywhere.")
	}
	n := pg.notes
	return problemFrame(8,
		section("p8-form", "Your notes",
			area("p8-sources", "(a) Sources you used", "books, papers, websites, tools", n.Sources, func(n *Notes, v string) { n.Sources = v }),
			area("p8-collab", "(b) Who you worked with", "names and student IDs, or describe the group", n.Collaborators, func(n *Notes, v string) { n.Collaborators = v }),
			&NumberInput{ID: "p8-hours", Label: "(c) Hours spent, roughly", Min: 0, Max: maxHours, Optional: true, Empty: !n.HasHours,
				Hint: "a number of hours ≥ 0, or empty", Value: n.Hours, Reset: pg.reset,
				OnChange: func(_ goapp.Context, v float64) { pg.Edit(func(n *Notes) { n.Hours, n.HasHours = v, true }) },
				OnEmpty:  func(goapp.Context) { pg.Edit(func(n *Notes) { n.Hours, n.HasHours = 0, false }) }},
			area("p8-notes", "Notes", "anything else: what was hard, what to revisit", n.Free, func(n *Notes, v string) { n.Free = v }),
			status,
			goapp.P().Body(
				goapp.A().ID("p8-export").Class("button").Href(n.DataURL()).Attr("download", "gradlab-homework-notes.txt").Text("Export as a text file"),
			),
			goapp.P().Class("muted").Text("The notes stay in this browser's local storage for this site; clearing the site's data removes them, so export a copy before you do."),
		),
	)
}
