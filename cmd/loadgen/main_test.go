package main

import (
	"context"
	"testing"

	"github.com/billharness/billharness/internal/clitest"
)

// runLoadgen runs the command in-process with only env as its environment.
func runLoadgen(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return clitest.Run(context.Background(), run, env, args...)
}

func TestRun(t *testing.T) {
	tests := []clitest.Case{
		{
			Name:       "help",
			Args:       []string{"-h"},
			WantStdout: []string{"Usage:\n  loadgen <command>", "run ", "report ", "Examples:\n  loadgen -version", "4 thresholds failed"},
		},
		{
			Name:       "subcommand help",
			Args:       []string{"run", "-h"},
			WantStdout: []string{"Usage:\n  loadgen run [flags]", "env BILLING_API_URL", "env LOADGEN_LOG_LEVEL", "env LOADGEN_RATE", "env LOADGEN_THRESHOLDS", "JOB_COMPLETION_INDEX", "Examples:\n  BILLING_TOKEN=bsk_test_… loadgen run"},
		},
		{
			Name:       "report help",
			Args:       []string{"report", "-h"},
			WantStdout: []string{"Usage:\n  loadgen report [flags] DIR...", "merged exactly", "env LOADGEN_THRESHOLDS"},
		},
		{Name: "version", Args: []string{"-version"}, WantStdout: []string{"loadgen dev\n"}},
		{Name: "missing command", WantCode: 2, WantStderr: []string{"loadgen: missing command"}},
		{Name: "unknown command", Args: []string{"attack"}, WantCode: 2, WantStderr: []string{`loadgen: unknown command "attack"`}},
		{Name: "bad flag", Args: []string{"run", "-nope"}, WantCode: 2, WantStderr: []string{"loadgen run: flag provided but not defined: -nope"}},
		{
			Name:       "env fallback",
			Args:       []string{"run"},
			Env:        map[string]string{"BILLING_INSECURE_SKIP_VERIFY": "maybe"},
			WantCode:   2,
			WantStderr: []string{`invalid value "maybe" for BILLING_INSECURE_SKIP_VERIFY (-insecure-skip-verify)`},
		},
		{Name: "run without an API", Args: []string{"run"}, WantCode: 2, WantStderr: []string{"loadgen run: no API URL", "loadgen run -h"}},
		{Name: "report without directories", Args: []string{"report"}, WantCode: 2, WantStderr: []string{"loadgen report: no result directories"}},
		{Name: "report of a missing directory", Args: []string{"report", "/nonexistent"}, WantCode: 1, WantStderr: []string{"load /nonexistent"}},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) { tt.Check(t, context.Background(), "loadgen", run) })
	}
}
