package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/clitest"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestRunFlags(t *testing.T) {
	tests := []clitest.Case{
		{Name: "version", Args: []string{"-version"}, WantStdout: []string{"sandbox dev\n"}},
		{Name: "help", Args: []string{"-h"}, WantStdout: []string{"Usage:\n  sandbox [flags]", "Examples:", "env SANDBOX_FAIL_RATE", "[chosen]", "(default 127.0.0.1:8080; env SANDBOX_ADDR)", "Exit codes:"}},
		{Name: "unknown flag", Args: []string{"-nope"}, WantCode: 2, WantStderr: []string{"flag provided but not defined: -nope", "run 'sandbox -h' for usage"}},
		{Name: "mistyped flag", Args: []string{"-drop-rat", "0.1"}, WantCode: 2, WantStderr: []string{"(did you mean -drop-rate?)"}},
		{Name: "rate per duration", Args: []string{"-rate-limit", "100/0s"}, WantCode: 2, WantStderr: []string{"-rate-limit: invalid rate"}},
		{Name: "every bad value at once",
			Args:       []string{"-fail-rate", "2", "-drop-rate", "x", "-latency", "9ms..1ms", "-rate-limit", "fast", "-seed", "s", "-usage-lag", "-1s", "-rate-burst", "-3"},
			WantCode:   2,
			WantStderr: []string{`-fail-rate "2"`, `-drop-rate "x"`, "-latency", "-rate-limit", `-seed "s"`, `-usage-lag "-1s"`, `-rate-burst "-3"`}},
		{Name: "bad env names the variable", Env: map[string]string{"SANDBOX_DOUBLE_RATE": "1.5", "SANDBOX_RATE_LIMIT": "10/d"}, WantCode: 2,
			WantStderr: []string{`SANDBOX_DOUBLE_RATE "1.5"`, "SANDBOX_RATE_LIMIT"}},
		{Name: "flag wins over env", Args: []string{"-reset-rate", "0.5", "-version"}, Env: map[string]string{"SANDBOX_RESET_RATE": "7"}, WantStdout: []string{"sandbox dev"}},
		{Name: "extra arguments", Args: []string{"serve"}, WantCode: 2, WantStderr: []string{`unexpected arguments: ["serve"]`}},
		{Name: "same tokens", Args: []string{"-admin-token", "t", "-customer-token", "t"}, WantCode: 2, WantStderr: []string{"customer token must differ"}},
		{Name: "missing seed file", Args: []string{"-admin-token", "t", "-seed-file", "/nonexistent/seed.json"}, WantCode: 1, WantStderr: []string{"/nonexistent/seed.json"}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing here may serve
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) { tt.Check(t, ctx, "sandbox", run) })
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	var stdout, stderr clitest.SyncBuffer
	faultLog := filepath.Join(t.TempDir(), "faults.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-seed-file", "../../internal/sandbox/testdata/seed.json",
			"-drop-rate", "1", "-fault-log", faultLog}, env(nil), strings.NewReader(""), &stdout, &stderr)
	}()
	urlRe := regexp.MustCompile(`sandbox listening on (http://127\.0\.0\.1:\d+)\n`)
	tokenRe := regexp.MustCompile(`admin token \(generated; printed only this once, never logged\): (bsk_test_[0-9a-f]{32})\n`)
	var url, token string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" || token == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no URL and token line within 10s; stdout %q stderr %q", stdout.String(), stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v; stderr %q", err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if m := urlRe.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
		if m := tokenRe.FindStringSubmatch(stdout.String()); m != nil {
			token = m[1]
		}
	}
	get := func(path, tok string) int {
		req, _ := http.NewRequest("GET", url+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/health", ""); got != 200 {
		t.Errorf("GET /health = %d, want 200", got)
	}
	if got := get("/v1/subscriptions/01944b1f-0000-7000-8000-000000000003", token); got != 200 {
		t.Errorf("GET the seeded subscription with the printed token = %d, want 200", got)
	}
	ev := `{"id":"evt-dropped","event_type":"api.request","customer_id":"01944b1f-0000-7000-8000-000000000001",` +
		`"subscription_id":"01944b1f-0000-7000-8000-000000000003","timestamp":"2026-10-05T10:00:00Z"}`
	req, _ := http.NewRequest("POST", url+"/v1/events", strings.NewReader(ev))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("POST /v1/events = %v, %v; want 202 (then dropped)", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v, want nil (clean shutdown)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15s of cancel")
	}
	if strings.Contains(stderr.String(), token) {
		t.Errorf("stderr contains the admin token; it must be printed once, on stdout only")
	}
	b, err := os.ReadFile(faultLog)
	if err != nil {
		t.Fatalf("no fault log after shutdown: %v", err)
	}
	var faults struct{ Dropped map[string][]string }
	if err := json.Unmarshal(b, &faults); err != nil {
		t.Fatalf("fault log %s: %v", b, err)
	}
	if got := faults.Dropped["01944b1f-0000-7000-8000-000000000003"]; len(got) != 1 || got[0] != "evt-dropped" {
		t.Errorf("fault log dropped = %v, want evt-dropped under its subscription", faults.Dropped)
	}
}

func TestRunDoesNotPrintAGivenToken(t *testing.T) {
	var stdout, stderr clitest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, env(map[string]string{"SANDBOX_ADMIN_TOKEN": "bsk_test_given"}), strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("no URL line within 10s; stderr %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v, want nil", err)
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "bsk_test_given") || strings.Contains(out, "admin token") {
		t.Errorf("output %q mentions the token set by SANDBOX_ADMIN_TOKEN; it must never be printed", out)
	}
}
