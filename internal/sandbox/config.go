// Package sandbox is a local, in-memory implementation of the billing API
// contract (the [doc] and [chosen] rules of the project's API.md) with fault
// knobs: injected 500s, connection resets, silently dropped or doubled
// events, rate limiting, latency and usage lag.
//
// It is the target of every test and benchmark in the project, so it is
// both strict (it answers exactly as the contract says) and fast (the event
// path shards every shared structure). Every fault decision is derived from
// Config.Seed, so a run can be repeated.
//
// The sandbox is the oracle the harness is tested against, so what it
// shares with the harness is chosen, not convenient:
//
//   - It reads JSON with a scanner of its own (jsonscan.go), not the
//     harness's internal/jsonscan: a bug shared by both would pass every
//     test. FuzzScannersAgree holds the two to each other and to
//     encoding/json, value lookup included.
//   - It shares billing.Quantity and billing.Money, the exact arithmetic
//     of the contract's numbers, which their own tests hold to math/big.
//   - It answers with the client's wire types (internal/billing), so every
//     answer its tests get is checked against /openapi.json, written by
//     hand apart from those types, with objects closed to unknown fields
//     (contract_test.go): a wrong JSON tag fails there.
package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
)

// Config configures a Server. Zero values mean the documented defaults;
// only AdminToken is required.
type Config struct {
	// AdminToken grants the admin scope (every route). Required; cmd/sandbox
	// generates a random one when unset.
	AdminToken string
	// CustomerToken, when set, grants the customer scope: every route except
	// /admin/v1/* and /sandbox/v1/*.
	CustomerToken string
	// Seed seeds every fault decision: two servers with the same Seed and
	// the same requests corrupt the same events.
	Seed int64
	// FailRate is the share of authenticated requests answered 500 (before
	// any side effect).
	FailRate float64
	// ThrottleRate is the share of authenticated requests answered 429 with
	// "Retry-After: 0" (retry at once), independently of RateLimit: the
	// sporadic throttling of a gateway smoothing bursts. Decided before
	// FailRate and before any side effect.
	ThrottleRate float64
	// ResetRate is the share of POST /v1/events requests whose connection is
	// closed without a response after the event was stored and its
	// idempotency response recorded.
	ResetRate float64
	// DropRate is the share of event ids acknowledged 202 on first delivery
	// but never counted. A dropped event leaves no trace (not deduplicated,
	// no idempotency record), so a later re-send of the same id counts.
	DropRate float64
	// DoubleRate is the share of event ids counted twice on acceptance. A
	// re-send is still a duplicate.
	DoubleRate float64
	// RateLimit is a token bucket, in requests per second, over the
	// authenticated routes; 0 turns it off. Requests over the limit get 429
	// with Retry-After.
	RateLimit float64
	// RateBurst is the bucket size. Default max(1, int(RateLimit)).
	RateBurst int
	// Latency is added to every authenticated request.
	Latency Latency
	// LaxBilling bills like a careless platform, to test what reconcile
	// catches: any period is billed (overlapping months, days, years
	// before the subscription), and flat fees are charged in full, trials
	// and start dates ignored.
	LaxBilling bool
	// UsageLag delays when an accepted event shows in usage and billing.
	UsageLag time.Duration
	// IdempotencyKeys caps the idempotency table (keys of the last 24 h).
	// Default DefaultIdempotencyKeys.
	IdempotencyKeys int
	// Now is the clock for timestamps, billing periods, idempotency expiry,
	// usage lag and the rate limiter. Default time.Now.
	Now func() time.Time
	// Data is an optional initial catalog.
	Data *SeedData
	// Logger receives operational messages. Default: discard.
	Logger *slog.Logger
	// Version is reported by GET /health. Default "dev".
	Version string
}

// Latency is a uniform random delay in [Min, Max].
type Latency struct{ Min, Max time.Duration }

// String formats l the way ParseLatency reads it.
func (l Latency) String() string {
	switch {
	case l.Min == 0 && l.Max == 0:
		return "0s"
	case l.Min == l.Max:
		return l.Min.String()
	}
	return l.Min.String() + ".." + l.Max.String()
}

// ParseLatency parses "10ms" (fixed) or "5ms..50ms" (uniform range). The
// empty string is no latency.
func ParseLatency(s string) (Latency, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Latency{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "..")
	minD, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return Latency{}, fmt.Errorf("latency %q: %w", s, err)
	}
	maxD := minD
	if isRange {
		if maxD, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return Latency{}, fmt.Errorf("latency %q: %w", s, err)
		}
	}
	l := Latency{Min: minD, Max: maxD}
	if err := l.validate(); err != nil {
		return Latency{}, fmt.Errorf("latency %q: %w", s, err)
	}
	return l, nil
}

func (l Latency) validate() error {
	if l.Min < 0 || l.Max < 0 {
		return errors.New("must not be negative")
	}
	if l.Max < l.Min {
		return errors.New("max is below min")
	}
	return nil
}

// Validate reports every problem with c at once (errors.Join). It does not
// check Data; New checks the seed catalog as it loads it.
func (c Config) Validate() error {
	var errs []error
	if c.AdminToken == "" {
		errs = append(errs, errors.New("admin token is required"))
	}
	for _, t := range []struct{ name, tok string }{{"admin", c.AdminToken}, {"customer", c.CustomerToken}} {
		if strings.ContainsAny(t.tok, " \t\r\n") {
			errs = append(errs, fmt.Errorf("%s token must not contain whitespace", t.name))
		}
	}
	if c.CustomerToken != "" && c.CustomerToken == c.AdminToken {
		errs = append(errs, errors.New("customer token must differ from the admin token"))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"fail rate", c.FailRate}, {"throttle rate", c.ThrottleRate}, {"reset rate", c.ResetRate}, {"drop rate", c.DropRate}, {"double rate", c.DoubleRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			errs = append(errs, fmt.Errorf("%s %v: must be in [0, 1]", r.name, r.v))
		}
	}
	if !(c.RateLimit >= 0) || math.IsInf(c.RateLimit, 0) {
		errs = append(errs, fmt.Errorf("rate limit %v: must be a finite number >= 0", c.RateLimit))
	}
	if c.RateBurst < 0 {
		errs = append(errs, fmt.Errorf("rate burst %d: must be >= 0", c.RateBurst))
	}
	if err := c.Latency.validate(); err != nil {
		errs = append(errs, fmt.Errorf("latency %s: %w", c.Latency, err))
	}
	if c.UsageLag < 0 {
		errs = append(errs, fmt.Errorf("usage lag %s: must be >= 0", c.UsageLag))
	}
	return errors.Join(errs...)
}

// GenerateToken returns a random test-mode key "bsk_test_<32 hex digits>".
func GenerateToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return "bsk_test_" + hex.EncodeToString(b[:]), nil
}
