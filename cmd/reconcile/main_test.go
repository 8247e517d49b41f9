package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/cli"
)

// runReconcile runs the command in-process with only env as its environment.
func runReconcile(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return cli.ExitCode(err), out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{
			name:       "help",
			args:       []string{"-h"},
			wantStdout: []string{"Usage:\n  reconcile <command>", "replay ", "verify ", "bill ", "run ", "merge ", "doctor ", "Examples:\n  BILLING_TOKEN=bsk_test_… reconcile doctor", "Exit codes:"},
		},
		{
			name:       "subcommand help",
			args:       []string{"replay", "-h"},
			wantStdout: []string{"Usage:\n  reconcile replay [flags]", "-api-url URL", "env BILLING_API_URL", "env BILLING_TOKEN_FILE", "env RECONCILE_LOG_LEVEL", "env RECONCILE_RATE", "Examples:\n  BILLING_TOKEN=bsk_test_… reconcile replay"},
		},
		{name: "version", args: []string{"-version"}, wantStdout: []string{"reconcile dev\n"}},
		{name: "missing command", wantCode: 2, wantStderr: []string{"reconcile: missing command", "reconcile -h"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: []string{`reconcile: unknown command "frobnicate"`}},
		{name: "bad flag", args: []string{"verify", "-nope"}, wantCode: 2, wantStderr: []string{"reconcile verify: flag provided but not defined: -nope", "reconcile verify -h"}},
		{name: "bad flag value", args: []string{"verify", "-log-level", "loud"}, wantCode: 2, wantStderr: []string{`invalid value "loud" for flag -log-level`}},
		{
			name:       "env fallback",
			args:       []string{"verify"},
			env:        map[string]string{"RECONCILE_LOG_LEVEL": "loud"},
			wantCode:   2,
			wantStderr: []string{`invalid value "loud" for RECONCILE_LOG_LEVEL (-log-level)`},
		},
		{
			name:       "flag beats env",
			args:       []string{"merge", "-log-level", "debug"},
			env:        map[string]string{"RECONCILE_LOG_LEVEL": "loud"},
			wantCode:   2,
			wantStderr: []string{"reconcile merge: no report directories"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runReconcile(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("reconcile %q exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("reconcile %q stdout =\n%s\nwant it to contain %q", tt.args, stdout, w)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("reconcile %q stderr =\n%s\nwant it to contain %q", tt.args, stderr, w)
				}
			}
			if tt.wantCode == 0 && stderr != "" {
				t.Errorf("reconcile %q stderr = %q, want empty", tt.args, stderr)
			}
		})
	}
}
