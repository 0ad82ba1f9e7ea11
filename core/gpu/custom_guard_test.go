package gpu

import (
	"strings"
	"testing"
)

func TestGuardLoopsInsertsOnePerLoop(t *testing.T) {
	src := "fn f() {\n  // loop { in a comment }\n  /* for (;;) { /* nested */ } */\n  for (var i = 0u; i < 3u; i++) { a(); }\n  while (x < (y)) {\n  }\n  loop {\n    continuing { break if true; }\n  }\n  let for_each = 1;\n}\n"
	got, edits := guardLoops(src)
	if n := strings.Count(got, guardCall); n != 3 || len(edits) != 3 {
		t.Fatalf("%d guards, %d edits; want 3:\n%s", n, len(edits), got)
	}
	if strings.Count(got, "\n") != strings.Count(src, "\n") {
		t.Error("guarding changed the number of lines")
	}
	for _, want := range []string{"i++) {" + guardCall + " a(); }", "while (x < (y)) {" + guardCall, "loop {" + guardCall} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	// Columns after a guard map back; a column before it is unchanged.
	line := strings.Split(got, "\n")[3]
	col := strings.Index(line, "a();") + 1
	if back := unguardColumn(edits, 4, col); back != strings.Index(strings.Split(src, "\n")[3], "a();")+1 {
		t.Errorf("column %d maps back to %d", col, back)
	}
	if back := unguardColumn(edits, 4, 3); back != 3 {
		t.Errorf("column 3 (before the guard) maps to %d", back)
	}
}
