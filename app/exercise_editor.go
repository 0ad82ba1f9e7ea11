package app

import (
	"strconv"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The code editor is a textarea laid over a highlighted copy of its text,
// with a line-number gutter, written here rather than bundled from npm: it
// needs no build step or network, adds a few kilobytes to app.wasm instead
// of a JavaScript bundle to pre-cache, and its error markers come straight
// from the Go compile report. The textarea is as tall as its text, so the
// overlay never has to follow a scroll position.

// codeEditor renders the editor. errLines marks lines with a compile error;
// onInput receives the new text.
func codeEditor(id, code string, errLines map[int]string, onInput goapp.EventHandler) goapp.UI {
	lines := strings.Split(code, "\n")
	gutter := make([]goapp.UI, len(lines))
	for i := range lines {
		n := i + 1
		cls := "ed-ln"
		title := ""
		if msg, ok := errLines[n]; ok {
			cls += " ed-ln-err"
			title = msg
		}
		gutter[i] = goapp.Div().Class(cls).Title(title).DataSet("line", n).Text(strconv.Itoa(n))
	}
	return goapp.Div().Class("ed").Body(
		goapp.Div().Class("ed-gutter").Aria("hidden", "true").Body(gutter...),
		goapp.Div().Class("ed-body").Body(
			goapp.Pre().Class("ed-hl").Aria("hidden", "true").Body(highlightWGSL(code, errLines)...),
			goapp.Textarea().
				ID(id).
				Class("ed-input").
				Aria("label", "Your WGSL kernel").
				Attr("spellcheck", "false").
				Attr("autocapitalize", "off").
				Attr("autocomplete", "off").
				Attr("wrap", "off").
				Rows(len(lines)+1).
				Text(code).
				OnInput(onInput),
		),
	)
}

var wgslKeywords = map[string]bool{
	"fn": true, "let": true, "var": true, "const": true, "struct": true, "return": true, "if": true, "else": true,
	"for": true, "while": true, "loop": true, "break": true, "continue": true, "continuing": true, "switch": true,
	"case": true, "default": true, "true": true, "false": true, "override": true, "alias": true, "discard": true,
}

var wgslTypes = map[string]bool{
	"f32": true, "u32": true, "i32": true, "bool": true, "f16": true, "array": true, "atomic": true, "ptr": true,
	"vec2": true, "vec3": true, "vec4": true, "mat2x2": true, "mat3x3": true, "mat4x4": true,
	"storage": true, "uniform": true, "read": true, "read_write": true, "private": true, "workgroup": true, "function": true,
}

// highlightWGSL splits code into spans by token class. Every character is
// kept, so the overlay lines up with the textarea exactly; a line with a
// compile error gets a marked background.
func highlightWGSL(code string, errLines map[int]string) []goapp.UI {
	var out []goapp.UI
	for n, line := range strings.Split(code, "\n") {
		var spans []goapp.UI
		emit := func(cls, text string) {
			if cls == "" {
				spans = append(spans, goapp.Text(text))
				return
			}
			spans = append(spans, goapp.Span().Class(cls).Text(text))
		}
		i := 0
		for i < len(line) {
			c := line[i]
			switch {
			case strings.HasPrefix(line[i:], "//"):
				emit("tok-com", line[i:])
				i = len(line)
			case c == '@':
				j := i + 1
				for j < len(line) && isWordByte(line[j]) {
					j++
				}
				emit("tok-attr", line[i:j])
				i = j
			case c >= '0' && c <= '9':
				j := i
				for j < len(line) && (isWordByte(line[j]) || line[j] == '.') {
					j++
				}
				emit("tok-num", line[i:j])
				i = j
			case isWordByte(c):
				j := i
				for j < len(line) && isWordByte(line[j]) {
					j++
				}
				w := line[i:j]
				switch {
				case wgslKeywords[w]:
					emit("tok-kw", w)
				case wgslTypes[w]:
					emit("tok-type", w)
				default:
					emit("", w)
				}
				i = j
			default:
				j := i
				for j < len(line) && !isWordByte(line[j]) && line[j] != '@' && !strings.HasPrefix(line[j:], "//") {
					j++
				}
				emit("", line[i:j])
				i = j
			}
		}
		cls := "ed-line"
		if _, bad := errLines[n+1]; bad {
			cls += " ed-line-err"
		}
		// A trailing newline keeps empty lines one line tall.
		out = append(out, goapp.Span().Class(cls).Body(append(spans, goapp.Text("\n"))...))
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// exerciseCSS styles the exercise pages. It lives with them (not in
// web/gradlab.css, which other pages own) and is small.
const exerciseCSS = `<style>
.ed{display:flex;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;border:1px solid #aab;border-radius:4px;background:#fff;overflow-x:auto;max-width:100%}
.ed-gutter{padding:6px 6px;text-align:right;color:#778;background:#f2f3f7;user-select:none;min-width:2.5em}
.ed-ln{white-space:pre}.ed-ln-err{background:#f6c4c4;color:#900;font-weight:bold}
.ed-body{position:relative;flex:1;min-width:0}
.ed-hl,.ed-input{margin:0;padding:6px 8px;font:inherit;white-space:pre;tab-size:4;border:0;box-sizing:border-box;width:100%;min-width:40em}
.ed-hl{position:absolute;inset:0;pointer-events:none;color:#223;overflow:hidden}
.ed-input{position:relative;display:block;resize:none;background:transparent;color:transparent;caret-color:#111;overflow:hidden;outline:none}
.ed-input:focus{box-shadow:inset 0 0 0 2px #1d4e89}
.ed-line-err{background:#fde2e2}
.tok-kw{color:#8a1f9b}.tok-type{color:#1d6b8a}.tok-num{color:#a04a00}.tok-com{color:#6a7a6a;font-style:italic}.tok-attr{color:#7a5a00}
.ex-prelude{background:#f2f3f7;border:1px solid #dde;padding:8px;overflow-x:auto;font-size:13px}
.ex-results{border-collapse:collapse;margin:8px 0}.ex-results td,.ex-results th{border:1px solid #ccd;padding:3px 8px;text-align:left;vertical-align:top}
.ex-pass{color:#1b6b2a;font-weight:bold}.ex-fail{color:#a11;font-weight:bold}
.ex-errors{color:#a11}.ex-note{background:#fff4d6;border-left:4px solid #e0a800;padding:6px 10px}
.ex-actions button{margin:6px 8px 6px 0}
.ex-list li{margin:4px 0}
.ex-scroll{overflow-x:auto;max-width:100%}
</style>`
