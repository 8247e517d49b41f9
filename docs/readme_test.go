// Package docs runs the README: every fenced shell block marked
// "<!-- runnable -->" is run, in order, against a sandbox, so that no
// command a reader copies fails as written.
package docs

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// The README's blocks talk to the sandbox its quick start starts; the test
// starts its own on a free port and rewrites these two.
const (
	readmeURL   = "http://127.0.0.1:8080"
	readmeToken = "bsk_test_quickstart"
)

// block is one runnable block and the README line it starts on.
type block struct {
	line int
	text string
}

// runnableBlocks returns the README's fenced blocks that directly follow a
// "<!-- runnable -->" line.
func runnableBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []block
	var cur *block
	marked := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.TrimSpace(line) == "<!-- runnable -->":
			marked = true
		case marked && strings.HasPrefix(line, "```"):
			cur, marked = &block{line: n + 1}, false
		case strings.TrimSpace(line) != "":
			marked = false
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s: the block at line %d is not closed", path, cur.line)
	}
	return blocks
}

func TestRunnableBlocks(t *testing.T) {
	blocks := runnableBlocks(t, "../README.md")
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d runnable blocks, want the quick start's 3 at least", len(blocks))
	}
	seed, err := sandbox.LoadSeedFile("../testdata/sample/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t, sandbox.Config{Data: seed})

	// A work directory like a clone's: bin/ built from this tree, and
	// testdata/ linked from it.
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	args := []string{"build", "-o", bin + string(os.PathSeparator)}
	// As make test's go test -race builds, so that the compile cache serves.
	if out, err := exec.Command("go", "env", "CGO_ENABLED").Output(); err == nil && strings.TrimSpace(string(out)) == "1" {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/...")...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	testdata, err := filepath.Abs("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testdata, filepath.Join(work, "testdata")); err != nil {
		t.Fatal(err)
	}

	// Blocks run in order in one shell each, sharing the work directory, as
	// a reader would run them; exports carry over through an env file.
	envFile := filepath.Join(work, ".env")
	if err := os.WriteFile(envFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		script := strings.NewReplacer(readmeURL, sb.URL, readmeToken, sb.AdminToken).Replace(b.text)
		cmd := exec.Command("bash", "-c", "set -euo pipefail\n. \"$ENV_FILE\"\n"+script+"\nexport -p > \"$ENV_FILE\"")
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "ENV_FILE="+envFile, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"RECONCILE_PROGRESS=off", "LOADGEN_PROGRESS=off")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README.md line %d: %v\n%s\n---\n%s", b.line, err, b.text, out)
			continue
		}
		t.Logf("README.md line %d ran in %v", b.line, time.Since(start).Round(time.Millisecond))
	}
}

// TestRunnableBlocksFound: the marker is found only right above a block, so
// a block that loses its marker, or a marker its block, is noticed.
func TestRunnableBlocksFound(t *testing.T) {
	md := filepath.Join(t.TempDir(), "x.md")
	os.WriteFile(md, []byte("<!-- runnable -->\n```sh\necho a\n```\n\n```sh\necho b\n```\n<!-- runnable -->\n\ntext\n```sh\necho c\n```\n<!-- runnable -->\n```sh\necho d\n```\n"), 0o644)
	got := runnableBlocks(t, md)
	if len(got) != 2 || got[0].text != "echo a\n" || got[1].text != "echo d\n" || got[0].line != 3 {
		t.Errorf("runnableBlocks = %+v, want echo a (line 3) and echo d", got)
	}
}
