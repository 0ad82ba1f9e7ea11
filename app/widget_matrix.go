package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

// MatrixView shows a matrix as a table with row and column labels. Wide
// matrices scroll sideways inside their own box (focusable, so a keyboard
// can scroll it) instead of widening the page.
type MatrixView struct {
	ID      string
	Caption string
	Rows    [][]float64
	// RowLabels and ColLabels default to 1, 2, ... when nil.
	RowLabels, ColLabels []string
	// Highlight marks cells (class "hl"), e.g. the diagonal or cells that
	// differ between two matrices.
	Highlight func(i, j int, v float64) bool
	// Digits is the number of significant digits for non-integers (4 when 0).
	Digits int
}

// FormatNum prints a matrix entry: integers exactly, other values with the
// given significant digits, -0 as 0, and NaN or infinities by name.
func FormatNum(v float64, digits int) string {
	if digits <= 0 {
		digits = 4
	}
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	case v == 0:
		return "0"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return minus(strconv.FormatFloat(v, 'f', 0, 64))
	}
	a := math.Abs(v)
	if a >= 1e6 || a < 1e-4 {
		return minus(strconv.FormatFloat(v, 'g', digits, 64))
	}
	return minus(strconv.FormatFloat(v, 'g', digits, 64))
}

// minus uses the typographic minus sign, which lines up with digits.
func minus(s string) string {
	if len(s) > 0 && s[0] == '-' {
		return "−" + s[1:]
	}
	return s
}

func labelOr(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return strconv.Itoa(i + 1)
}

// UI draws the table.
func (m MatrixView) UI() goapp.UI {
	cols := 0
	for _, r := range m.Rows {
		cols = max(cols, len(r))
	}
	wrap := goapp.Div().Class("matrix-wrap").TabIndex(0).Role("region").Aria("label", m.Caption)
	if m.ID != "" {
		wrap = wrap.ID(m.ID)
	}
	if len(m.Rows) == 0 || cols == 0 {
		return wrap.DataSet("empty", "true").Body(goapp.P().Class("matrix-empty").Textf("%s: empty matrix", m.Caption))
	}
	return wrap.Body(
		goapp.Table().Class("matrix").Body(
			goapp.Caption().Text(m.Caption),
			goapp.THead().Body(goapp.Tr().Body(
				goapp.Th().Aria("label", "row"),
				goapp.Range(make([]struct{}, cols)).Slice(func(j int) goapp.UI {
					return goapp.Th().Scope("col").Text(labelOr(m.ColLabels, j))
				}),
			)),
			goapp.TBody().Body(
				goapp.Range(m.Rows).Slice(func(i int) goapp.UI {
					row := m.Rows[i]
					return goapp.Tr().Body(
						goapp.Th().Scope("row").Text(labelOr(m.RowLabels, i)),
						goapp.Range(make([]struct{}, cols)).Slice(func(j int) goapp.UI {
							if j >= len(row) {
								return goapp.Td().Class("missing").Text("")
							}
							td := goapp.Td().Text(FormatNum(row[j], m.Digits))
							if m.Highlight != nil && m.Highlight(i, j, row[j]) {
								td = td.Class("hl")
							}
							return td
						}),
					)
				}),
			),
		),
	)
}

// Diagonal marks the diagonal, for MatrixView.Highlight.
func Diagonal(i, j int, _ float64) bool { return i == j }

// NonZero marks non-zero entries, for MatrixView.Highlight.
func NonZero(_, _ int, v float64) bool { return v != 0 }

// RowVector is a one-row matrix, for showing a vector with MatrixView.
func RowVector(v []float64) [][]float64 { return [][]float64{v} }

// ColumnVector is a one-column matrix.
func ColumnVector(v []float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = []float64{x}
	}
	return out
}

// Vec formats a vector inline: [1.089, 0.1089].
func Vec(v []float64) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += FormatNum(x, 4)
	}
	return s + "]"
}

// Sci formats a positive quantity with its unit scaled: 1.2 ms, 3.4 GB.
func Sci(v float64, unit string) string {
	prefixes := []struct {
		f float64
		p string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "µ"}, {1e-9, "n"}}
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return FormatNum(v, 4) + " " + unit
	}
	for _, p := range prefixes {
		if math.Abs(v) >= p.f {
			return fmt.Sprintf("%s %s%s", FormatNum(v/p.f, 4), p.p, unit)
		}
	}
	return fmt.Sprintf("%s %s", FormatNum(v, 4), unit)
}

// Count prints a whole number with thousands separators: 5,419,008.
func Count(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}
