// Package doctor checks a billing API target before a user trusts a job to
// it: that it is up, that the token works with the scope each command needs,
// and, point by point, where its OpenAPI document and its answers differ
// from the contract the harness assumes. Every probe is read-only or aimed
// at an id that cannot exist, so running it never changes the target.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/billharness/billharness/internal/billing"
)

// Status is the outcome of one check.
type Status string

// Check outcomes.
const (
	OK      Status = "ok"
	Differs Status = "differs" // the target differs from the contract
	Failed  Status = "failed"  // the check could not run (target unreachable…)
)

// Check is one point checked.
type Check struct {
	Name   string `json:"name"`
	Tag    Tag    `json:"tag,omitempty"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Target string  `json:"target"`
	Checks []Check `json:"checks"`
}

// Problems counts the checks that did not pass.
func (r *Report) Problems() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status != OK {
			n++
		}
	}
	return n
}

// Count is how many checks ended with status st.
func (r *Report) Count(st Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == st {
			n++
		}
	}
	return n
}

func (r *Report) add(name string, tag Tag, st Status, detail string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Tag: tag, Status: st, Detail: fmt.Sprintf(detail, args...)})
}

// probeID names resources that cannot exist, so probes of mutating routes
// are answered 404 (or 401/403) and change nothing.
const probeID = "00000000-0000-7000-8000-00000d0c7012"

// Run checks the target cfg points at. cfg.Token may be empty: the auth
// checks then report that no token was given.
func Run(ctx context.Context, cfg billing.Config) (*Report, error) {
	cfg.MaxRetries = -1
	c, err := billing.New(cfg)
	if err != nil {
		return nil, err
	}
	anon := cfg
	anon.Token = ""
	nc, err := billing.New(anon)
	if err != nil {
		return nil, err
	}
	r := &Report{Target: c.BaseURL()}
	h, err := c.Health(ctx)
	if err != nil {
		r.add("GET /health answers 200", Doc, Failed, "%v", err)
		return r, nil
	}
	r.add("GET /health answers 200", Doc, OK, "status %q", h.Status)
	checkAuth(ctx, r, c, nc, cfg.Token != "")
	raw, err := c.OpenAPI(ctx)
	if err != nil {
		r.add("GET /openapi.json answers 200", Doc, Failed, "%v", err)
		return r, nil
	}
	r.add("GET /openapi.json answers 200", Doc, OK, "%d bytes", len(raw))
	checkSpec(ctx, r, raw)
	return r, nil
}

// checkAuth probes the scope of the token and the [chosen] error answers.
func checkAuth(ctx context.Context, r *Report, c, anon *billing.Client, haveToken bool) {
	// Without a token: 401 with the JSON error envelope.
	_, err := anon.Subscription(ctx, probeID)
	switch e := apiError(err); {
	case e == nil:
		r.add("a request without a token is refused with 401", Chosen, Differs, "got %v", describe(err))
	case e.Status != http.StatusUnauthorized:
		r.add("a request without a token is refused with 401", Chosen, Differs, "got %d", e.Status)
	default:
		r.add("a request without a token is refused with 401", Chosen, OK, "")
		envelope(r, e)
	}
	if !haveToken {
		r.add("token given", "", Failed, "no token: set BILLING_TOKEN or -token-file")
		return
	}
	// /v1 scope: an unknown subscription must be 404, not 401/403.
	_, err = c.Subscription(ctx, probeID)
	switch e := apiError(err); {
	case e != nil && e.Status == http.StatusNotFound:
		r.add("token works on /v1 (replay, verify, loadgen)", Doc, OK, "")
	case e != nil && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden):
		r.add("token works on /v1 (replay, verify, loadgen)", Doc, Failed, "refused: %v", e)
	default:
		r.add("token works on /v1 (replay, verify, loadgen)", Doc, Differs, "unknown subscription: want 404, got %v", describe(err))
	}
	// Admin scope: finalizing an invoice that cannot exist must be 404.
	_, err = c.FinalizeInvoice(ctx, probeID)
	switch e := apiError(err); {
	case e != nil && e.Status == http.StatusNotFound:
		r.add("token has admin scope (bill, loadgen -setup)", Doc, OK, "")
	case e != nil && e.Status == http.StatusForbidden:
		r.add("token has admin scope (bill, loadgen -setup)", Chosen, Failed, "403: a customer-scope key can replay and verify but not bill or set up load tests")
	default:
		r.add("token has admin scope (bill, loadgen -setup)", Doc, Differs, "unknown invoice: want 404, got %v", describe(err))
	}
}

// envelope checks the [chosen] JSON error body on an error we provoked.
func envelope(r *Report, e *billing.APIError) {
	const name = `errors use {"error":{"code","message","request_id"}}`
	switch {
	case e.Code == "":
		r.add(name, Chosen, Differs, "body was not the JSON envelope: %q", e.Message)
	case e.RequestID == "":
		r.add(name, Chosen, Differs, "no request_id in the body nor X-Request-Id header")
	default:
		r.add(name, Chosen, OK, "code %q", e.Code)
	}
}

func apiError(err error) *billing.APIError {
	var e *billing.APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func describe(err error) string {
	if err == nil {
		return "success"
	}
	return strings.TrimPrefix(err.Error(), "billing: ")
}
