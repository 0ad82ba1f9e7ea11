package gpu

import (
	"fmt"
	"strings"
)

// A learner's kernel may loop forever. WGSL has no recursion, so loops are
// the only way a kernel can run unbounded; guardLoops makes every loop body
// start with a call that counts iterations in a per-invocation private
// counter and breaks out once the count passes LoopBudget, after setting a
// flag in an extra storage buffer the host reads back. Nested loops share
// the counter, so once it is exhausted every enclosing loop breaks on its
// next iteration too. The guard is inserted on the line of the opening
// brace, so line numbers are unchanged; guardEdit records the column shifts
// so compiler messages can be mapped back to what the learner wrote.

// LoopBudget is the number of loop iterations (all loops together) one
// invocation of a learner's kernel may run before it is stopped. gradlab's
// exercises need at most a few hundred per invocation on their check shapes.
// It must stay well below 65535: natively (wgpu-native on lavapipe) a loop
// was seen to stop by itself after 65535 iterations, which would otherwise
// pass an endless loop off as a finished one.
const LoopBudget = 1 << 14

// customFlagBinding is the binding number of the overflow flag buffer; far
// above any exercise's own bindings so it never collides with them.
const customFlagBinding = 15

// guardPrelude declares the counter, the flag buffer and the tick function.
// Names start with _gl_, which CompileCustom reserves.
var guardPrelude = fmt.Sprintf(`@group(0) @binding(%d) var<storage, read_write> _gl_flag: array<u32>;
var<private> _gl_budget: u32 = 0u;
fn _gl_tick() -> bool { _gl_budget += 1u; if (_gl_budget > %du) { _gl_flag[0] = 1u; return true; } return false; }
`, customFlagBinding, LoopBudget)

const guardCall = " if (_gl_tick()) { break; } "

// guardEdit is one insertion: at byte column col (0-based) of line (1-based)
// of the original source, n bytes were inserted.
type guardEdit struct{ line, col, n int }

// guardLoops returns src with a guard at the start of every loop body and
// the insertions it made. Comments are skipped; a loop keyword whose body
// brace cannot be found is left alone (the compiler will report it).
func guardLoops(src string) (string, []guardEdit) {
	var out strings.Builder
	var edits []guardEdit
	line, col := 1, 0
	i := 0
	pendingBrace := false // a loop keyword was seen; guard its body's brace
	parens := 0           // parenthesis depth since that keyword
	copyByte := func() {
		c := src[i]
		out.WriteByte(c)
		if c == '\n' {
			line++
			col = 0
		} else {
			col++
		}
		i++
	}
	for i < len(src) {
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				copyByte()
			}
		case strings.HasPrefix(src[i:], "/*"):
			// WGSL block comments nest.
			depth := 0
			for i < len(src) {
				if strings.HasPrefix(src[i:], "/*") {
					depth++
					copyByte()
					copyByte()
					continue
				}
				if strings.HasPrefix(src[i:], "*/") {
					depth--
					copyByte()
					copyByte()
					if depth == 0 {
						break
					}
					continue
				}
				copyByte()
			}
		case isIdentStart(src[i]):
			j := i
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			word := src[i:j]
			for i < j {
				copyByte()
			}
			if word == "loop" || word == "for" || word == "while" {
				pendingBrace, parens = true, 0
			}
		case pendingBrace && src[i] == '(':
			parens++
			copyByte()
		case pendingBrace && src[i] == ')':
			parens--
			copyByte()
		case pendingBrace && src[i] == '{' && parens == 0:
			edits = append(edits, guardEdit{line: line, col: col + 1, n: len(guardCall)})
			copyByte()
			out.WriteString(guardCall)
			pendingBrace = false
		case pendingBrace && src[i] == ';' && parens == 0:
			pendingBrace = false // not a loop after all (malformed); leave it
			copyByte()
		default:
			copyByte()
		}
	}
	return out.String(), edits
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// unguardColumn maps a 1-based column on line of the guarded source back to
// the column the learner sees.
func unguardColumn(edits []guardEdit, line, col int) int {
	shift := 0
	for _, e := range edits {
		if e.line != line {
			continue
		}
		// Guarded column of this insertion's start, 1-based.
		start := e.col + shift + 1
		if col >= start+e.n {
			shift += e.n
		} else if col >= start {
			return e.col // inside the guard itself: point at the loop's brace
		}
	}
	return col - shift
}
