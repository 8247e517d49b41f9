// Package clitest runs the commands in-process for their tests: a command
// line, an environment of its own and captured output, checked against
// what it must print and exit with.
package clitest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/billharness/billharness/internal/cli"
)

// Run runs a command's run function in-process with ctx, only env as its
// environment and an empty stdin, and returns its exit code and output.
func Run(ctx context.Context, run cli.RunFunc, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return cli.ExitCode(err), out.String(), errOut.String()
}

// Case is a command line and what it must do: exit with WantCode and
// print each of WantStdout and WantStderr somewhere in its output.
type Case struct {
	Name                   string
	Args                   []string
	Env                    map[string]string
	WantCode               int
	WantStdout, WantStderr []string
}

// Check runs c with ctx and reports every way it differs from what it
// must do; prog names the command in the messages. It returns the output
// for further checks.
func (c Case) Check(t *testing.T, ctx context.Context, prog string, run cli.RunFunc) (stdout, stderr string) {
	t.Helper()
	code, stdout, stderr := Run(ctx, run, c.Env, c.Args...)
	if code != c.WantCode {
		t.Fatalf("%s %q exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", prog, c.Args, code, c.WantCode, stdout, stderr)
	}
	for _, w := range c.WantStdout {
		if !strings.Contains(stdout, w) {
			t.Errorf("%s %q stdout =\n%s\nwant it to contain %q", prog, c.Args, stdout, w)
		}
	}
	for _, w := range c.WantStderr {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s %q stderr =\n%s\nwant it to contain %q", prog, c.Args, stderr, w)
		}
	}
	return stdout, stderr
}

// SyncBuffer is an io.Writer safe to read while a command writes to it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ReadJSON decodes the JSON file a command wrote at path (a summary, a
// checkpoint), failing the test when it cannot.
func ReadJSON[T any](t testing.TB, path string) T {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
