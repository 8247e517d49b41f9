package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// newTestCommand returns "prog" with a "go" subcommand that records what it
// ran with, and a "fail" subcommand returning fail.
func newTestCommand(got *[]string, fail error) *Command {
	var rate Rate = 1
	fs := flag.NewFlagSet("go", flag.ContinueOnError)
	Var(fs, &rate, "rate", "PROG_RATE", "send at most `rate` events")
	return &Command{
		Name:        "prog",
		Version:     "v1.2.3",
		Description: "Prog does things.",
		Examples:    []string{"prog go -rate 5/s"},
		Subcommands: []*Command{
			{
				Name:    "go",
				Summary: "go somewhere",
				Flags:   fs,
				Exec: func(_ context.Context, args []string) error {
					*got = append(*got, rate.String())
					*got = append(*got, args...)
					return nil
				},
			},
			{Name: "fail", Summary: "fail", Exec: func(context.Context, []string) error { return fail }},
		},
	}
}

func TestCommandRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		fail     error
		wantRan  []string
		wantCode int
		wantErr  string
		wantOut  []string
	}{
		{name: "dispatch", args: []string{"go", "-rate", "2/s", "a"}, wantRan: []string{"2/s", "a"}},
		{name: "env fallback", args: []string{"go"}, env: map[string]string{"PROG_RATE": "120/m"}, wantRan: []string{"2/s"}},
		{name: "root help", args: []string{"-h"}, wantOut: []string{"Usage:\n  prog <command>", "Prog does things.", "go     go somewhere", "prog go -rate 5/s"}},
		{name: "sub help", args: []string{"go", "-h"}, wantOut: []string{"Usage:\n  prog go [flags]", "-rate rate", "(default 1/s; env PROG_RATE)"}},
		{name: "missing command", args: nil, wantCode: 2, wantErr: "prog: missing command\nrun 'prog -h' for usage"},
		{name: "unknown command", args: []string{"stop"}, wantCode: 2, wantErr: `prog: unknown command "stop"`},
		{name: "bad flag", args: []string{"go", "-rate", "fast"}, wantCode: 2, wantErr: `prog go: invalid value "fast" for flag -rate`},
		{name: "bad env", args: []string{"go"}, env: map[string]string{"PROG_RATE": "fast"}, wantCode: 2, wantErr: "PROG_RATE (-rate)"},
		{name: "failure is prefixed", args: []string{"fail"}, fail: errors.New("boom"), wantCode: 1, wantErr: "prog fail: boom"},
		{name: "usage error from Exec", args: []string{"fail"}, fail: Usagef("need -x"), wantCode: 2, wantErr: "prog fail: need -x\nrun 'prog fail -h' for usage"},
		{name: "help command", args: []string{"help"}, wantOut: []string{"Usage:\n  prog <command>", "prog help <command>"}},
		{name: "help for a command", args: []string{"help", "go"}, wantOut: []string{"Usage:\n  prog go [flags]", "-rate rate"}},
		{name: "help for an unknown command", args: []string{"help", "og"}, wantCode: 2, wantErr: `unknown command "og" (did you mean "go"?)`},
		{name: "version on the root", args: []string{"-version"}, wantOut: []string{"prog v1.2.3\n"}},
		{name: "version on a command", args: []string{"go", "-version"}, wantOut: []string{"prog v1.2.3\n"}, wantRan: []string{}},
		{name: "flags after arguments", args: []string{"go", "a", "-rate", "3/s", "b"}, wantRan: []string{"3/s", "a", "b"}},
		{name: "double dash ends flags", args: []string{"go", "a", "--", "-rate", "3/s"}, wantRan: []string{"1/s", "a", "-rate", "3/s"}},
		{name: "bare rate is per second", args: []string{"go", "-rate", "500"}, wantRan: []string{"500/s"}},
		{name: "mistyped command", args: []string{"og"}, wantCode: 2, wantErr: `unknown command "og" (did you mean "go"?)`},
		{name: "far from any command", args: []string{"deploy"}, wantCode: 2, wantErr: `unknown command "deploy" (commands: help, go, fail)`},
		{name: "mistyped flag", args: []string{"go", "-rat", "3/s"}, wantCode: 2, wantErr: "flag provided but not defined: -rat (did you mean -rate?)"},
		{name: "sentinel kept", args: []string{"fail"}, fail: fmt.Errorf("3 found: %w", ErrDiscrepancies), wantCode: 3, wantErr: "prog fail: 3 found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			var out bytes.Buffer
			err := newTestCommand(&ran, tt.fail).Run(context.Background(), tt.args, mapEnv(tt.env), &out)
			if got := ExitCode(err); got != tt.wantCode {
				t.Fatalf("Run(%q) = %v (exit %d), want exit %d", tt.args, err, got, tt.wantCode)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Run(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
			if tt.wantRan != nil && strings.Join(ran, "|") != strings.Join(tt.wantRan, "|") {
				t.Errorf("Run(%q) ran with %q, want %q", tt.args, ran, tt.wantRan)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("Run(%q) wrote:\n%s\nwant it to contain %q", tt.args, out.String(), w)
				}
			}
		})
	}
}

// TestUsageDefaultOnce: a flag whose usage states its own default is not
// followed by a second "(default 0)" from its zero value.
func TestUsageDefaultOnce(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var n, m int
	Int(fs, &n, "batch-size", "X_BATCH", 0, "page size (default 10000)")
	Int(fs, &m, "workers", "X_WORKERS", 4, "workers")
	var out bytes.Buffer
	if err := (&Command{Name: "x", Flags: fs}).WriteUsage(&out, "x"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"page size (default 10000) (env X_BATCH)\n", "workers (default 4; env X_WORKERS)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage =\n%s\nwant it to contain %q", out.String(), want)
		}
	}
}

// TestSource: errors name the variable a bad value came from.
func TestSource(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var a, b string
	String(fs, &a, "addr", "X_ADDR", "", "address")
	String(fs, &b, "name", "X_NAME", "", "name")
	if _, err := Parse(fs, []string{"-name", "n"}, mapEnv(map[string]string{"X_ADDR": "h:1", "X_NAME": "env"})); err != nil {
		t.Fatal(err)
	}
	if got := Source(fs.Lookup("addr")); got != "X_ADDR" {
		t.Errorf("Source(addr) = %q, want X_ADDR", got)
	}
	if got := Source(fs.Lookup("name")); got != "-name" || b != "n" {
		t.Errorf("Source(name) = %q (value %q), want -name (n): the command line wins", got, b)
	}
}

func TestClosest(t *testing.T) {
	cmds := []string{"replay", "verify", "bill", "run", "merge", "doctor"}
	for typed, want := range map[string]string{
		"repaly": "replay", "verfy": "verify", "Replay": "replay", "rn": "run", "mrege": "merge",
		"doc": "doctor", "bil": "bill", "x": "", "report": "", "deploy": "",
	} {
		if got := closest(typed, cmds); got != want {
			t.Errorf("closest(%q) = %q, want %q", typed, got, want)
		}
	}
}
