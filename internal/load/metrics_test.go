package load

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

// TestMetrics: a run's metrics, on a registry of its own, agree with its
// result.
func TestMetrics(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{ThrottleRate: 0.1, Seed: 9})
	syn := synthetic(t, sb, 5)
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg, prometheus.Labels{"run_id": "r1"})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := Constant(300, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, Config{Client: testClient(t, sb, 100), Events: syn.Worker, Schedule: sch, Metrics: m})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range mt.GetLabel() {
				if l.GetName() == "status_class" {
					name += "{" + l.GetValue() + "}"
				}
				if l.GetName() == "run_id" && l.GetValue() != "r1" {
					t.Errorf("%s run_id = %q, want r1", name, l.GetValue())
				}
			}
			switch {
			case mt.Counter != nil:
				got[name] = mt.Counter.GetValue()
			case mt.Gauge != nil:
				got[name] = mt.Gauge.GetValue()
			case mt.Histogram != nil:
				got[name] = float64(mt.Histogram.GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"loadgen_requests_total{2xx}":   float64(res.Counts[Class2xx]),
		"loadgen_requests_total{429}":   float64(res.Counts[Class429]),
		"loadgen_requests_total{5xx}":   0,
		"loadgen_latency_seconds":       float64(res.Completed()),
		"loadgen_service_seconds":       float64(res.Completed()),
		"loadgen_dropped_ticks_total":   0,
		"loadgen_inflight":              0,
		"loadgen_duplicates_total":      0,
		"loadgen_requests_total{error}": 0,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if res.Counts[Class429] == 0 {
		t.Error("no 429: the test needs throttling")
	}
	if _, ok := got["loadgen_target_rate"]; !ok {
		t.Error("loadgen_target_rate missing")
	}
	if _, err := NewMetrics(reg, nil); err == nil {
		t.Error("registering twice on one registry succeeded, want an error")
	}
}
