package app

import (
	"strings"
	"unicode/utf8"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// Derivation renders the steps of a derivation from core/hw as an ordered
// list: each step's prose, then its formula typeset from the LaTeX subset
// core/hw writes into HTML (sub/superscripts, fractions, Unicode symbols).
// gradlab works offline and loads no scripts, so there is no MathJax; the
// original LaTeX stays available as the formula's title for readers who
// prefer it.
func Derivation(id string, steps []hw.Step) goapp.UI {
	return goapp.Ol().ID(id).Class("derivation").Body(
		goapp.Range(steps).Slice(func(i int) goapp.UI {
			s := steps[i]
			var text, formula goapp.UI
			if s.Text != "" {
				text = goapp.P().Class("step-text").Text(s.Text)
			}
			if s.Math != "" {
				formula = MathUI(s.Math)
			}
			return goapp.Li().Class("step").Body(text, formula)
		}),
	)
}

// MathUI typesets one formula. The aria-label carries a linear reading so a
// screen reader does not spell out sub and sup elements one by one.
func MathUI(latex string) goapp.UI {
	return goapp.Div().Class("math").Role("math").Aria("label", LatexPlain(latex)).Title(latex).Body(
		latexNodes(newLatexParser(latex).parseSeq(false))...)
}

// LatexPlain is the formula as a single line of Unicode, _ and ^ kept
// where a subscript or superscript has no Unicode form.
func LatexPlain(latex string) string {
	var b strings.Builder
	writePlain(&b, newLatexParser(latex).parseSeq(false))
	return b.String()
}

// latexNode is one piece of a parsed formula.
type latexNode struct {
	kind     string // "text", "sub", "sup", "frac", "sqrt", "upright", "group"
	text     string
	children []latexNode
	den      []latexNode // the denominator of a frac
}

type latexParser struct {
	src    string
	pos    int
	script int // > 0 inside a subscript or superscript
	prev   bool
}

func newLatexParser(s string) *latexParser { return &latexParser{src: s} }

// latexSymbols maps the commands core/hw uses (and common neighbours) to
// Unicode. A command missing here is shown verbatim rather than dropped, so a
// gap is visible on the page instead of silently changing the formula.
var latexSymbols = map[string]string{
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
	"lambda": "λ", "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
	"Gamma": "Γ", "Delta": "Δ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Omega": "Ω",
	"sum": "∑", "prod": "∏", "odot": "⊙", "cdot": "·", "times": "×", "top": "⊤", "dots": "…", "ldots": "…",
	"cdots": "⋯", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
	"to": "→", "rightarrow": "→", "Rightarrow": "⇒", "infty": "∞", "in": "∈", "mid": "∣", "sim": "∼",
	"partial": "∂", "nabla": "∇", "pm": "±", "|": "‖", "{": "{", "}": "}", "%": "%", "_": "_",
	",": "\u2009", ";": "\u2005", "!": "", " ": " ", "quad": "\u2003", "qquad": "\u2003\u2003",
	"lVert": "‖", "rVert": "‖", "Vert": "‖", "langle": "⟨", "rangle": "⟩",
}

// latexIgnored are sizing and style commands with no effect in plain HTML.
var latexIgnored = map[string]bool{
	"big": true, "Big": true, "bigg": true, "Bigg": true, "left": true, "right": true,
	"textstyle": true, "displaystyle": true, "limits": true,
}

// mathSpace is a four-per-em space, TeX's medium math space.
const mathSpace = "\u2005"

var blackboard = map[rune]string{'E': "𝔼", 'R': "ℝ", 'N': "ℕ", 'Z': "ℤ", 'P': "ℙ", 'Q': "ℚ", 'C': "ℂ"}
var calligraphic = map[rune]string{'L': "ℒ", 'N': "𝒩", 'O': "𝒪", 'D': "𝒟", 'F': "ℱ", 'H': "ℋ"}

// parseSeq reads nodes up to the end, or up to the closing brace when
// inGroup.
func (p *latexParser) parseSeq(inGroup bool) []latexNode {
	var out []latexNode
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '}':
			p.pos++
			if inGroup {
				return out
			}
			out = append(out, latexNode{kind: "text", text: "}"})
		case c == '_' || c == '^':
			p.pos++
			kind := "sub"
			if c == '^' {
				kind = "sup"
			}
			p.script++
			out = append(out, latexNode{kind: kind, children: p.parseArg()})
			p.script--
		default:
			out = append(out, p.parseAtom()...)
		}
	}
	return out
}

// parseArg reads one argument: a {group}, a command, or one character.
func (p *latexParser) parseArg() []latexNode {
	p.skipSpaces()
	if p.pos >= len(p.src) {
		return nil
	}
	if p.src[p.pos] == '{' {
		p.pos++
		return p.parseSeq(true)
	}
	return p.parseAtom()
}

func (p *latexParser) skipSpaces() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

// parseAtom reads a command with its arguments, a group or one character.
func (p *latexParser) parseAtom() []latexNode {
	c := p.src[p.pos]
	if c == '{' {
		p.pos++
		return []latexNode{{kind: "group", children: p.parseSeq(true)}}
	}
	if c != '\\' {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		start := p.pos == 0 || strings.ContainsRune("({[=,", rune(p.src[p.pos-1]))
		p.pos += size
		s := string(r)
		switch s {
		case "-":
			s = "−"
		case "~":
			s = "\u00a0"
		case " ":
			// TeX ignores spaces in math; a formula's spacing comes from
			// its commands.
			return nil
		}
		// Relations and binary operators get space around them, as TeX
		// gives them, except in scripts and for a leading sign (-1, (-x)).
		if p.script == 0 && (s == "=" || s == "<" || s == ">" || (s == "+" || s == "−") && !start) {
			s = mathSpace + s + mathSpace
		}
		return []latexNode{{kind: "text", text: s}}
	}
	p.pos++
	name := p.commandName()
	switch {
	case latexIgnored[name]:
		return nil
	case name == "frac" || name == "tfrac" || name == "dfrac":
		num := p.parseArg()
		den := p.parseArg()
		return []latexNode{{kind: "frac", children: num, den: den}}
	case name == "sqrt":
		return []latexNode{{kind: "sqrt", children: p.parseArg()}}
	case name == "tilde" || name == "hat" || name == "bar" || name == "vec":
		mark := map[string]string{"tilde": "\u0303", "hat": "\u0302", "bar": "\u0304", "vec": "\u20d7"}[name]
		arg := p.parseArg()
		return append(arg, latexNode{kind: "text", text: mark})
	case name == "mathbb" || name == "mathcal":
		table := blackboard
		if name == "mathcal" {
			table = calligraphic
		}
		var out []latexNode
		for _, r := range plainOf(p.parseArg()) {
			if s, ok := table[r]; ok {
				out = append(out, latexNode{kind: "text", text: s})
			} else {
				out = append(out, latexNode{kind: "text", text: string(r)})
			}
		}
		return out
	case name == "operatorname" || name == "mathrm" || name == "text" || name == "textrm" || name == "mathit":
		return []latexNode{{kind: "upright", text: p.rawArg()}}
	}
	if s, ok := latexSymbols[name]; ok {
		return []latexNode{{kind: "text", text: s}}
	}
	return []latexNode{{kind: "text", text: `\` + name}}
}

// commandName reads letters, or a single non-letter (\| \, \{).
func (p *latexParser) commandName() string {
	start := p.pos
	for p.pos < len(p.src) && isLetter(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start && p.pos < len(p.src) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// rawArg reads a {group} as literal text (for \text and \operatorname).
func (p *latexParser) rawArg() string {
	p.skipSpaces()
	if p.pos >= len(p.src) {
		return ""
	}
	if p.src[p.pos] != '{' {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
		return string(r)
	}
	depth := 0
	start := p.pos + 1
	for ; p.pos < len(p.src); p.pos++ {
		switch p.src[p.pos] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				s := p.src[start:p.pos]
				p.pos++
				return s
			}
		}
	}
	return p.src[start:]
}

func plainOf(nodes []latexNode) string {
	var b strings.Builder
	writePlain(&b, nodes)
	return b.String()
}

var superscripts = map[rune]rune{'0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '−': '⁻', '+': '⁺', '(': '⁽', ')': '⁾', 'n': 'ⁿ', 'i': 'ⁱ', '⊤': '⊤', 'T': 'ᵀ'}

func writePlain(b *strings.Builder, nodes []latexNode) {
	for _, n := range nodes {
		switch n.kind {
		case "text", "upright":
			// Spacing commands become plain spaces: a screen reader gains
			// nothing from their widths.
			b.WriteString(strings.Map(func(r rune) rune {
				if r == '\u2009' || r == '\u2005' || r == '\u2003' || r == '\u00a0' {
					return ' '
				}
				return r
			}, n.text))
		case "group":
			writePlain(b, n.children)
		case "sub":
			b.WriteString("_")
			writeScript(b, n.children)
		case "sup":
			s := plainOf(n.children)
			if up, ok := toSuperscript(s); ok {
				b.WriteString(up)
			} else {
				b.WriteString("^")
				writeScript(b, n.children)
			}
		case "frac":
			b.WriteString("(")
			writePlain(b, n.children)
			b.WriteString(")/(")
			writePlain(b, n.den)
			b.WriteString(")")
		case "sqrt":
			b.WriteString("√(")
			writePlain(b, n.children)
			b.WriteString(")")
		}
	}
}

func writeScript(b *strings.Builder, nodes []latexNode) {
	s := plainOf(nodes)
	if utf8.RuneCountInString(s) > 1 {
		s = "(" + s + ")"
	}
	b.WriteString(s)
}

func toSuperscript(s string) (string, bool) {
	var out []rune
	for _, r := range s {
		u, ok := superscripts[r]
		if !ok {
			return "", false
		}
		out = append(out, u)
	}
	return string(out), len(out) > 0
}

func latexNodes(nodes []latexNode) []goapp.UI {
	var out []goapp.UI
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, goapp.Text(text.String()))
			text.Reset()
		}
	}
	for _, n := range nodes {
		switch n.kind {
		case "text":
			text.WriteString(n.text)
			continue
		}
		flush()
		switch n.kind {
		case "upright":
			out = append(out, goapp.Span().Class("m-op").Text(n.text))
		case "group":
			out = append(out, goapp.Span().Body(latexNodes(n.children)...))
		case "sub":
			out = append(out, goapp.Sub().Body(latexNodes(n.children)...))
		case "sup":
			out = append(out, goapp.Sup().Body(latexNodes(n.children)...))
		case "frac":
			out = append(out, goapp.Span().Class("m-frac").Body(
				goapp.Span().Class("m-num").Body(latexNodes(n.children)...),
				goapp.Span().Class("m-den").Body(latexNodes(n.den)...),
			))
		case "sqrt":
			out = append(out, goapp.Span().Class("m-sqrt").Body(
				goapp.Text("√"),
				goapp.Span().Class("m-radicand").Body(latexNodes(n.children)...),
			))
		}
	}
	flush()
	return out
}
