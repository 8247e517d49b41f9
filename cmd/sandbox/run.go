package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/sandbox"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

// options are the raw flag values; every flag is a string (parsed after
// flag parsing) so that all bad values are reported together.
type options struct {
	addr, adminToken, customerToken, seed, seedFile                               string
	failRate, throttleRate, resetRate, dropRate, doubleRate, rateLimit, rateBurst string
	latency, usageLag, faultLog, idemKeys, laxBilling                             string
	openapi                                                                       bool
	fs                                                                            *flag.FlagSet
}

// label names a flag's source in errors: "-fail-rate" or "SANDBOX_FAIL_RATE".
func (o *options) label(name string) string { return cli.Source(o.fs.Lookup(name)) }

// newCommand is the sandbox's command line: the same entry-point kit as
// reconcile and loadgen (help layout, environment fallbacks, exit codes).
func newCommand(o *options, exec func(ctx context.Context, args []string) error) *cli.Command {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	o.fs = fs
	str := func(p *string, name, value, usage string) { cli.String(fs, p, name, envName(name), value, usage) }
	str(&o.addr, "addr", "127.0.0.1:8080", "listen `address` (port 0: any free port)")
	str(&o.adminToken, "admin-token", "", "admin-scope API `key` (default: random bsk_test_ key, printed once at start)")
	str(&o.customerToken, "customer-token", "", "customer-scope API `key` (default: none)")
	str(&o.seed, "seed", "0", "`n` (integer) seeding every fault decision")
	str(&o.seedFile, "seed-file", "", "JSON `file` with an initial catalog: customers, products, plans, skus, subscriptions; several, comma-separated, load in order")
	str(&o.failRate, "fail-rate", "0", "`share` of authenticated requests answered 500, 0..1")
	str(&o.throttleRate, "throttle-rate", "0", "`share` of authenticated requests answered 429 with Retry-After: 0, 0..1")
	str(&o.resetRate, "reset-rate", "0", "`share` of POST /v1/events whose connection is reset after the event is stored, 0..1")
	str(&o.dropRate, "drop-rate", "0", "`share` of events acknowledged 202 but never counted, 0..1")
	str(&o.doubleRate, "double-rate", "0", "`share` of events counted twice, 0..1")
	str(&o.rateLimit, "rate-limit", "0", "token bucket `rate` over authenticated routes: 500/s, 30000/m, 100/10s or 500 (per second); 0: off")
	str(&o.rateBurst, "rate-burst", "0", "token bucket size `n` (0: the per-second rate)")
	str(&o.latency, "latency", "0s", "`range` of added delay per authenticated request: 10ms, or a uniform range 5ms..50ms")
	str(&o.faultLog, "fault-log", "", "at shutdown, write the ids of the events the sandbox dropped or doubled, per subscription, to this JSON `file`")
	str(&o.usageLag, "usage-lag", "0s", "`duration` before an accepted event shows in usage and billing")
	str(&o.laxBilling, "lax-billing", "false", "`bool`: bill like a careless platform (any period, full flat fees in trials and before the start), to test what reconcile bill catches")
	str(&o.idemKeys, "idempotency-keys", strconv.Itoa(sandbox.DefaultIdempotencyKeys),
		"at most `n` Idempotency-Keys kept (they expire after 24 h; past n, arbitrary completed ones are dropped first)")
	fs.BoolVar(&o.openapi, "openapi", false, "print the OpenAPI document (as GET /openapi.json serves it) and exit")
	return &cli.Command{
		Name:    "sandbox",
		Version: version,
		Description: `Sandbox runs the billing API sandbox: an in-memory server implementing the
API contract billharness follows ([doc] rules from docs.bill.sh and the
[chosen] behaviour where the docs are silent: 401/403 split, error body, 409
on a reused Idempotency-Key, 200 duplicate answers, usage JSON, bill body),
plus fault knobs for testing. State is lost when it stops.

Every flag can also be set by the environment variable SANDBOX_<NAME>
shown beside it (e.g. SANDBOX_ADDR, SANDBOX_FAIL_RATE); a flag on the
command line wins.

Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM: stop accepting,
drain in-flight requests), 1 on a runtime failure, 2 on bad flags or
environment. A second signal exits at once.`,
		Examples: []string{
			"sandbox",
			"sandbox -addr 127.0.0.1:9090 -seed-file catalog.json",
			"sandbox -fail-rate 0.01 -drop-rate 0.001 -double-rate 0.001 -seed 42",
			"sandbox -rate-limit 500/s -latency 5ms..50ms",
			"SANDBOX_ADMIN_TOKEN=bsk_test_secret sandbox -usage-lag 2s",
			"sandbox -openapi > openapi.json   # for linters and client generators",
			"sandbox -lax-billing true   # invoices overlap, trials are charged: for reconcile bill's checks",
		},
		Flags: fs,
		Exec:  exec,
	}
}

// envName is the environment variable backing a flag.
func envName(flagName string) string {
	return "SANDBOX_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	_ = stdin
	var o options
	cmd := newCommand(&o, func(ctx context.Context, args []string) error { return serve(ctx, &o, args, stdout, stderr) })
	return cmd.Execute(ctx, args, getenv, stdout, stderr)
}

// serve starts the sandbox the options describe and serves until ctx ends.
func serve(ctx context.Context, o *options, args []string, stdout, stderr io.Writer) error {
	var errs []error
	if len(args) > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %q", args))
	}
	if o.openapi {
		doc, err := sandbox.OpenAPI(version)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", doc)
		return err
	}
	cfg, err := o.config()
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return &cli.UsageError{Err: err}
	}

	generated := false
	if cfg.AdminToken == "" {
		if cfg.AdminToken, err = sandbox.GenerateToken(); err != nil {
			return err
		}
		generated = true
	}
	if err := cfg.Validate(); err != nil {
		return &cli.UsageError{Err: err}
	}
	if o.seedFile != "" {
		if cfg.Data, err = sandbox.LoadSeedFiles(strings.Split(o.seedFile, ",")); err != nil {
			return err
		}
	}
	cfg.Logger = cli.NewLogger(stderr, slog.LevelInfo)
	srv, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	err = srv.ListenAndServe(ctx, o.addr, func(url string) {
		fmt.Fprintf(stdout, "sandbox listening on %s\n", url)
		if generated {
			fmt.Fprintf(stdout, "admin token (generated; printed only this once, never logged): %s\n", cfg.AdminToken)
		}
		cfg.Logger.Info("sandbox started", "url", url, "version", version, "seed", cfg.Seed,
			"fail_rate", cfg.FailRate, "throttle_rate", cfg.ThrottleRate, "reset_rate", cfg.ResetRate, "drop_rate", cfg.DropRate, "double_rate", cfg.DoubleRate,
			"rate_limit", cfg.RateLimit, "latency", cfg.Latency.String(), "usage_lag", cfg.UsageLag.String(),
			"customer_token", cfg.CustomerToken != "", "seed_file", o.seedFile)
	})
	if err == nil {
		cfg.Logger.Info("sandbox stopped", "stats", srv.Stats())
	}
	if o.faultLog != "" {
		err = errors.Join(err, srv.WriteFaultLog(o.faultLog))
	}
	return err
}

// config parses every flag value, reporting all problems at once.
func (o *options) config() (sandbox.Config, error) {
	cfg := sandbox.Config{AdminToken: o.adminToken, CustomerToken: o.customerToken, Version: version}
	var errs []error
	var err error
	if o.addr == "" {
		errs = append(errs, fmt.Errorf("%s: must not be empty", o.label("addr")))
	}
	if cfg.Seed, err = strconv.ParseInt(o.seed, 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("%s %q: not an integer", o.label("seed"), o.seed))
	}
	for _, r := range []struct {
		name string
		raw  string
		dst  *float64
	}{{"fail-rate", o.failRate, &cfg.FailRate}, {"throttle-rate", o.throttleRate, &cfg.ThrottleRate}, {"reset-rate", o.resetRate, &cfg.ResetRate}, {"drop-rate", o.dropRate, &cfg.DropRate}, {"double-rate", o.doubleRate, &cfg.DoubleRate}} {
		v, err := strconv.ParseFloat(r.raw, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("%s %q: must be a number from 0 to 1", o.label(r.name), r.raw))
			continue
		}
		*r.dst = v
	}
	if r, err := cli.ParseRate(o.rateLimit); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", o.label("rate-limit"), err))
	} else {
		cfg.RateLimit = float64(r)
	}
	if cfg.RateBurst, err = strconv.Atoi(o.rateBurst); err != nil || cfg.RateBurst < 0 {
		errs = append(errs, fmt.Errorf("%s %q: must be an integer >= 0", o.label("rate-burst"), o.rateBurst))
	}
	if cfg.Latency, err = sandbox.ParseLatency(o.latency); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", o.label("latency"), err))
	}
	if cfg.IdempotencyKeys, err = strconv.Atoi(o.idemKeys); err != nil || cfg.IdempotencyKeys < 1 {
		errs = append(errs, fmt.Errorf("%s %q: must be an integer >= 1", o.label("idempotency-keys"), o.idemKeys))
	}
	if cfg.UsageLag, err = time.ParseDuration(o.usageLag); err != nil || cfg.UsageLag < 0 {
		errs = append(errs, fmt.Errorf("%s %q: must be a duration >= 0, e.g. 2s", o.label("usage-lag"), o.usageLag))
	}
	if cfg.LaxBilling, err = strconv.ParseBool(o.laxBilling); err != nil {
		errs = append(errs, fmt.Errorf("%s %q: must be true or false", o.label("lax-billing"), o.laxBilling))
	}
	return cfg, errors.Join(errs...)
}
