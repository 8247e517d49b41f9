package main

import (
	"context"
	"testing"

	"github.com/billharness/billharness/internal/clitest"
)

// runReconcile runs the command in-process with only env as its environment.
func runReconcile(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return clitest.Run(context.Background(), run, env, args...)
}

func TestRun(t *testing.T) {
	tests := []clitest.Case{
		{
			Name:       "help",
			Args:       []string{"-h"},
			WantStdout: []string{"Usage:\n  reconcile <command>", "replay ", "verify ", "bill ", "run ", "merge ", "doctor ", "Examples:\n  BILLING_TOKEN=bsk_test_… reconcile doctor", "Exit codes:"},
		},
		{
			Name:       "subcommand help",
			Args:       []string{"replay", "-h"},
			WantStdout: []string{"Usage:\n  reconcile replay [flags]", "-api-url URL", "env BILLING_API_URL", "env BILLING_TOKEN_FILE", "env RECONCILE_LOG_LEVEL", "env RECONCILE_RATE", "Examples:\n  BILLING_TOKEN=bsk_test_… reconcile replay"},
		},
		{Name: "version", Args: []string{"-version"}, WantStdout: []string{"reconcile dev\n"}},
		{Name: "missing command", WantCode: 2, WantStderr: []string{"reconcile: missing command", "reconcile -h"}},
		{Name: "unknown command", Args: []string{"frobnicate"}, WantCode: 2, WantStderr: []string{`reconcile: unknown command "frobnicate"`}},
		{Name: "bad flag", Args: []string{"verify", "-nope"}, WantCode: 2, WantStderr: []string{"reconcile verify: flag provided but not defined: -nope", "reconcile verify -h"}},
		{Name: "bad flag value", Args: []string{"verify", "-log-level", "loud"}, WantCode: 2, WantStderr: []string{`invalid value "loud" for flag -log-level`}},
		{
			Name:       "env fallback",
			Args:       []string{"verify"},
			Env:        map[string]string{"RECONCILE_LOG_LEVEL": "loud"},
			WantCode:   2,
			WantStderr: []string{`invalid value "loud" for RECONCILE_LOG_LEVEL (-log-level)`},
		},
		{
			Name:       "flag beats env",
			Args:       []string{"merge", "-log-level", "debug"},
			Env:        map[string]string{"RECONCILE_LOG_LEVEL": "loud"},
			WantCode:   2,
			WantStderr: []string{"reconcile merge: no report directories"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			_, stderr := tt.Check(t, context.Background(), "reconcile", run)
			if tt.WantCode == 0 && stderr != "" {
				t.Errorf("reconcile %q stderr = %q, want empty", tt.Args, stderr)
			}
		})
	}
}
