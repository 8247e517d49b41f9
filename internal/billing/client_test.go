package billing_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// fixture is a sandbox with one customer on a plan metering api.request
// events by count.
type fixture struct {
	sb     *sandboxtest.Sandbox
	admin  *billing.Client
	custID string
	subID  string
}

const (
	custID = "01944b1f-0000-7000-8000-000000000001"
	planID = "01944b1f-0000-7000-8000-0000000000b1"
	subID  = "01944b1f-0000-7000-8000-000000000003"
)

// setup starts a sandbox seeded (not through the API, so fault knobs
// cannot disturb it) with one customer on a plan counting api.request.
func setup(t *testing.T, cfg sandbox.Config) *fixture {
	t.Helper()
	cfg.Data = &sandbox.SeedData{
		Customers: []billing.Customer{{ID: custID, DisplayName: "Acme", Currency: "USD"}},
		Plans:     []billing.Plan{{ID: planID, Name: "API", BillingCadence: "Monthly"}},
		SKUs: []billing.SKU{{ID: "01944b1f-0000-7000-8000-0000000000c1", PlanID: planID, Name: "Requests", PricingModel: "PerUnit",
			UnitAmountNanos: billing.MoneyFromInt64(1_000_000), MeterEventType: "api.request", Currency: "USD"}},
		Subscriptions: []billing.Subscription{{ID: subID, CustomerID: custID, PlanID: planID, Currency: "USD", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	sb := sandboxtest.Start(t, cfg)
	return &fixture{sb: sb, custID: custID, subID: subID,
		admin: newClient(t, billing.Config{BaseURL: sb.URL, Token: sb.AdminToken, MaxRetries: 20})}
}

func newClient(t *testing.T, cfg billing.Config) *billing.Client {
	t.Helper()
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, 20*time.Millisecond
	}
	c, err := billing.New(cfg)
	if err != nil {
		t.Fatalf("billing.New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

var eventTime = time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)

func (f *fixture) event(i int) billing.Event {
	return billing.Event{ID: fmt.Sprintf("evt-%06d", i), EventType: "api.request", CustomerID: f.custID,
		SubscriptionID: f.subID, Timestamp: eventTime, Properties: []byte(`{"endpoint":"/v1/chat"}`)}
}

// count is the api.request usage the sandbox reports for October 2026.
func (f *fixture) count(t *testing.T) string {
	t.Helper()
	u, err := f.admin.Usage(context.Background(), f.subID, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if len(u.Meters) != 1 {
		t.Fatalf("Usage meters = %d, want 1", len(u.Meters))
	}
	return u.Meters[0].Quantity.String()
}

// attempts records every attempt the client reports.
type attempts struct {
	mu   sync.Mutex
	list []billing.RequestInfo
}

func (a *attempts) observe(i billing.RequestInfo) {
	a.mu.Lock()
	a.list = append(a.list, i)
	a.mu.Unlock()
}

func (a *attempts) count(pred func(billing.RequestInfo) bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, i := range a.list {
		if pred(i) {
			n++
		}
	}
	return n
}

// keyRecorder passes requests through to the real transport and remembers
// the Idempotency-Key of every attempt per event path and body.
type keyRecorder struct {
	mu   sync.Mutex
	keys map[string][]string // first attempt's key → keys of all attempts
	next http.RoundTripper
}

func (k *keyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.Header.Get("Idempotency-Key")
	k.mu.Lock()
	k.keys[key] = append(k.keys[key], key)
	k.mu.Unlock()
	return k.next.RoundTrip(r)
}

func TestSendEventRetriesFaultsCountedOnce(t *testing.T) {
	f := setup(t, sandbox.Config{Seed: 7, FailRate: 0.2, ResetRate: 0.2})
	var obs attempts
	rec := &keyRecorder{keys: map[string][]string{}, next: http.DefaultTransport.(*http.Transport).Clone()}
	c := newClient(t, billing.Config{BaseURL: f.sb.URL, Token: f.sb.AdminToken, MaxRetries: 20, Observer: obs.observe, Transport: rec})
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.SendEvent(context.Background(), f.event(i))
			if err != nil {
				errs <- err
				return
			}
			if !res.Accepted && !res.Duplicate {
				errs <- fmt.Errorf("event %d: accepted=false without duplicate", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.count(t); got != fmt.Sprint(n) {
		t.Errorf("usage after %d events under 500s and resets = %s, want %d", n, got, n)
	}
	if got := obs.count(func(i billing.RequestInfo) bool { return i.Status == 500 }); got == 0 {
		t.Errorf("observer saw no 500s; the fault knob did not bite")
	}
	resets := obs.count(func(i billing.RequestInfo) bool { return i.Status == 0 && i.Err != nil })
	if resets == 0 {
		t.Errorf("observer saw no connection resets; the fault knob did not bite")
	}
	// A reset happens after the event was stored: its retry must be
	// answered from the idempotency cache, proving the key was reused.
	if got := obs.count(func(i billing.RequestInfo) bool { return i.Replayed }); got == 0 {
		t.Errorf("no retry was replayed from the idempotency cache after %d resets", resets)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for key, ks := range rec.keys {
		if !strings.HasPrefix(key, "evt-") {
			t.Errorf("idempotency key %q is not the event id", key)
		}
		if len(ks) > 1 {
			for _, k := range ks {
				if k != key {
					t.Errorf("attempts of %s carried key %q", key, k)
				}
			}
		}
	}
	if len(rec.keys) != n {
		t.Errorf("distinct idempotency keys = %d, want one per event (%d)", len(rec.keys), n)
	}
}

func TestSendEventAgain(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	f := setup(t, sandbox.Config{Now: func() time.Time { return *clock.Load() }})
	ctx := context.Background()
	first, err := f.admin.SendEvent(ctx, f.event(1))
	if err != nil || !first.Accepted || first.Replayed || first.Attempts != 1 {
		t.Fatalf("first send = %+v, %v; want accepted in one attempt, not replayed", first, err)
	}
	// Within 24 h the same id (and so the same key) is answered from the
	// idempotency cache.
	again, err := f.admin.SendEvent(ctx, f.event(1))
	if err != nil || !again.Replayed || !again.Accepted {
		t.Fatalf("send within 24h = %+v, %v; want the first answer replayed", again, err)
	}
	// After 24 h the key is forgotten but the id is not: a duplicate, which
	// is a successful outcome, not an error.
	later := now.Add(25 * time.Hour)
	clock.Store(&later)
	dup, err := f.admin.SendEvent(ctx, f.event(1))
	if err != nil {
		t.Fatalf("send after 25h: %v, want no error", err)
	}
	if dup.Accepted || !dup.Duplicate || dup.Replayed || dup.EventID != "evt-000001" {
		t.Errorf("send after 25h = %+v, want accepted=false duplicate=true event_id=evt-000001", dup)
	}
	if got := f.count(t); got != "1" {
		t.Errorf("usage = %s, want 1", got)
	}
}

func TestCreateRetriedUnder500sCreatesOnce(t *testing.T) {
	f := setup(t, sandbox.Config{Seed: 3, FailRate: 0.4})
	ctx := context.Background()
	c := f.admin
	cust, err := c.CreateCustomer(ctx, billing.Customer{DisplayName: "Globex", Email: "ap@globex.test", Currency: "USD", AccountType: "Business"})
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	prod, err := c.CreateProduct(ctx, billing.Product{Name: "LLM"})
	if err != nil {
		t.Fatalf("CreateProduct: %v", err)
	}
	plan, err := c.CreatePlan(ctx, billing.Plan{ProductID: prod.ID, Name: "Tokens", BillingCadence: "Monthly"})
	if err != nil {
		t.Fatalf("CreatePlan: %v", err)
	}
	sku, err := c.CreateSKU(ctx, billing.SKU{PlanID: plan.ID, Name: "Input tokens", PricingModel: "PerUnit",
		UnitAmountNanos: billing.MustMoney("2000000"), MeterEventType: "llm.completion", MeterProperty: "input_tokens",
		Aggregation: billing.AggSum, Currency: "USD"})
	if err != nil {
		t.Fatalf("CreateSKU: %v", err)
	}
	if sku.UnitAmountNanos.String() != "2000000" || sku.Aggregation != billing.AggSum {
		t.Errorf("CreateSKU = %+v, want unit 2000000 and Sum", sku)
	}
	for range 5 {
		if _, err := c.CreateSubscription(ctx, billing.Subscription{CustomerID: cust.ID, PlanID: plan.ID, Currency: "USD"}); err != nil {
			t.Fatalf("CreateSubscription: %v", err)
		}
	}
	var n int
	for after := ""; ; {
		page, err := c.ListSubscriptions(ctx, 2, after)
		if err != nil {
			t.Fatalf("ListSubscriptions: %v", err)
		}
		for _, s := range page.Data {
			if s.CustomerID == cust.ID {
				n++
			}
			after = s.ID
		}
		if !page.HasMore {
			break
		}
	}
	if n != 5 {
		t.Errorf("subscriptions created by 5 calls under 40%% 500s = %d, want 5", n)
	}
	if f.sb.Server.Stats().ServerErrors == 0 {
		t.Errorf("no 500 was injected; the test proved nothing")
	}
}

func TestClientErrorIsNotRetried(t *testing.T) {
	f := setup(t, sandbox.Config{})
	var obs attempts
	c := newClient(t, billing.Config{BaseURL: f.sb.URL, Token: f.sb.AdminToken, Observer: obs.observe})
	ev := f.event(1)
	ev.CustomerID = "01944b1f-0000-7000-8000-00000000dead"
	_, err := c.SendEvent(context.Background(), ev)
	var apiErr *billing.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("SendEvent(unknown customer) = %v, want *APIError", err)
	}
	if apiErr.Status != 422 || apiErr.Field != "customer_id" || apiErr.Code == "" || apiErr.RequestID == "" {
		t.Errorf("APIError = %+v, want 422 naming customer_id with a code and request id", apiErr)
	}
	if got := obs.count(func(billing.RequestInfo) bool { return true }); got != 1 {
		t.Errorf("attempts for a 422 = %d, want 1", got)
	}
}

func TestRateLimitedRetryAfterIsWaitedOut(t *testing.T) {
	// 2 requests/s with a burst of 1: concurrent sends meet 429s whose
	// Retry-After the client must wait out, all callers together.
	f := setup(t, sandbox.Config{RateLimit: 2, RateBurst: 1})
	var obs attempts
	c := newClient(t, billing.Config{BaseURL: f.sb.URL, Token: f.sb.AdminToken, MaxRetries: 10, Observer: obs.observe})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.SendEvent(context.Background(), f.event(i)); err != nil {
				t.Errorf("SendEvent(%d): %v", i, err)
			}
		}()
	}
	wg.Wait()
	if got := f.count(t); got != "4" {
		t.Errorf("usage = %s, want 4", got)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	n429 := 0
	for _, b := range obs.list {
		if b.Status != http.StatusTooManyRequests {
			continue
		}
		n429++
		if b.RetryAfter <= 0 {
			t.Errorf("429 without a Retry-After the client understood")
		}
		// No attempt may start between this answer and the end of its wait.
		answered := b.Start.Add(b.Latency)
		for _, a := range obs.list {
			if a.Start.After(answered) && a.Start.Before(answered.Add(b.RetryAfter-5*time.Millisecond)) {
				t.Errorf("attempt started %v after a 429 asking for %v", a.Start.Sub(answered), b.RetryAfter)
			}
		}
	}
	if n429 == 0 {
		t.Fatalf("no 429 seen; the rate limit did not bite")
	}
}

func TestCancelStopsRetryWait(t *testing.T) {
	// At 0.01 requests/s the sandbox's Retry-After is 100 s: only a
	// cancellation can end the wait early.
	f := setup(t, sandbox.Config{RateLimit: 0.01, RateBurst: 1})
	saw429 := make(chan struct{}, 1)
	c := newClient(t, billing.Config{BaseURL: f.sb.URL, Token: f.sb.AdminToken, Observer: func(i billing.RequestInfo) {
		if i.Status == http.StatusTooManyRequests {
			select {
			case saw429 <- struct{}{}:
			default:
			}
		}
	}})
	if _, err := c.SendEvent(context.Background(), f.event(1)); err != nil {
		t.Fatalf("first SendEvent (the burst): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// The first send used the burst; this one is told to come back later.
		_, err := c.SendEvent(ctx, f.event(2))
		done <- err
	}()
	select {
	case <-saw429:
	case err := <-done:
		t.Fatalf("SendEvent returned %v before any 429", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no 429 within 30s")
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SendEvent after cancel = %v, want context.Canceled", err)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("SendEvent returned %v after cancel, want at once", waited)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SendEvent still waiting 30s after cancel")
	}
}

func TestPlainErrorBody(t *testing.T) {
	t.Parallel()
	// A proxy in front of the API answering with HTML, not the envelope.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	}))
	defer srv.Close()
	var calls atomic.Int32
	c := newClient(t, billing.Config{BaseURL: srv.URL, Token: "bsk_test_plain", MaxRetries: 2,
		Observer: func(billing.RequestInfo) { calls.Add(1) }})
	_, err := c.Usage(context.Background(), "sub_1", time.Time{}, time.Time{})
	var apiErr *billing.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("Usage via a failing proxy = %v, want *APIError", err)
	}
	if apiErr.Status != 502 || !strings.Contains(apiErr.Message, "502 Bad Gateway") {
		t.Errorf("APIError = %+v, want 502 with the body's text", apiErr)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("attempts on a 502 GET with MaxRetries 2 = %d, want 3", got)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, sandbox.Config{})
	const token = "bsk_test_wrong_but_secret_0123456789"
	ctx := context.Background()
	c := newClient(t, billing.Config{BaseURL: f.sb.URL, Token: token})
	_, err := c.SendEvent(ctx, f.event(1))
	var apiErr *billing.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("SendEvent with a wrong token = %v, want 401", err)
	}
	// Nothing listens on a closed listener's port: a transport error.
	ln := httptest.NewServer(http.NotFoundHandler())
	addr := ln.URL
	ln.Close()
	dead := newClient(t, billing.Config{BaseURL: addr, Token: token, MaxRetries: 1})
	_, terr := dead.Health(ctx)
	if terr == nil {
		t.Fatal("Health on a closed port: no error")
	}
	for _, e := range []error{err, terr} {
		if strings.Contains(e.Error(), token) || strings.Contains(fmt.Sprintf("%+v", e), token) {
			t.Errorf("error %q contains the token", e)
		}
	}
}

func TestSharedLimiterPacesAllCallers(t *testing.T) {
	f := setup(t, sandbox.Config{})
	var obs attempts
	lim := newLimiter(50, 1)
	c := newClient(t, billing.Config{BaseURL: f.sb.URL, Token: f.sb.AdminToken, Limiter: lim, Observer: obs.observe})
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 11 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.SendEvent(context.Background(), f.event(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// 11 requests at 50/s with a burst of 1 need at least 200 ms.
	if took := time.Since(start); took < 190*time.Millisecond {
		t.Errorf("11 requests through a 50/s limiter took %v, want ≥ 200ms", took)
	}
}

func newLimiter(r float64, b int) *rate.Limiter { return rate.NewLimiter(rate.Limit(r), b) }

func TestBillCreatedOnce(t *testing.T) {
	f := setup(t, sandbox.Config{})
	ctx := context.Background()
	if _, err := f.admin.SendEvent(ctx, f.event(1)); err != nil {
		t.Fatal(err)
	}
	period := &billing.Period{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	var ids []string
	for i, wantCreated := range []bool{true, false, false} {
		inv, created, err := f.admin.Bill(ctx, f.subID, period)
		if err != nil {
			t.Fatalf("Bill #%d: %v", i+1, err)
		}
		if created != wantCreated {
			t.Errorf("Bill #%d created = %v, want %v", i+1, created, wantCreated)
		}
		ids = append(ids, inv.ID)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("invoice ids = %v, want one invoice", ids)
	}
}
