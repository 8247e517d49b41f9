package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/cli"
)

// syncBuffer is an io.Writer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantOut    []string
		wantErrMsg []string
	}{
		{name: "version", args: []string{"-version"}, wantOut: []string{"sandbox dev\n"}},
		{name: "help", args: []string{"-h"}, wantOut: []string{"Usage:\n  sandbox [flags]", "Examples:", "env SANDBOX_FAIL_RATE", "[chosen]", "(default 127.0.0.1:8080; env SANDBOX_ADDR)", "Exit codes:"}},
		{name: "unknown flag", args: []string{"-nope"}, wantCode: 2, wantErrMsg: []string{"flag provided but not defined: -nope", "run 'sandbox -h' for usage"}},
		{name: "mistyped flag", args: []string{"-drop-rat", "0.1"}, wantCode: 2, wantErrMsg: []string{"(did you mean -drop-rate?)"}},
		{name: "rate per duration", args: []string{"-rate-limit", "100/0s"}, wantCode: 2, wantErrMsg: []string{"-rate-limit: invalid rate"}},
		{name: "every bad value at once",
			args:       []string{"-fail-rate", "2", "-drop-rate", "x", "-latency", "9ms..1ms", "-rate-limit", "fast", "-seed", "s", "-usage-lag", "-1s", "-rate-burst", "-3"},
			wantCode:   2,
			wantErrMsg: []string{`-fail-rate "2"`, `-drop-rate "x"`, "-latency", "-rate-limit", `-seed "s"`, `-usage-lag "-1s"`, `-rate-burst "-3"`}},
		{name: "bad env names the variable", env: map[string]string{"SANDBOX_DOUBLE_RATE": "1.5", "SANDBOX_RATE_LIMIT": "10/d"}, wantCode: 2,
			wantErrMsg: []string{`SANDBOX_DOUBLE_RATE "1.5"`, "SANDBOX_RATE_LIMIT"}},
		{name: "flag wins over env", args: []string{"-reset-rate", "0.5", "-version"}, env: map[string]string{"SANDBOX_RESET_RATE": "7"}, wantOut: []string{"sandbox dev"}},
		{name: "extra arguments", args: []string{"serve"}, wantCode: 2, wantErrMsg: []string{`unexpected arguments: ["serve"]`}},
		{name: "same tokens", args: []string{"-admin-token", "t", "-customer-token", "t"}, wantCode: 2, wantErrMsg: []string{"customer token must differ"}},
		{name: "missing seed file", args: []string{"-admin-token", "t", "-seed-file", "/nonexistent/seed.json"}, wantCode: 1, wantErrMsg: []string{"/nonexistent/seed.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // nothing here may serve
			err := run(ctx, tt.args, env(tt.env), strings.NewReader(""), &stdout, &stderr)
			if code := cli.ExitCode(err); code != tt.wantCode {
				t.Fatalf("run(%q) exit code = %d (err %v), want %d", tt.args, code, err, tt.wantCode)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("run(%q) stdout = %q, want it to contain %q", tt.args, stdout.String(), w)
				}
			}
			for _, w := range tt.wantErrMsg {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr.String(), w)
				}
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	var stdout, stderr syncBuffer
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
	var stdout, stderr syncBuffer
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
