package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// t0 is the default time of the injected clock: mid-February 2026, so the
// current billing period is February and the previous one January.
var t0 = time.Date(2026, 2, 15, 12, 0, 0, 0, time.UTC)

// clock is an injectable Config.Now that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running sandbox plus raw-HTTP helpers.
type env struct {
	t      testing.TB
	sb     *sandboxtest.Sandbox
	clock  *clock
	client *http.Client
}

// start runs a sandbox, with the configuration given or the default (no
// faults), on an injected clock (t0 unless cfg.Now is set).
func start(t testing.TB, cfgs ...sandbox.Config) *env {
	t.Helper()
	var cfg sandbox.Config // the default: no faults
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	e := &env{t: t, client: &http.Client{Timeout: 10 * time.Second}}
	if cfg.Now == nil {
		e.clock = newClock(t0)
		cfg.Now = e.clock.Now
	}
	e.sb = sandboxtest.Start(t, cfg)
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

// reply is a raw HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// is reports whether r is an error answer with this status, code and field.
func (r reply) is(status int, code, field string) bool {
	c, f, _ := r.err()
	return r.status == status && c == code && f == field
}

// err decodes the error envelope.
func (r reply) err() (code, field, requestID string) {
	var eb struct {
		Error struct {
			Code      string `json:"code"`
			Field     string `json:"field"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &eb)
	return eb.Error.Code, eb.Error.Field, eb.Error.RequestID
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

// do sends a request. body may be nil, a string or []byte (sent raw) or
// any value (sent as JSON). hdr is alternating header names and values.
func (e *env) do(method, path, token string, body any, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.sb.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	checkContract(e.t, req, resp.StatusCode, resp.Header, out)
	return reply{status: resp.StatusCode, header: resp.Header, body: out}
}

// admin sends with the admin token.
func (e *env) admin(method, path string, body any, hdr ...string) reply {
	e.t.Helper()
	return e.do(method, path, e.sb.AdminToken, body, hdr...)
}

// must sends with the admin token, requires status want and decodes into v.
func (e *env) must(want int, v any, method, path string, body any, hdr ...string) reply {
	e.t.Helper()
	r := e.admin(method, path, body, hdr...)
	if r.status != want {
		e.t.Fatalf("%s %s = %s, want status %d", method, path, r, want)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

type idOnly struct {
	ID string `json:"id"`
}

func (e *env) customer(name string) string {
	e.t.Helper()
	var c idOnly
	e.must(201, &c, "POST", "/admin/v1/customers", map[string]any{"display_name": name, "currency": "USD"})
	return c.ID
}

func (e *env) plan(name string) string {
	e.t.Helper()
	var p idOnly
	e.must(201, &p, "POST", "/admin/v1/catalog/plans", map[string]any{"name": name})
	return p.ID
}

// sku creates a SKU of plan; fields override the defaults.
func (e *env) sku(plan, name, price string, fields map[string]any) string {
	e.t.Helper()
	body := map[string]any{"plan_id": plan, "name": name, "pricing_model": "PerUnit", "unit_amount_nanos": price}
	for k, v := range fields {
		body[k] = v
	}
	var s idOnly
	e.must(201, &s, "POST", "/admin/v1/catalog/skus", body)
	return s.ID
}

// subStart is when the subscriptions of subscribe start: before every
// period the tests bill.
const subStart = "2025-01-01T00:00:00Z"

func (e *env) subscribe(customer, plan string) string {
	e.t.Helper()
	var s idOnly
	e.must(201, &s, "POST", "/v1/subscriptions", map[string]any{"customer_id": customer, "plan_id": plan, "start_date": subStart})
	return s.ID
}

// fixture is a customer subscribed to a plan with one Count meter
// ("calls", event type api.request) and one Sum meter ("tokens", event
// type llm.completion, property input_tokens).
type fixture struct {
	customer, plan, sub, calls, tokens string
}

func (e *env) fixture() fixture {
	e.t.Helper()
	var f fixture
	f.customer = e.customer("Acme")
	f.plan = e.plan("Pro")
	f.calls = e.sku(f.plan, "API calls", "1000", map[string]any{"meter_event_type": "api.request"})
	f.tokens = e.sku(f.plan, "Input tokens", "20", map[string]any{"meter_event_type": "llm.completion", "meter_property": "input_tokens"})
	f.sub = e.subscribe(f.customer, f.plan)
	return f
}

// ev builds an event body.
func ev(id, typ, customer string, ts time.Time, props map[string]any) map[string]any {
	m := map[string]any{"id": id, "event_type": typ, "customer_id": customer, "timestamp": ts.Format(time.RFC3339Nano)}
	if props != nil {
		m["properties"] = props
	}
	return m
}

// send posts an event with the admin token.
func (e *env) send(body any, hdr ...string) reply {
	e.t.Helper()
	return e.admin("POST", "/v1/events", body, hdr...)
}

// usage returns the quantities by SKU id over [from, to) (zero times: the
// default window).
func (e *env) usage(sub string, from, to time.Time) map[string]string {
	e.t.Helper()
	path := "/v1/subscriptions/" + sub + "/usage"
	sep := "?"
	if !from.IsZero() {
		path += sep + "from=" + from.Format(time.RFC3339)
		sep = "&"
	}
	if !to.IsZero() {
		path += sep + "to=" + to.Format(time.RFC3339)
	}
	var u struct {
		Meters []struct {
			SKUID    string `json:"sku_id"`
			Quantity string `json:"quantity"`
		} `json:"meters"`
	}
	e.must(200, &u, "GET", path, nil)
	out := map[string]string{}
	for _, m := range u.Meters {
		out[m.SKUID] = m.Quantity
	}
	return out
}

// pollUntil retries cond until it holds or the deadline passes.
func pollUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
