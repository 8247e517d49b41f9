package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/cli"
)

// runLoadgen runs the command in-process with only env as its environment.
func runLoadgen(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
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
			wantStdout: []string{"Usage:\n  loadgen <command>", "run ", "report ", "(planned)", "Examples:\n  loadgen -version", "4 thresholds failed"},
		},
		{
			name:       "subcommand help",
			args:       []string{"run", "-h"},
			wantStdout: []string{"Usage:\n  loadgen run [flags]", "env BILLING_API_URL", "env LOADGEN_LOG_LEVEL", "Not implemented yet."},
		},
		{name: "version", args: []string{"-version"}, wantStdout: []string{"loadgen dev\n"}},
		{name: "missing command", wantCode: 2, wantStderr: []string{"loadgen: missing command"}},
		{name: "unknown command", args: []string{"attack"}, wantCode: 2, wantStderr: []string{`loadgen: unknown command "attack"`}},
		{name: "bad flag", args: []string{"run", "-nope"}, wantCode: 2, wantStderr: []string{"loadgen run: flag provided but not defined: -nope"}},
		{
			name:       "env fallback",
			args:       []string{"run"},
			env:        map[string]string{"BILLING_INSECURE_SKIP_VERIFY": "maybe"},
			wantCode:   2,
			wantStderr: []string{`invalid value "maybe" for BILLING_INSECURE_SKIP_VERIFY (-insecure-skip-verify)`},
		},
		{name: "run is planned", args: []string{"run"}, wantCode: 1, wantStderr: []string{"loadgen run: not implemented yet"}},
		{name: "report is planned", args: []string{"report"}, wantCode: 1, wantStderr: []string{"loadgen report: not implemented yet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLoadgen(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("loadgen %q exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("loadgen %q stdout =\n%s\nwant it to contain %q", tt.args, stdout, w)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("loadgen %q stderr =\n%s\nwant it to contain %q", tt.args, stderr, w)
				}
			}
		})
	}
}
