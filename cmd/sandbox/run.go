package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

// usageError marks bad flags or environment: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode maps run's error to the process exit status, printing it:
// 0 success (and -h), 1 failure, 2 usage.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sandbox: %v\nRun 'sandbox -h' for usage.\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "sandbox: %v\n", err)
	return 1
}

// options are the raw flag values; every flag is a string (parsed after
// flag parsing) so that all bad values are reported together.
type options struct {
	addr, adminToken, customerToken, seed, seedFile                               string
	failRate, throttleRate, resetRate, dropRate, doubleRate, rateLimit, rateBurst string
	latency, usageLag, faultLog, idemKeys, laxBilling                             string
	version, openapi                                                              bool
	from                                                                          map[string]string // flag name -> env var it came from
}

// label names a flag's source in errors: "-fail-rate" or "SANDBOX_FAIL_RATE".
func (o *options) label(name string) string {
	if env, ok := o.from[name]; ok {
		return env
	}
	return "-" + name
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `address` (port 0: any free port)")
	fs.StringVar(&o.adminToken, "admin-token", "", "admin-scope API `key` (default: random bsk_test_ key, printed once at start)")
	fs.StringVar(&o.customerToken, "customer-token", "", "customer-scope API `key` (default: none)")
	fs.StringVar(&o.seed, "seed", "0", "`n` (integer) seeding every fault decision")
	fs.StringVar(&o.seedFile, "seed-file", "", "JSON `file` with an initial catalog: customers, products, plans, skus, subscriptions; several, comma-separated, load in order")
	fs.StringVar(&o.failRate, "fail-rate", "0", "`share` of authenticated requests answered 500, 0..1")
	fs.StringVar(&o.throttleRate, "throttle-rate", "0", "`share` of authenticated requests answered 429 with Retry-After: 0, 0..1")
	fs.StringVar(&o.resetRate, "reset-rate", "0", "`share` of POST /v1/events whose connection is reset after the event is stored, 0..1")
	fs.StringVar(&o.dropRate, "drop-rate", "0", "`share` of events acknowledged 202 but never counted, 0..1")
	fs.StringVar(&o.doubleRate, "double-rate", "0", "`share` of events counted twice, 0..1")
	fs.StringVar(&o.rateLimit, "rate-limit", "0", "token bucket `N/s` over authenticated routes, e.g. 500/s (0: off)")
	fs.StringVar(&o.rateBurst, "rate-burst", "0", "token bucket size `n` (0: the per-second rate)")
	fs.StringVar(&o.latency, "latency", "0s", "`range` of added delay per authenticated request: 10ms, or a uniform range 5ms..50ms")
	fs.StringVar(&o.faultLog, "fault-log", "", "at shutdown, write the ids of the events the sandbox dropped or doubled, per subscription, to this JSON `file`")
	fs.StringVar(&o.usageLag, "usage-lag", "0s", "`duration` before an accepted event shows in usage and billing")
	fs.StringVar(&o.laxBilling, "lax-billing", "false", "`bool`: bill like a careless platform (any period, full flat fees in trials and before the start), to test what reconcile bill catches")
	fs.StringVar(&o.idemKeys, "idempotency-keys", strconv.Itoa(sandbox.DefaultIdempotencyKeys),
		"at most `n` Idempotency-Keys kept (they expire after 24 h; past n, arbitrary completed ones are dropped first)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.openapi, "openapi", false, "print the OpenAPI document (as GET /openapi.json serves it) and exit")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "version" && f.Name != "openapi" {
			f.Usage += " [env " + envName(f.Name) + "]"
		}
	})
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: sandbox [flags]

Runs the billing API sandbox: an in-memory server implementing the API
contract billharness follows ([doc] rules from docs.bill.sh and the [chosen]
behaviour where the docs are silent: 401/403 split, error body, 409 on a
reused Idempotency-Key, 200 duplicate answers, usage JSON, bill body), plus
fault knobs for testing. State is lost when it stops.

Every flag can also be set by the environment variable SANDBOX_<NAME>
(e.g. SANDBOX_ADDR, SANDBOX_FAIL_RATE); a flag on the command line wins.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(stderr, `
Examples:
  sandbox
  sandbox -addr 127.0.0.1:9090 -seed-file catalog.json
  sandbox -fail-rate 0.01 -drop-rate 0.001 -double-rate 0.001 -seed 42
  sandbox -rate-limit 500/s -latency 5ms..50ms
  SANDBOX_ADMIN_TOKEN=bsk_test_secret sandbox -usage-lag 2s
  sandbox -openapi > openapi.json   # for linters and client generators
  sandbox -lax-billing true   # invoices overlap, trials are charged: for reconcile bill's checks

Exit status: 0 after a clean shutdown (SIGINT/SIGTERM: stop accepting,
drain in-flight requests), 1 on a runtime failure, 2 on bad flags or
environment. A second signal exits at once.
`)
	}
	return fs
}

// envName is the environment variable backing a flag.
func envName(flagName string) string {
	return "SANDBOX_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	_ = stdin
	var o options
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %q", fs.Args()))
	}
	// Flags not given on the command line fall back to the environment;
	// o.from remembers which, so errors name what the user actually set.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	o.from = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && !given[f.Name] && f.Name != "version" && f.Name != "openapi" {
			_ = fs.Set(f.Name, v) // string flags: Set cannot fail
			o.from[f.Name] = envName(f.Name)
		}
	})
	if o.version {
		fmt.Fprintln(stdout, "sandbox", version)
		return nil
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
		return usageError{err}
	}

	generated := false
	if cfg.AdminToken == "" {
		if cfg.AdminToken, err = sandbox.GenerateToken(); err != nil {
			return err
		}
		generated = true
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if o.seedFile != "" {
		cfg.Data = &sandbox.SeedData{}
		for _, path := range strings.Split(o.seedFile, ",") {
			d, err := sandbox.LoadSeedFile(strings.TrimSpace(path))
			if err != nil {
				return err
			}
			cfg.Data.Add(d)
		}
	}
	cfg.Logger = newLogger(stderr)
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
		b, merr := json.MarshalIndent(srv.Faults(), "", "  ")
		if merr == nil {
			merr = os.WriteFile(o.faultLog, append(b, '\n'), 0o644)
		}
		if merr != nil {
			err = errors.Join(err, fmt.Errorf("write fault log: %w", merr))
		}
	}
	return err
}

// newLogger logs text on a terminal and JSON otherwise (e.g. in Kubernetes).
func newLogger(w io.Writer) *slog.Logger {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, nil))
		}
	}
	return slog.New(slog.NewJSONHandler(w, nil))
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
	if cfg.RateLimit, err = parseRate(o.rateLimit); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", o.label("rate-limit"), err))
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

// parseRate reads "500/s", "500" (per second) or "30000/m".
func parseRate(s string) (float64, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	per := 1.0
	if hasUnit {
		switch unit {
		case "s":
		case "m":
			per = 60
		case "h":
			per = 3600
		default:
			return 0, fmt.Errorf("%q: unit must be /s, /m or /h", s)
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q: want a rate like 500/s", s)
	}
	return v / per, nil
}
