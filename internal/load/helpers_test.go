package load

import (
	"context"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// testClient is a load client for sb: no retries, conns connections.
func testClient(t *testing.T, sb *sandboxtest.Sandbox, conns int) *billing.Client {
	t.Helper()
	c, err := billing.New(billing.Config{BaseURL: sb.URL, Token: sb.AdminToken, MaxRetries: -1, MaxConns: conns, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// adminClient is a retrying client for setup and verification.
func adminClient(t *testing.T, sb *sandboxtest.Sandbox) *billing.Client {
	t.Helper()
	c, err := billing.New(billing.Config{BaseURL: sb.URL, Token: sb.AdminToken, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// synthetic sets up n accounts on sb and returns their event maker.
func synthetic(t *testing.T, sb *sandboxtest.Sandbox, n int) *Synthetic {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cat, err := Setup(ctx, adminClient(t, sb), SetupConfig{Customers: n, Name: "test"})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return &Synthetic{Catalog: cat, IDPrefix: "t-" + t.Name() + "-", Seed: 1, Ledger: NewLedger(n)}
}

// syntheticOnSandbox starts a sandbox with the default configuration and
// sets up n synthetic customers on it.
func syntheticOnSandbox(t *testing.T, n int) (*sandboxtest.Sandbox, *Synthetic) {
	t.Helper()
	sb := sandboxtest.Start(t, sandbox.Config{})
	return sb, synthetic(t, sb, n)
}

// run runs cfg with a deadline well past what the test needs.
func run(t *testing.T, cfg Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// slowRun runs the open model at rate for one second, with the settings
// of cfg and a client of conns connections, against a sandbox that takes
// d to answer each request.
func slowRun(t *testing.T, d time.Duration, rate float64, conns int, cfg Config) *Result {
	t.Helper()
	sb := sandboxtest.Start(t, sandbox.Config{Latency: sandbox.Latency{Min: d, Max: d}})
	syn := synthetic(t, sb, 5)
	sch, err := Constant(rate, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client, cfg.Events, cfg.Schedule = testClient(t, sb, conns), syn.Worker, sch
	return run(t, cfg)
}
