package sandbox

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// benchWriter is a reusable http.ResponseWriter: the benchmarks measure
// the handler, not a recorder's allocations.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }
func (w *benchWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// benchBody is a reusable request body.
type benchBody struct {
	b []byte
	i int
}

func (r *benchBody) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func (r *benchBody) Close() error { return nil }

func benchServer(b testing.TB) *Server {
	s, err := New(Config{AdminToken: "bsk_test_bench", Data: &SeedData{
		Customers:     []billing.Customer{{ID: "01944b1f-0000-7000-8000-000000000001", DisplayName: "Bench"}},
		Plans:         []billing.Plan{{ID: "plan", Name: "P"}},
		SKUs:          []billing.SKU{{PlanID: "plan", Name: "tokens", MeterEventType: "llm.completion", MeterProperty: "input_tokens"}},
		Subscriptions: []billing.Subscription{{ID: "01944b1f-0000-7000-8000-000000000003", CustomerID: "01944b1f-0000-7000-8000-000000000001", PlanID: "plan"}},
	}})
	if err != nil {
		panic(err)
	}
	return s
}

// eventBody is the body bench/event.lua sends, with id.
func eventBody(dst []byte, id string) []byte {
	dst = append(dst[:0], `{"id":"`...)
	dst = append(dst, id...)
	return append(dst, `","event_type":"llm.completion","customer_id":"01944b1f-0000-7000-8000-000000000001",`+
		`"subscription_id":"01944b1f-0000-7000-8000-000000000003","timestamp":"2026-10-15T12:00:00Z",`+
		`"properties":{"model":"gpt-4-turbo","input_tokens":512,"output_tokens":256}}`...)
}

// BenchmarkEventHandler compares POST /v1/events (new ids: validate, dedup,
// store; and one fixed id: the duplicate path) with a trivial handler that
// answers 202, all in process and in parallel.
func BenchmarkEventHandler(b *testing.B) {
	trivial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"accepted":true,"event_id":"x"}`))
	})
	var goroutine atomic.Int64
	run := func(b *testing.B, h http.Handler, fixed bool, withKey bool) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			g := strconv.FormatInt(goroutine.Add(1), 10)
			body := &benchBody{}
			req, _ := http.NewRequest("POST", "/v1/events", nil)
			req.Header.Set("Authorization", "Bearer bsk_test_bench")
			req.Header.Set("Content-Type", "application/json")
			req.Body = body
			w := &benchWriter{h: http.Header{}}
			var idBuf []byte
			for i := 0; pb.Next(); i++ {
				id := "fixed"
				if !fixed {
					idBuf = strconv.AppendInt(append(append(idBuf[:0], "b-"...), g+"-"...), int64(i), 10)
					id = string(idBuf)
				}
				if withKey {
					req.Header["Idempotency-Key"] = []string{id}
				}
				body.b, body.i = eventBody(body.b, id), 0
				req.ContentLength = int64(len(body.b))
				clear(w.h)
				h.ServeHTTP(w, req)
				if w.status != http.StatusAccepted && w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
	b.Run("trivial", func(b *testing.B) { run(b, trivial, false, false) })
	b.Run("sandbox-new-id", func(b *testing.B) { run(b, benchServer(b), false, false) })
	b.Run("sandbox-new-id-idempotency-key", func(b *testing.B) { run(b, benchServer(b), false, true) })
	b.Run("sandbox-fixed-id", func(b *testing.B) { run(b, benchServer(b), true, false) })
}

// BenchmarkUsage measures a usage query over one subscription holding
// 100k events.
func BenchmarkUsage(b *testing.B) {
	s := benchServer(b)
	w := &benchWriter{h: http.Header{}}
	body := &benchBody{}
	req, _ := http.NewRequest("POST", "/v1/events", nil)
	req.Header.Set("Authorization", "Bearer bsk_test_bench")
	req.Header.Set("Content-Type", "application/json")
	req.Body = body
	for i := range 100_000 {
		body.b, body.i = eventBody(body.b, "u-"+strconv.Itoa(i)), 0
		s.ServeHTTP(w, req)
	}
	ureq, _ := http.NewRequest("GET", "/v1/subscriptions/01944b1f-0000-7000-8000-000000000003/usage?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z", nil)
	ureq.Header.Set("Authorization", "Bearer bsk_test_bench")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, ureq)
		if w.status != 200 {
			b.Fatalf("usage status %d", w.status)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/time.Since(start).Seconds(), "events/s")
}
