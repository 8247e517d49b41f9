package outcome

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
)

// request is what the fake Pushgateway received.
type request struct {
	method  string
	group   map[string]string  // from the path: job and grouping labels
	metrics map[string]float64 // "name{label=value}" -> value
}

// groupOf decodes a push path, /metrics/job/<job>{/<label>[@base64]/<value>},
// as the Pushgateway does: the labels come in any order.
func groupOf(t *testing.T, path string) map[string]string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(path, "/metrics/"), "/")
	if len(parts)%2 != 0 {
		t.Fatalf("push path %q: want /metrics/job/<job>/<label>/<value>…", path)
	}
	g := map[string]string{}
	for i := 0; i < len(parts); i += 2 {
		name, value := parts[i], parts[i+1]
		if n, ok := strings.CutSuffix(name, "@base64"); ok {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
			if err != nil {
				t.Fatalf("push path %q: label %s: %v", path, n, err)
			}
			name, value = n, string(b)
		}
		g[name] = value
	}
	return g
}

// gateway is a Pushgateway stand-in that decodes what it is sent, in the
// format the request names, as the real one does.
func gateway(t *testing.T, status int) (url string, got func() []request) {
	t.Helper()
	reqs := make(chan request, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := request{method: r.Method, group: groupOf(t, r.URL.EscapedPath()), metrics: map[string]float64{}}
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		for {
			var mf dto.MetricFamily
			err := dec.Decode(&mf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("gateway: decode the pushed metrics: %v", err)
				break
			}
			for _, m := range mf.GetMetric() {
				key := mf.GetName()
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				sort.Strings(labels)
				if len(labels) > 0 {
					key += "{" + strings.Join(labels, ",") + "}"
				}
				switch {
				case m.Gauge != nil:
					rq.metrics[key] = m.GetGauge().GetValue()
				case m.Counter != nil:
					rq.metrics[key] = m.GetCounter().GetValue()
				}
			}
		}
		reqs <- rq
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []request {
		var out []request
		for {
			select {
			case r := <-reqs:
				out = append(out, r)
			default:
				return out
			}
		}
	}
}

func TestPush(t *testing.T) {
	end := time.Date(2026, 11, 1, 6, 0, 0, 500_000_000, time.UTC)
	ts := 1793512800.5
	tests := []struct {
		name      string
		outcome   Outcome
		wantGroup map[string]string
		want      map[string]float64
	}{
		{
			name: "success with a replay",
			outcome: Outcome{Command: "run", Shard: "1/3", Finished: end, ExitStatus: 0, Completed: true, Compared: true, Pairs: 40,
				Classes: map[reconcile.Class]int{reconcile.Match: 40}, Replayed: &Replayed{Accepted: 900, Duplicate: 12}},
			wantGroup: map[string]string{"job": "billharness_reconcile", "command": "run", "shard": "1/3"},
			want: withClasses(map[string]float64{
				"billharness_reconcile_last_run_timestamp_seconds":                   ts,
				"billharness_reconcile_exit_status":                                  0,
				"billharness_reconcile_last_completion_timestamp_seconds":            ts,
				"billharness_reconcile_last_success_timestamp_seconds":               ts,
				"billharness_reconcile_pairs":                                        40,
				"billharness_reconcile_events_replayed_total{outcome=accepted}":      900,
				"billharness_reconcile_events_replayed_total{outcome=duplicate}":     12,
				"billharness_reconcile_events_replayed_total{outcome=dead_lettered}": 0,
			}),
		},
		{
			name: "discrepancies: completed, not a success",
			outcome: Outcome{Command: "verify", Finished: end, ExitStatus: 3, Completed: true, Compared: true, Pairs: 10,
				Classes: map[reconcile.Class]int{reconcile.Match: 7, reconcile.Under: 2, reconcile.Over: 1},
				Money:   []Money{{Currency: "EUR", UnderBilled: billing.MustMoney("1500000000000"), AtRisk: billing.MustMoney("250000000000")}}},
			wantGroup: map[string]string{"job": "billharness_reconcile", "command": "verify", "shard": "0/1"},
			want: withClasses(map[string]float64{
				"billharness_reconcile_last_run_timestamp_seconds":                       ts,
				"billharness_reconcile_exit_status":                                      3,
				"billharness_reconcile_last_completion_timestamp_seconds":                ts,
				"billharness_reconcile_pairs":                                            10,
				"billharness_reconcile_discrepancies{class=under}":                       2,
				"billharness_reconcile_discrepancies{class=over}":                        1,
				"billharness_reconcile_money_at_stake{currency=EUR,impact=under_billed}": 1.5,
				"billharness_reconcile_money_at_stake{currency=EUR,impact=over_billed}":  0,
				"billharness_reconcile_money_at_stake{currency=EUR,impact=at_risk}":      0.25,
			}),
		},
		{
			// The group keeps the last success and the last counts: only
			// the run time and the exit status are replaced.
			name:      "failure before comparing",
			outcome:   Outcome{Command: "verify", Shard: "0/1", Finished: end, ExitStatus: 1},
			wantGroup: map[string]string{"job": "billharness_reconcile", "command": "verify", "shard": "0/1"},
			want: map[string]float64{
				"billharness_reconcile_last_run_timestamp_seconds": ts,
				"billharness_reconcile_exit_status":                1,
			},
		},
		{
			name:      "replay with dead letters",
			outcome:   Outcome{Command: "replay", Shard: "2/4", Finished: end, ExitStatus: 1, Completed: true, Replayed: &Replayed{Accepted: 5, DeadLettered: 2}},
			wantGroup: map[string]string{"job": "billharness_reconcile", "command": "replay", "shard": "2/4"},
			want: map[string]float64{
				"billharness_reconcile_last_run_timestamp_seconds":                   ts,
				"billharness_reconcile_exit_status":                                  1,
				"billharness_reconcile_last_completion_timestamp_seconds":            ts,
				"billharness_reconcile_events_replayed_total{outcome=accepted}":      5,
				"billharness_reconcile_events_replayed_total{outcome=duplicate}":     0,
				"billharness_reconcile_events_replayed_total{outcome=dead_lettered}": 2,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, got := gateway(t, http.StatusOK)
			if err := Push(context.Background(), Config{URL: url}, tt.outcome); err != nil {
				t.Fatalf("Push = %v", err)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("Push sent %d requests, want 1", len(reqs))
			}
			if reqs[0].method != http.MethodPost {
				t.Errorf("Push sent %s, want POST: PUT would erase the group's last success", reqs[0].method)
			}
			if diff := cmp.Diff(tt.wantGroup, reqs[0].group); diff != "" {
				t.Errorf("Push group (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, reqs[0].metrics); diff != "" {
				t.Errorf("Push metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPushFails(t *testing.T) {
	o := Outcome{Command: "verify", Finished: time.Now()}
	url, _ := gateway(t, http.StatusInternalServerError)
	if err := Push(context.Background(), Config{URL: url}, o); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("Push to a failing gateway = %v, want an error naming the 500", err)
	}
	if err := Push(context.Background(), Config{}, o); err == nil {
		t.Errorf("Push without a URL = nil, want an error")
	}
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	start := time.Now()
	err := Push(context.Background(), Config{URL: hang.URL, Timeout: 50 * time.Millisecond}, o)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("Push to a gateway that never answers = %v after %v, want the deadline within the timeout", err, time.Since(start))
	}
}

// withClasses is m with a discrepancies series for every class but match,
// 0 unless m gives it: every class is pushed, found or not.
func withClasses(m map[string]float64) map[string]float64 {
	for _, c := range reconcile.Classes {
		if c == reconcile.Match {
			continue
		}
		k := "billharness_reconcile_discrepancies{class=" + string(c) + "}"
		if _, ok := m[k]; !ok {
			m[k] = 0
		}
	}
	return m
}
