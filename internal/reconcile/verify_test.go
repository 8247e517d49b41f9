package reconcile

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source"
)

// Every class is produced on purpose, each by the fault that causes it.
func TestVerifyClasses(t *testing.T) {
	t.Parallel()
	src := []row{
		// a: all of it reaches the API, with numeric strings, decimals and
		// escaped strings the API reads as the source does.
		event("a1", "api.request", "cus_a", "sub_a", at(2, 1), `{"bytes":100}`),
		event("a2", "api.request", "cus_a", "sub_a", at(2, 2), `{"bytes":"250"}`),
		event("a2", "api.request", "cus_a", "sub_a", at(2, 2), `{"bytes":"250"}`), // a duplicate row: counts once
		event("a3", "llm.completion", "cus_a", "sub_a", at(3, 1), `{"tokens":10,"model":"gpt"}`),
		event("a4", "llm.completion", "cus_a", "sub_a", at(3, 2), `{"tokens":"5.5","model":"\u0067pt","tokens":7}`),
		event("a5", "storage", "cus_a", "sub_a", at(4, 1), `{"bytes":7}`),
		event("a6", "storage", "cus_a", "sub_a", at(4, 2), `{"bytes":9.5}`),
		event("a7", "storage", "cus_a", "sub_a", at(4, 3), `{"other":1}`),
		// b: one event is lost on the way.
		event("b1", "api.request", "cus_b", "sub_b", at(5, 1), `{"bytes":10}`),
		event("b2", "api.request", "cus_b", "sub_b", at(5, 2), `{"bytes":10}`),
		event("b3", "api.request", "cus_b", "sub_b", at(5, 3), `{"bytes":10}`),
		// c: the API gets an event the source does not have.
		event("c1", "llm.completion", "cus_c", "sub_c", at(6, 1), `{"tokens":10,"model":"m1"}`),
		// d: a subscription the API does not know.
		event("d1", "api.request", "cus_d", "sub_d", at(7, 1), `{"bytes":1}`),
		// f: its usage call fails.
		event("f1", "api.request", "cus_f", "sub_f", at(8, 1), `{"bytes":1}`),
		// g: no subscription_id: its customer's first subscription, sub_g.
		event("g1", "api.request", "cus_g", "", at(9, 1), `{"bytes":3}`),
		// outside the window: not counted on either side.
		event("z1", "api.request", "cus_a", "sub_a", at(1, 0).Add(-time.Hour), `{"bytes":1000}`),
	}
	toAPI := []row{}
	for _, r := range src {
		if r.ID != "b3" && r.CustomerID != "cus_d" {
			toAPI = append(toAPI, r)
		}
	}
	toAPI = append(toAPI,
		event("c-extra", "llm.completion", "cus_c", "sub_c", at(6, 2), `{"tokens":5,"model":"m2"}`),
		event("e1", "storage", "cus_e", "sub_e", at(10, 1), `{"bytes":5}`),
	)
	sb, c := startSandbox(t, sandbox.Config{Data: catalog("a", "b", "c", "e", "f", "g", "g_2")})
	send(t, c, toAPI)

	vc, err := billing.New(billing.Config{BaseURL: sandboxtest.FailingProxy(t, sb.URL, "/v1/subscriptions/sub_f/usage"),
		Token: sb.AdminToken, MaxRetries: 1, RetryWaitMin: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), Config{Client: vc, Source: writeParquet(t, src), Window: october})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}

	wantCounts := map[Class]int{Match: 25, Under: 2, Over: 2, Missing: 2, Unexpected: 1, Error: 5}
	if diff := cmp.Diff(wantCounts, res.Counts); diff != "" {
		t.Errorf("Verify counts (-want +got):\n%s", diff)
	}
	if res.Pairs != 37 || res.Subscriptions != 8 {
		t.Errorf("Verify compared %d pairs of %d subscriptions, want 37 of 8", res.Pairs, res.Subscriptions)
	}
	wantRows := Rows{Declared: 16, Read: 16, Events: 15, OutsideWindow: 1, Duplicates: 1, Counted: 14, DedupBytes: res.Rows.DedupBytes}
	if diff := cmp.Diff(wantRows, res.Rows); diff != "" {
		t.Errorf("Verify rows (-want +got):\n%s", diff)
	}
	got := pairsBy(res)
	for _, w := range []struct {
		key                string
		class              Class
		expected, observed string
		detail             string
	}{
		{"sub_b/Requests", Under, "3", "2", ""},
		{"sub_b/Bytes", Under, "30", "20", ""},
		{"sub_c/Tokens", Over, "10", "15", ""},
		{"sub_c/Models", Over, "1", "2", ""},
		{"sub_d/Requests", Missing, "1", "0", "subscription not listed by the API"},
		{"sub_d/Bytes", Missing, "1", "0", "subscription not listed by the API"},
		{"sub_e/Peak", Unexpected, "0", "5", ""},
		{"sub_f/Tokens", Error, "0", "0", "500 internal_error"},
	} {
		p, ok := got[w.key]
		if !ok {
			t.Errorf("Verify found no discrepancy for %s, want %s", w.key, w.class)
			continue
		}
		if p.Class != w.class || p.Expected.String() != w.expected || p.Observed.String() != w.observed || !strings.Contains(p.Detail, w.detail) {
			t.Errorf("Verify %s = %s expected %s observed %s (%q), want %s expected %s observed %s (%q)",
				w.key, p.Class, p.Expected, p.Observed, p.Detail, w.class, w.expected, w.observed, w.detail)
		}
	}
	if p := got["sub_b/Requests"]; p.Delta.String() != "-1" || !cmp.Equal(p.SampleEventIDs, []string{"b1", "b2", "b3"}) {
		t.Errorf("sub_b/Requests delta %s samples %q, want -1 and [b1 b2 b3]", p.Delta, p.SampleEventIDs)
	}
	if res.Mismatches() != 7 || res.Errors() != 5 {
		t.Errorf("Mismatches() = %d, Errors() = %d; want 7, 5", res.Mismatches(), res.Errors())
	}
}

// With a meters file, only its meters are compared, and one the API does
// not have is missing.
func TestVerifyMetersFile(t *testing.T) {
	t.Parallel()
	src := []row{
		event("a1", "api.request", "cus_a", "sub_a", at(2, 1), `{"bytes":100,"status":200}`),
		event("a2", "api.request", "cus_a", "sub_a", at(2, 2), `{"bytes":50,"status":500}`),
	}
	_, c := startSandbox(t, sandbox.Config{Data: catalog("a")})
	send(t, c, src)
	meters, err := ParseMeters(strings.NewReader(`[
		{"name":"Bytes","event_type":"api.request","property":"bytes"},
		{"name":"Statuses","event_type":"api.request","property":"status","aggregation":"UniqueCount"}]`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), Config{Client: c, Source: writeParquet(t, src), Window: october, Meters: meters})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	want := map[Class]int{Match: 1, Missing: 1}
	if diff := cmp.Diff(want, res.Counts); diff != "" {
		t.Errorf("Verify counts (-want +got):\n%s", diff)
	}
	if p := pairsBy(res)["sub_a/Statuses"]; p.Class != Missing || p.Expected.String() != "2" || p.Detail != "meter not in the API's usage" {
		t.Errorf("sub_a/Statuses = %+v, want missing, expected 2", p)
	}
}

// The tolerance turns small differences into matches, exactly at its edge.
func TestVerifyTolerance(t *testing.T) {
	t.Parallel()
	var src []row
	for i, id := range ids("b", 200) {
		src = append(src, event(id, "api.request", "cus_b", "sub_b", at(2, 0).Add(time.Duration(i)*time.Minute), `{"bytes":10}`))
	}
	_, c := startSandbox(t, sandbox.Config{Data: catalog("b")})
	send(t, c, src[:198]) // Requests 198 of 200 (1%), Bytes 1980 of 2000
	spec := writeParquet(t, src)
	tests := []struct {
		tol  string
		want map[Class]int
	}{
		{"exact", map[Class]int{Match: 3, Under: 2}},
		{"abs=2", map[Class]int{Match: 4, Under: 1}},
		{"abs=20", map[Class]int{Match: 5}},
		{"rel=1%", map[Class]int{Match: 5}},
		{"rel=0.99%", map[Class]int{Match: 3, Under: 2}},
		{"abs=0;Bytes:abs=20", map[Class]int{Match: 4, Under: 1}},
		{"abs=1.999;bytes:rel=1%", map[Class]int{Match: 4, Under: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.tol, func(t *testing.T) {
			tol, err := ParseTolerance(tt.tol)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Tolerance: tol})
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if diff := cmp.Diff(tt.want, res.Counts); diff != "" {
				t.Errorf("Verify with tolerance %s counts (-want +got):\n%s", tt.tol, diff)
			}
		})
	}
}

// A source that yields fewer rows than it declares fails the comparison.
func TestVerifyIncompleteSource(t *testing.T) {
	src := []row{
		event("a1", "api.request", "cus_a", "sub_a", at(2, 1), `{"bytes":1}`),
		event("a2", "api.request", "cus_a", "sub_a", at(2, 2), `{"bytes":1}`),
	}
	r, err := source.Open(context.Background(), writeParquet(t, src))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l := &ledger{dir: newDirectory(nil), subs: map[string]*subState{}, fallback: newMeterGroup([]Meter{{EventType: "api.request", Aggregation: billing.AggCount}}, false)}
	err = l.scan(context.Background(), &shortReader{Reader: r, left: 1})
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("scan of a source cut after 1 of 2 rows = %v, want ErrIncomplete", err)
	}
}

// shortReader is a real reader that stops early, as a truncated read
// would.
type shortReader struct {
	source.Reader
	left int
}

func (s *shortReader) Next(ctx context.Context) (source.Record, error) {
	if s.left == 0 {
		return source.Record{}, io.EOF
	}
	s.left--
	return s.Reader.Next(ctx)
}

// An empty API and no meters file leave nothing to compare.
func TestVerifyNoMeters(t *testing.T) {
	t.Parallel()
	_, c := startSandbox(t, sandbox.Config{})
	spec := writeParquet(t, []row{event("a1", "api.request", "cus_a", "sub_a", at(2, 1), `{}`)})
	if _, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october}); !errors.Is(err, ErrNoMeters) {
		t.Errorf("Verify against an empty API = %v, want ErrNoMeters", err)
	}
}

// With shards, each customer is compared by exactly one shard, and an
// event without subscription_id goes with its subscription.
func TestVerifyShards(t *testing.T) {
	t.Parallel()
	var src []row
	subs := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for i, s := range subs {
		src = append(src, event("e"+s, "api.request", "cus_"+s, "", at(2, i), `{"bytes":1}`))
	}
	_, c := startSandbox(t, sandbox.Config{Data: catalog(subs...)})
	send(t, c, src)
	spec := writeParquet(t, src)
	seen := map[string]int{}
	for i := range 3 {
		res, err := Verify(context.Background(), Config{Client: c, Source: spec, Window: october, Shard: source.Shard{Index: i, Count: 3}})
		if err != nil {
			t.Fatalf("Verify shard %d/3 = %v", i, err)
		}
		if res.Mismatches() != 0 || res.Rows.Counted+res.Rows.OtherShards != int64(len(subs)) {
			t.Errorf("shard %d/3: %d mismatches, rows %+v; want 0 and every event counted or in another shard", i, res.Mismatches(), res.Rows)
		}
		for _, st := range res.subs {
			seen[st.id]++
			if got := source.ShardOf(st.customerID, 3); got != i {
				t.Errorf("shard %d/3 compared %s of %s, which is in shard %d", i, st.id, st.customerID, got)
			}
		}
	}
	for _, s := range subs {
		if seen["sub_"+s] != 1 {
			t.Errorf("sub_%s compared by %d shards, want 1", s, seen["sub_"+s])
		}
	}
}

// An interruption after the scan returns what was compared so far, with
// the context's error, so the reports can still be written.
func TestVerifyInterrupted(t *testing.T) {
	t.Parallel()
	subs := []string{"a", "b", "c", "d", "e", "f"}
	var src []row
	for _, s := range subs {
		src = append(src, rowsOf(s, 2, 2)...)
	}
	sb, c := startSandbox(t, sandbox.Config{Data: catalog(subs...)})
	send(t, c, src)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var usage atomic.Int64
	vc, err := billing.New(billing.Config{BaseURL: sb.URL, Token: sb.AdminToken, Observer: func(ri billing.RequestInfo) {
		if strings.HasSuffix(ri.Path, "/usage") && usage.Add(1) == 3 { // the meters call, then two subscriptions
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(ctx, Config{Client: vc, Source: writeParquet(t, src), Window: october, Concurrency: 1})
	if !errors.Is(err, context.Canceled) || res == nil {
		t.Fatalf("Verify interrupted = %v, %v; want the result so far and context.Canceled", res, err)
	}
	if res.Rows.Counted != int64(len(src)) || res.Pairs == 0 || res.Pairs >= len(subs)*5 {
		t.Errorf("Verify interrupted: %d rows counted, %d pairs; want every row and only some pairs", res.Rows.Counted, res.Pairs)
	}
}
