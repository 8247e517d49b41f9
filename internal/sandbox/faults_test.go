package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/sandbox"
)

func TestFailRate(t *testing.T) {
	const n, rate = 400, 0.25
	e := start(t, sandbox.Config{FailRate: rate, Seed: 7})
	fails := e.faulted(n, rate, 500, "internal_error", nil)
	if got := e.sb.Server.Stats().ServerErrors; got != int64(fails) {
		t.Errorf("Stats().ServerErrors = %d, want %d", got, fails)
	}
	if r := e.do("GET", "/health", "", nil); r.status != 200 {
		t.Errorf("GET /health = %s, want 200: faults apply to authenticated routes only", r)
	}
}

func TestThrottleRate(t *testing.T) {
	const n, rate = 400, 0.2
	e := start(t, sandbox.Config{ThrottleRate: rate, Seed: 11})
	throttled := e.faulted(n, rate, 429, "rate_limited", func(r reply) {
		if ra := r.header.Get("Retry-After"); ra != "0" {
			t.Fatalf("throttled answer Retry-After = %q, want 0", ra)
		}
	})
	if got := e.sb.Server.Stats().RateLimited; got != int64(throttled) {
		t.Errorf("Stats().RateLimited = %d, want %d", got, throttled)
	}
}

func TestFailRateHitsEventsBeforeStoring(t *testing.T) {
	e := start(t, sandbox.Config{Seed: 3, FailRate: 0.5})
	var f fixture
	// Catalog calls can fail too: retry each until it succeeds.
	retry := func(do func() reply) reply {
		for {
			if r := do(); r.status != 500 {
				return r
			}
		}
	}
	var id idOnly
	_ = json.Unmarshal(retry(func() reply {
		return e.admin("POST", "/admin/v1/customers", map[string]any{"display_name": "A"})
	}).body, &id)
	f.customer = id.ID
	_ = json.Unmarshal(retry(func() reply { return e.admin("POST", "/admin/v1/catalog/plans", map[string]any{"name": "P"}) }).body, &id)
	f.plan = id.ID
	_ = json.Unmarshal(retry(func() reply {
		return e.admin("POST", "/admin/v1/catalog/skus", map[string]any{"plan_id": f.plan, "name": "c", "unit_amount_nanos": "1", "meter_event_type": "api.request"})
	}).body, &id)
	f.calls = id.ID
	_ = json.Unmarshal(retry(func() reply {
		return e.admin("POST", "/v1/subscriptions", map[string]any{"customer_id": f.customer, "plan_id": f.plan})
	}).body, &id)
	f.sub = id.ID

	accepted := 0
	for i := range 100 {
		if r := e.send(ev("f-"+strconv.Itoa(i), "api.request", f.customer, t0, nil)); r.status == 202 {
			accepted++
		}
	}
	var u map[string]string
	for { // the usage query may fail as well
		r := e.admin("GET", "/v1/subscriptions/"+f.sub+"/usage", nil)
		if r.status == 200 {
			var body struct {
				Meters []struct {
					SKUID    string `json:"sku_id"`
					Quantity string `json:"quantity"`
				} `json:"meters"`
			}
			_ = json.Unmarshal(r.body, &body)
			u = map[string]string{body.Meters[0].SKUID: body.Meters[0].Quantity}
			break
		}
	}
	if accepted == 0 || accepted == 100 {
		t.Fatalf("%d of 100 events accepted at fail rate 0.5; want some of each", accepted)
	}
	if got, want := u[f.calls], strconv.Itoa(accepted); got != want {
		t.Errorf("usage calls = %s, want %s: an event answered 500 must not be stored", got, want)
	}
}

func TestResetLeavesEventStored(t *testing.T) {
	e := start(t, sandbox.Config{Seed: 11, ResetRate: 0.5})
	f := e.fixture()
	// A fresh connection per request: the transport must not retry on a
	// reused connection behind our back.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	post := func(body []byte, key string) (reply, error) {
		req, _ := http.NewRequest("POST", e.sb.URL+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.sb.AdminToken)
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return reply{}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
	}
	sent, resets := 0, 0
	for i := 0; resets == 0; i++ {
		if i == 50 {
			t.Fatal("no reset in 50 events at reset rate 0.5")
		}
		id := "r-" + strconv.Itoa(i)
		body, _ := json.Marshal(ev(id, "api.request", f.customer, t0, nil))
		sent++
		if _, err := post(body, id); err == nil {
			continue
		}
		resets++
		// The same request again, until one gets through: the stored
		// response is replayed, so the event was stored and recorded.
		for try := 0; ; try++ {
			if try == 50 {
				t.Fatal("50 resets in a row at reset rate 0.5")
			}
			r, err := post(body, id)
			if err != nil {
				continue
			}
			if r.status != 202 || r.header.Get("X-Idempotency-Replayed") != "true" {
				t.Errorf("retry after reset = %s (replayed %q), want the recorded 202 replayed", r, r.header.Get("X-Idempotency-Replayed"))
			}
			break
		}
	}
	if got, want := e.usage(f.sub, time.Time{}, time.Time{})[f.calls], strconv.Itoa(sent); got != want {
		t.Errorf("usage calls = %s, want %s (every event stored, reset or not)", got, want)
	}
	if st := e.sb.Server.Stats(); st.Resets < 1 || st.EventsStored != int64(sent) {
		t.Errorf("Stats() = %+v, want >= 1 reset and %d stored", st, sent)
	}
}

func TestDropRate(t *testing.T) {
	const n = 200
	e := start(t, sandbox.Config{Seed: 5, DropRate: 0.3})
	f := e.fixture()
	bodies := make([]map[string]any, n)
	for i := range n {
		bodies[i] = ev("d-"+strconv.Itoa(i), "api.request", f.customer, t0, nil)
		if r := e.send(bodies[i], "Idempotency-Key", "d-"+strconv.Itoa(i)); r.status != 202 || r.header.Get("X-Idempotency-Replayed") != "" {
			t.Fatalf("POST d-%d = %s, want a fresh 202 (dropped events are acknowledged too)", i, r)
		}
	}
	dropped := e.sb.Server.Faults().Dropped[f.sub]
	if d := len(dropped); d < n/5 || d > n*2/5 {
		t.Fatalf("%d of %d events dropped at rate 0.3, want about %d", d, n, n*3/10)
	}
	if got := e.sb.Server.Stats().Drops; got != int64(len(dropped)) {
		t.Errorf("Stats().Drops = %d, want %d", got, len(dropped))
	}
	if got, want := e.usage(f.sub, time.Time{}, time.Time{})[f.calls], strconv.Itoa(n-len(dropped)); got != want {
		t.Errorf("usage calls = %s, want %s (dropped events do not count)", got, want)
	}
	// A dropped event left no trace: the same request (same key) is new.
	for _, id := range dropped {
		i, _ := strconv.Atoi(id[2:])
		if r := e.send(bodies[i], "Idempotency-Key", id); r.status != 202 || r.header.Get("X-Idempotency-Replayed") != "" {
			t.Errorf("re-send of dropped %s = %s, want a fresh 202", id, r)
		}
		if r := e.send(bodies[i]); r.status != 200 {
			t.Errorf("third send of %s = %s, want 200 duplicate", id, r)
		}
	}
	if got, want := e.usage(f.sub, time.Time{}, time.Time{})[f.calls], strconv.Itoa(n); got != want {
		t.Errorf("usage calls after re-sending the dropped = %s, want %s", got, want)
	}
}

func TestDoubleRate(t *testing.T) {
	const n = 200
	e := start(t, sandbox.Config{Seed: 9, DoubleRate: 0.3})
	f := e.fixture()
	for i := range n {
		body := ev("x-"+strconv.Itoa(i), "llm.completion", f.customer, t0, map[string]any{"input_tokens": 10})
		if r := e.send(body); r.status != 202 {
			t.Fatalf("POST = %s, want 202", r)
		}
	}
	doubled := e.sb.Server.Faults().Doubled[f.sub]
	d := len(doubled)
	if d < n/5 || d > n*2/5 {
		t.Fatalf("%d of %d events doubled at rate 0.3, want about %d", d, n, n*3/10)
	}
	want := strconv.Itoa((n + d) * 10)
	if got := e.usage(f.sub, time.Time{}, time.Time{})[f.tokens]; got != want {
		t.Errorf("usage tokens = %s, want %s (%d events, %d doubled, 10 each)", got, want, n, d)
	}
	for _, id := range doubled {
		if r := e.send(ev(id, "llm.completion", f.customer, t0, map[string]any{"input_tokens": 10})); r.status != 200 {
			t.Errorf("re-send of doubled %s = %s, want 200 duplicate", id, r)
		}
	}
	if got := e.usage(f.sub, time.Time{}, time.Time{})[f.tokens]; got != want {
		t.Errorf("usage tokens after re-sends = %s, want %s unchanged", got, want)
	}
	if st := e.sb.Server.Stats(); st.Doubles != int64(d) || st.EventsStored != n {
		t.Errorf("Stats() = %+v, want %d doubles and %d stored", st, d, n)
	}
}

func TestRateLimit(t *testing.T) {
	e := start(t, sandbox.Config{RateLimit: 2, RateBurst: 2})
	steps := []struct {
		advance           time.Duration
		status            int
		remaining, margin string
	}{
		{0, 200, "1", ""},
		{0, 200, "0", ""},
		{0, 429, "0", "1"},
		{500 * time.Millisecond, 200, "0", ""}, // one token back after 0.5 s at 2/s
		{0, 429, "0", "1"},
	}
	for i, st := range steps {
		e.clock.Add(st.advance)
		r := e.admin("GET", "/v1/subscriptions", nil)
		h := r.header
		if r.status != st.status || h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != st.remaining || h.Get("Retry-After") != st.margin {
			t.Errorf("request %d = %s, limit %q remaining %q retry-after %q; want %d, 2, %s, %q",
				i, r, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("Retry-After"), st.status, st.remaining, st.margin)
		}
		if code, _, _ := r.err(); st.status == 429 && code != "rate_limited" {
			t.Errorf("request %d error code = %q, want rate_limited", i, code)
		}
	}
	if r := e.do("GET", "/health", "", nil); r.status != 200 {
		t.Errorf("GET /health while limited = %s, want 200 (not rate limited)", r)
	}
	if got := e.sb.Server.Stats().RateLimited; got != 2 {
		t.Errorf("Stats().RateLimited = %d, want 2", got)
	}

	slow := start(t, sandbox.Config{RateLimit: 0.1}) // one per 10 s, burst 1
	slow.admin("GET", "/v1/subscriptions", nil)
	if r := slow.admin("GET", "/v1/subscriptions", nil); r.status != 429 || r.header.Get("Retry-After") != "10" {
		t.Errorf("second request at 0.1/s = %s, Retry-After %q; want 429, 10", r, r.header.Get("Retry-After"))
	}
}

func TestLatency(t *testing.T) {
	e := start(t, sandbox.Config{Latency: sandbox.Latency{Min: 40 * time.Millisecond, Max: 60 * time.Millisecond}})
	begin := time.Now()
	e.admin("GET", "/v1/subscriptions", nil)
	if took := time.Since(begin); took < 40*time.Millisecond {
		t.Errorf("request with 40ms..60ms latency took %v, want >= 40ms", took)
	}
	begin = time.Now()
	e.do("GET", "/health", "", nil)
	if took := time.Since(begin); took >= 40*time.Millisecond {
		t.Logf("GET /health took %v; latency applies to authenticated routes only (slow machine?)", took)
	}
}

// TestFaultsDeterministic checks that the seed alone decides which events
// are dropped and doubled, whatever the concurrency, and that the fail
// decisions repeat for the same request sequence.
func TestFaultsDeterministic(t *testing.T) {
	const n = 300
	run := func(seed int64, workers int) sandbox.FaultLog {
		e := start(t, sandbox.Config{Seed: seed, DropRate: 0.2, DoubleRate: 0.2})
		f := e.fixture()
		ids := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range ids {
					if r := e.send(ev(fmt.Sprint("det-", i), "api.request", f.customer, t0, nil)); r.status != 202 {
						t.Errorf("POST = %s, want 202", r)
					}
				}
			})
		}
		for i := range n {
			ids <- i
		}
		close(ids)
		wg.Wait()
		fl := e.sb.Server.Faults()
		// Subscription ids differ per server; compare the event ids.
		return sandbox.FaultLog{Dropped: map[string][]string{"": fl.Dropped[f.sub]}, Doubled: map[string][]string{"": fl.Doubled[f.sub]}}
	}
	seq, par := run(42, 1), run(42, 8)
	if diff := cmp.Diff(seq, par); diff != "" {
		t.Errorf("faults with seed 42, sequential vs 8 workers (-seq +par):\n%s", diff)
	}
	if len(seq.Dropped[""]) == 0 || len(seq.Doubled[""]) == 0 {
		t.Errorf("faults = %+v, want some drops and doubles at rate 0.2", seq)
	}
	if other := run(43, 1); cmp.Equal(seq, other) {
		t.Errorf("seeds 42 and 43 corrupted the same events; want different ones")
	}

	statuses := func() []int {
		e := start(t, sandbox.Config{Seed: 42, FailRate: 0.3})
		var out []int
		for range 50 {
			out = append(out, e.admin("GET", "/v1/subscriptions", nil).status)
		}
		return out
	}
	if a, b := statuses(), statuses(); !cmp.Equal(a, b) {
		t.Errorf("fail decisions for the same request sequence differ:\n%v\n%v", a, b)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	e := start(t, sandbox.Config{Seed: 1, DropRate: 0.5, DoubleRate: 0.5})
	f := e.fixture()
	for i := range 20 {
		e.send(ev(fmt.Sprint("fe-", i), "api.request", f.customer, t0, nil))
	}
	var got sandbox.FaultLog
	e.must(200, &got, "GET", "/sandbox/v1/faults", nil)
	if diff := cmp.Diff(e.sb.Server.Faults(), got); diff != "" {
		t.Errorf("GET /sandbox/v1/faults mismatch with Faults() (-want +got):\n%s", diff)
	}
	var empty map[string]any
	start(t).must(200, &empty, "GET", "/sandbox/v1/faults", nil)
	if diff := cmp.Diff(map[string]any{"dropped": map[string]any{}, "doubled": map[string]any{}}, empty); diff != "" {
		t.Errorf("faults of a fresh sandbox (-want +got):\n%s", diff)
	}
}

// faulted sends n GET /v1/subscriptions and counts the answers status with
// code, checking each with check when set; any other answer but 200 fails
// the test, and so does a count off rate by more than 0.07.
func (e *env) faulted(n int, rate float64, status int, code string, check func(reply)) int {
	e.t.Helper()
	hits := 0
	for range n {
		r := e.admin("GET", "/v1/subscriptions", nil)
		switch c, _, _ := r.err(); {
		case r.status == status && c == code:
			hits++
			if check != nil {
				check(r)
			}
		case r.status != 200:
			e.t.Fatalf("GET /v1/subscriptions = %s, want 200 or %d", r, status)
		}
	}
	if share := float64(hits) / float64(n); share < rate-0.07 || share > rate+0.07 {
		e.t.Errorf("share of %ds = %.3f over %d requests, want %.2f ± 0.07", status, share, n, rate)
	}
	return hits
}
