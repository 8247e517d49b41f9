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
			wantStdout: []string{"Usage:\n  loadgen <command>", "run ", "report ", "Examples:\n  loadgen -version", "4 thresholds failed"},
		},
		{
			name:       "subcommand help",
			args:       []string{"run", "-h"},
			wantStdout: []string{"Usage:\n  loadgen run [flags]", "env BILLING_API_URL", "env LOADGEN_LOG_LEVEL", "env LOADGEN_RATE", "env LOADGEN_THRESHOLDS", "JOB_COMPLETION_INDEX", "Examples:\n  BILLING_TOKEN=bsk_test_… loadgen run"},
		},
		{
			name:       "report help",
			args:       []string{"report", "-h"},
			wantStdout: []string{"Usage:\n  loadgen report [flags] DIR...", "merged exactly", "env LOADGEN_THRESHOLDS"},
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
		{name: "run without an API", args: []string{"run"}, wantCode: 2, wantStderr: []string{"loadgen run: no API URL", "loadgen run -h"}},
		{name: "report without directories", args: []string{"report"}, wantCode: 2, wantStderr: []string{"loadgen report: no result directories"}},
		{name: "report of a missing directory", args: []string{"report", "/nonexistent"}, wantCode: 1, wantStderr: []string{"load /nonexistent"}},
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
