package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

// Metrics are a run's Prometheus metrics, registered on a registry the
// caller owns (never the global default one), so that a scrape endpoint
// or a push to a Pushgateway shows exactly one run. A nil *Metrics
// records nothing.
//
//	loadgen_requests_total{status_class}   requests ended, by class (2xx, 4xx, 429, 5xx, error)
//	loadgen_duplicates_total               2xx answers for an event the API already had
//	loadgen_dropped_ticks_total            ticks that found no free worker
//	loadgen_latency_seconds                corrected latency (from the intended send time)
//	loadgen_service_seconds                service time (from the actual send time)
//	loadgen_inflight                       requests in flight
//	loadgen_target_rate                    the rate the schedule asks for now, per second
type Metrics struct {
	requests   [NumClasses]prometheus.Counter
	duplicates prometheus.Counter
	drops      prometheus.Counter
	latency    prometheus.Histogram
	service    prometheus.Histogram
	inflight   prometheus.Gauge
	target     prometheus.Gauge
}

// latencyBuckets span 0.5 ms to about 33 s, doubling.
func latencyBuckets() []float64 { return prometheus.ExponentialBuckets(0.0005, 2, 17) }

// NewMetrics creates the metrics and registers them on reg. constLabels
// (run_id, shard…) go on every metric.
func NewMetrics(reg prometheus.Registerer, constLabels prometheus.Labels) (*Metrics, error) {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "loadgen_requests_total", Help: "Requests ended, by status class (2xx, 4xx, 429, 5xx, error: no HTTP answer).",
		ConstLabels: constLabels,
	}, []string{"status_class"})
	m := &Metrics{
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "loadgen_duplicates_total",
			Help: "2xx answers saying the API already had the event.", ConstLabels: constLabels}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{Name: "loadgen_dropped_ticks_total",
			Help: "Ticks that came due while the in-flight cap was reached: never sent.", ConstLabels: constLabels}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "loadgen_latency_seconds",
			Help:    "Latency from the intended send time (corrected for coordinated omission) to the answer.",
			Buckets: latencyBuckets(), ConstLabels: constLabels}),
		service: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "loadgen_service_seconds",
			Help:    "Latency from the actual send time to the answer.",
			Buckets: latencyBuckets(), ConstLabels: constLabels}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "loadgen_inflight",
			Help: "Requests in flight.", ConstLabels: constLabels}),
		target: prometheus.NewGauge(prometheus.GaugeOpts{Name: "loadgen_target_rate",
			Help: "Requests per second the schedule asks for now (0 in the closed model).", ConstLabels: constLabels}),
	}
	// Resolved once: a labelled lookup per request would hash the label.
	for c := range NumClasses {
		m.requests[c] = reqs.WithLabelValues(c.String())
	}
	for _, c := range []prometheus.Collector{reqs, m.duplicates, m.drops, m.latency, m.service, m.inflight, m.target} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) observe(c Class, duplicate bool, corrected, service time.Duration) {
	if m == nil {
		return
	}
	m.requests[c].Inc()
	if duplicate {
		m.duplicates.Inc()
	}
	m.latency.Observe(corrected.Seconds())
	m.service.Observe(service.Seconds())
}

func (m *Metrics) dropped() {
	if m != nil {
		m.drops.Inc()
	}
}

func (m *Metrics) gauges(inflight int64, targetRate float64) {
	if m != nil {
		m.inflight.Set(float64(inflight))
		m.target.Set(targetRate)
	}
}

// ServeMetrics serves reg at http://addr/metrics until stop is called.
func ServeMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// PushMetrics sends the final metrics to a Pushgateway, grouped by run id and
// shard so that the pods of a sharded run do not overwrite each other.
func PushMetrics(ctx context.Context, url string, reg *prometheus.Registry, runID, shard string) error {
	p := push.New(url, "loadgen").Gatherer(reg).Grouping("run_id", runID).Grouping("shard", shard)
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push metrics to %s: %w", url, err)
	}
	return nil
}
