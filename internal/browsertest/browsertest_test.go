package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderCatchesConsoleErrors: a page that logs an error and calls an
// undefined function yields both messages; a quiet page none. Without
// this, a check for "no console errors" could pass by seeing nothing.
func TestRenderCatchesConsoleErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	quiet := filepath.Join(dir, "quiet.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><p id="x">hi</p><script>console.error("boom"); undefinedFn();</script></body></html>`), 0o644)
	os.WriteFile(quiet, []byte(`<!DOCTYPE html><html><body><p>hi</p><script>document.body.dataset.ran = "yes";</script></body></html>`), 0o644)
	p := Render(t, bad)
	if len(p.Console) != 2 || !strings.Contains(p.Console[0], "boom") || !strings.Contains(p.Console[1], "undefinedFn") {
		t.Errorf("console of the bad page = %q, want boom and the ReferenceError", p.Console)
	}
	q := Render(t, quiet)
	if len(q.Console) != 0 || !strings.Contains(q.DOM, `data-ran="yes"`) {
		t.Errorf("quiet page: console %q, DOM %q; want no messages and the script's mark", q.Console, q.DOM)
	}
}
