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
			if tt.wantRan != nil && strings.Join(ran, " ") != strings.Join(tt.wantRan, " ") {
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
