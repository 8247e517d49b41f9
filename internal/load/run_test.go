package load

import (
	"math"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// TestOpenModelRate: every tick that came due was sent and answered, and
// never faster than the schedule. A loaded machine may send later than
// asked (the latency shows it), so only the machine-independent bound is
// asserted: sending cannot run ahead of the schedule.
func TestOpenModelRate(t *testing.T) {
	sb, syn := syntheticOnSandbox(t, 50)
	sch, err := Constant(500, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, Config{Client: testClient(t, sb, 1000), Events: syn.Worker, Schedule: sch})
	s := res.Summary(Percentiles{50, 99, 100})
	t.Logf("asked %d sent %d completed %d dropped %d elapsed %s rate %.1f p99 %v", s.Asked, s.Sent, s.Completed, s.Dropped,
		res.Elapsed(), s.Rate, time.Duration(s.Corrected.Percentiles[1].Ms))
	if s.Asked != 2000 || s.Sent != 2000 || s.Completed != 2000 || s.Dropped != 0 {
		t.Errorf("asked, sent, completed, dropped = %d, %d, %d, %d; want 2000, 2000, 2000, 0", s.Asked, s.Sent, s.Completed, s.Dropped)
	}
	// The 2,000th tick is due at 3.998 s: the last send cannot be earlier.
	if e := res.Elapsed(); e < 3998*time.Millisecond {
		t.Errorf("elapsed = %v, want >= 3.998s: sending ran ahead of the schedule", e)
	}
	if math.Abs(s.AskedRate-500) > 0.5 {
		t.Errorf("asked rate = %.2f/s, want 500/s", s.AskedRate)
	}
	if s.Classes["2xx"] != 2000 || s.Duplicates != 0 {
		t.Errorf("2xx, duplicates = %d, %d; want 2000, 0 (ids must be unique)", s.Classes["2xx"], s.Duplicates)
	}
	if got := sb.Server.Stats().EventsStored; got != 2000 {
		t.Errorf("sandbox stored %d events, want 2000", got)
	}
}

// TestCorrectedLatencyShowsStall: a sandbox slower than the client's
// connections can carry (20 ms per request, one connection: 50/s at most,
// asked 100/s) makes requests wait inside the load generator. Their
// corrected latency, from the schedule, shows the stall; their service
// time, from the actual send, stays near the sandbox's 20 ms: the gap a
// closed-loop tool would not see.
func TestCorrectedLatencyShowsStall(t *testing.T) {
	res := slowRun(t, 20*time.Millisecond, 100, 1, Config{Connections: 1})
	s := res.Summary(Percentiles{50, 99})
	corr99, _ := s.Corrected.At(99)
	serv99, _ := s.Service.At(99)
	t.Logf("completed %d dropped %d corrected p99 %v service p99 %v", s.Completed, s.Dropped, corr99, serv99)
	if s.Completed != 100 || s.Dropped != 0 {
		t.Errorf("completed, dropped = %d, %d; want 100, 0", s.Completed, s.Dropped)
	}
	if corr99 < 500*time.Millisecond {
		t.Errorf("corrected p99 = %v, want >= 500ms: requests waited ~1 s for the connection", corr99)
	}
	if serv99 < 20*time.Millisecond || serv99*3 > corr99 {
		t.Errorf("service p99 = %v, want about the sandbox's 20ms, far below the corrected %v", serv99, corr99)
	}
	// The series shows the stall too: the latest step's corrected p99 is
	// above its service p99.
	var worst time.Duration
	for _, p := range res.Series.Points {
		worst = max(worst, p.Corrected.P99-p.Service.P99)
	}
	if worst < 300*time.Millisecond {
		t.Errorf("largest per-second gap between corrected and service p99 = %v, want >= 300ms", worst)
	}
}

// TestDroppedTicks: with the in-flight cap reached (5 requests of 100 ms:
// 50/s at most, asked 200/s), ticks are dropped, counted, and leave no
// latency behind; nothing is queued.
func TestDroppedTicks(t *testing.T) {
	res := slowRun(t, 100*time.Millisecond, 200, 5, Config{MaxInFlight: 5})
	s := res.Summary(Percentiles{99})
	t.Logf("asked %d sent %d completed %d dropped %d", s.Asked, s.Sent, s.Completed, s.Dropped)
	if s.Asked != 200 || s.Sent+s.Dropped != s.Asked {
		t.Errorf("asked, sent + dropped = %d, %d; want 200, 200", s.Asked, s.Sent+s.Dropped)
	}
	if s.Dropped < 100 || s.Sent > 100 {
		t.Errorf("dropped, sent = %d, %d; want >= 100 dropped (at most ~50 can be sent in 1 s)", s.Dropped, s.Sent)
	}
	if s.Completed != s.Sent || s.Corrected.Count != s.Sent {
		t.Errorf("completed, latency samples = %d, %d; want both = sent %d (dropped ticks record nothing)", s.Completed, s.Corrected.Count, s.Sent)
	}
	// Queued instead of dropped, the last ticks would wait about 3 s (200
	// ticks served at 50/s); the bound leaves a loaded machine 15× slack
	// over the 100 ms a request takes.
	if p99, _ := s.Corrected.At(99); p99 > 1500*time.Millisecond {
		t.Errorf("corrected p99 = %v, want < 1.5s: a dropped tick must not wait for a worker", p99)
	}
	var sum int64
	for _, p := range res.Series.Points {
		sum += p.Dropped
	}
	if sum != s.Dropped {
		t.Errorf("series dropped = %d, want %d", sum, s.Dropped)
	}
}

// TestClosedModel: -rate 0 -workers N sends back to back for the duration.
func TestClosedModel(t *testing.T) {
	sb, syn := syntheticOnSandbox(t, 5)
	res := run(t, Config{Client: testClient(t, sb, 4), Events: syn.Worker, Workers: 4, Duration: time.Second})
	s := res.Summary(Percentiles{99})
	if s.Model != ModelClosed || s.Completed == 0 || s.Asked != s.Sent || s.Sent != s.Completed || s.Dropped != 0 {
		t.Errorf("model %s asked %d sent %d completed %d dropped %d; want closed, all equal and > 0, none dropped",
			s.Model, s.Asked, s.Sent, s.Completed, s.Dropped)
	}
	// At least the duration; the upper bound only catches a run that does
	// not stop (a loaded machine may take longer to drain the last answers).
	if e := res.Elapsed(); e < time.Second || e > time.Minute {
		t.Errorf("elapsed = %v, want 1s and a drain", e)
	}
	if got := sb.Server.Stats().EventsStored; got != s.Completed {
		t.Errorf("sandbox stored %d events, want %d", got, s.Completed)
	}
}

// TestStatusClasses: throttled and failed requests are counted in their
// classes and by kind, each once (no retries).
func TestStatusClasses(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{ThrottleRate: 0.2, FailRate: 0.2, Seed: 3})
	syn := synthetic(t, sb, 5)
	sch, err := Constant(400, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	before := sb.Server.Stats() // setup's retried faults
	res := run(t, Config{Client: testClient(t, sb, 100), Events: syn.Worker, Schedule: sch})
	s := res.Summary(Percentiles{99})
	st := sb.Server.Stats()
	if s.Classes["429"] == 0 || s.Classes["429"] != st.RateLimited-before.RateLimited {
		t.Errorf("429 = %d, want the sandbox's %d (> 0)", s.Classes["429"], st.RateLimited-before.RateLimited)
	}
	if s.Classes["5xx"] == 0 || s.Classes["5xx"] != st.ServerErrors-before.ServerErrors {
		t.Errorf("5xx = %d, want the sandbox's %d (> 0)", s.Classes["5xx"], st.ServerErrors-before.ServerErrors)
	}
	if s.Completed != s.Sent || s.Sent != 400 {
		t.Errorf("sent, completed = %d, %d; want 400 each: a load test does not retry", s.Sent, s.Completed)
	}
	want := s.Classes["429"] + s.Classes["5xx"]
	if got := s.ErrorRate * float64(s.Completed); math.Abs(got-float64(want)) > 0.5 {
		t.Errorf("error rate × completed = %.1f, want %d", got, want)
	}
	var kinds int64
	for _, e := range s.Errors {
		kinds += e.Count
	}
	if kinds != want {
		t.Errorf("errors by kind sum to %d, want %d: %+v", kinds, want, s.Errors)
	}
}
