// Package browsertest loads the HTML reports in headless Chromium for
// tests: the page must parse and render, and print nothing to the console
// (no script error, no blocked resource). make test installs Debian's
// chromium package; elsewhere the tests skip, except in CI, where a
// missing browser fails them.
package browsertest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/testenv"
)

// Page is a rendered page.
type Page struct {
	// DOM is the document after loading, as Chromium serializes it.
	DOM string
	// Console holds every message the page printed to the console,
	// uncaught errors and failed loads included.
	Console []string
}

// browser returns the Chromium binary, skipping (or failing in CI) the
// test when there is none.
func browser(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "no chromium", "make test installs Debian's chromium package, in which the HTML reports are checked")
	return ""
}

var consoleLine = regexp.MustCompile(`:CONSOLE[^\]]*\] (.*)`)

// Render loads the file at path in headless Chromium, with a virtual-time
// budget for its scripts, and returns the page.
func Render(t testing.TB, path string) Page {
	t.Helper()
	bin := browser(t)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000",
		"--dump-dom", "file://"+abs)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", path, err, stderr.String())
	}
	p := Page{DOM: stdout.String()}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if m := consoleLine.FindStringSubmatch(line); m != nil {
			p.Console = append(p.Console, m[1])
		}
	}
	if !strings.Contains(p.DOM, "<body") {
		t.Fatalf("chromium rendered no document for %s:\n%s", path, stderr.String())
	}
	return p
}
