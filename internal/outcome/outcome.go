// Package outcome publishes how a reconcile run ended as Prometheus
// metrics, pushed to a Pushgateway: batch jobs end before any Prometheus
// could scrape them.
//
// Every push goes to job "billharness_reconcile", grouped by command and
// shard, so the pods of a sharded run, and the commands of one schedule,
// keep a group each. It uses HTTP POST, which replaces only the metrics it
// carries: a failed run does not erase the time of the last success, which
// is what an alert on a stale success watches.
//
// Metrics (gauges unless said otherwise):
//
//	billharness_reconcile_last_run_timestamp_seconds         every run
//	billharness_reconcile_exit_status                        every run
//	billharness_reconcile_last_completion_timestamp_seconds  runs that did all their work (exit 0 or 3; replay: also 1 for dead letters only)
//	billharness_reconcile_last_success_timestamp_seconds     runs that exited 0
//	billharness_reconcile_pairs                              pairs compared, by runs that compared
//	billharness_reconcile_discrepancies{class}               pairs per class other than match, zeros included
//	billharness_reconcile_money_at_stake{currency,impact}    currency units under_billed, over_billed, at_risk (summary.json has them exact)
//	billharness_reconcile_events_replayed_total{outcome}     counter: accepted, duplicate, dead_lettered, by runs that replayed
package outcome

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
)

// Job is the Pushgateway job every push is grouped under.
const Job = "billharness_reconcile"

// DefaultTimeout bounds a push when Config.Timeout is zero: a Pushgateway
// that does not answer must not hold a finished job's pod.
const DefaultTimeout = 10 * time.Second

// Config says where to push.
type Config struct {
	// URL is the Pushgateway's base URL, e.g. http://pushgateway:9091.
	URL string
	// Client sends the request. Default http.DefaultClient.
	Client *http.Client
	// Timeout bounds the push. Default DefaultTimeout.
	Timeout time.Duration
}

// Outcome is how one run ended.
type Outcome struct {
	// Command is the subcommand that ran: replay, verify, bill, run, merge.
	Command string
	// Shard is the run's shard as i/N, "0/1" for the whole.
	Shard string
	// Finished is when the run ended.
	Finished time.Time
	// ExitStatus is the process exit status.
	ExitStatus int
	// Completed is whether the run did all its work, whatever it found.
	Completed bool
	// Compared is whether the run compared anything; Pairs and Classes
	// are pushed only then.
	Compared bool
	// Pairs counts the pairs compared; Classes the pairs (and invoice
	// lines) of each class.
	Pairs   int
	Classes map[reconcile.Class]int
	// Money is what the discrepancies are worth, per currency (runs
	// that compared).
	Money []Money
	// Replayed is set when events were replayed.
	Replayed *Replayed
}

// Money is one currency's money at stake, in pico-units.
type Money struct {
	Currency                        string
	UnderBilled, OverBilled, AtRisk billing.Money
}

// units converts pico-units to currency units, for a gauge.
func units(m billing.Money) float64 {
	f, _ := new(big.Rat).SetFrac(m.BigInt(), big.NewInt(billing.PicoPerUnit)).Float64()
	return f
}

// Replayed counts the events a replay sent.
type Replayed struct {
	// Accepted were counted by the API for the first time; Duplicate it
	// already had; DeadLettered were not delivered.
	Accepted, Duplicate, DeadLettered int64
}

// Push sends o to the Pushgateway in cfg.
func Push(ctx context.Context, cfg Config, o Outcome) error {
	if cfg.URL == "" {
		return errors.New("push outcome: no Pushgateway URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	client := cfg.Client
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	reg, err := registry(o)
	if err != nil {
		return fmt.Errorf("push outcome: %w", err)
	}
	shard := o.Shard
	if shard == "" {
		shard = "0/1"
	}
	p := push.New(cfg.URL, Job).Gatherer(reg).Client(client).Grouping("command", o.Command).Grouping("shard", shard)
	// POST, not PUT: see the package comment.
	if err := p.AddContext(ctx); err != nil {
		return fmt.Errorf("push outcome to %s: %w", cfg.URL, err)
	}
	return nil
}

// registry holds the metrics of o, in a registry of its own: nothing
// global, and nothing but this run's outcome is pushed.
func registry(o Outcome) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) error {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		return reg.Register(g)
	}
	ts := float64(o.Finished.UnixNano()) / 1e9
	errs := []error{
		gauge("billharness_reconcile_last_run_timestamp_seconds", "When the last run ended, whatever its outcome.", ts),
		gauge("billharness_reconcile_exit_status", "Exit status of the last run: 0 ok, 1 failure, 3 discrepancies.", float64(o.ExitStatus)),
	}
	if o.Completed {
		errs = append(errs, gauge("billharness_reconcile_last_completion_timestamp_seconds",
			"When the last run that did all its work ended, whatever it found.", ts))
	}
	if o.ExitStatus == 0 {
		errs = append(errs, gauge("billharness_reconcile_last_success_timestamp_seconds",
			"When the last run that exited 0 ended: everything matched, or every event was delivered.", ts))
	}
	if o.Compared {
		d := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "billharness_reconcile_discrepancies",
			Help: "Pairs (and invoice lines) of each class other than match found by the last run that compared."}, []string{"class"})
		for _, c := range reconcile.Classes {
			if c != reconcile.Match {
				d.WithLabelValues(string(c)).Set(float64(o.Classes[c]))
			}
		}
		errs = append(errs, reg.Register(d),
			gauge("billharness_reconcile_pairs", "Pairs compared by the last run that compared.", float64(o.Pairs)))
		m := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "billharness_reconcile_money_at_stake",
			Help: "Money the last run that compared found at stake, in currency units: under_billed, over_billed, at_risk."}, []string{"currency", "impact"})
		for _, c := range o.Money {
			m.WithLabelValues(c.Currency, "under_billed").Set(units(c.UnderBilled))
			m.WithLabelValues(c.Currency, "over_billed").Set(units(c.OverBilled))
			m.WithLabelValues(c.Currency, "at_risk").Set(units(c.AtRisk))
		}
		errs = append(errs, reg.Register(m))
	}
	if r := o.Replayed; r != nil {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "billharness_reconcile_events_replayed_total",
			Help: "Events the last run replayed, by outcome."}, []string{"outcome"})
		c.WithLabelValues("accepted").Add(float64(r.Accepted))
		c.WithLabelValues("duplicate").Add(float64(r.Duplicate))
		c.WithLabelValues("dead_lettered").Add(float64(r.DeadLettered))
		errs = append(errs, reg.Register(c))
	}
	return reg, errors.Join(errs...)
}

// PushLogged sends o, finished now, to the Pushgateway at url when url is
// set. It runs after an interruption too, so it does not take ctx's
// cancellation, only its values; Push bounds it in time. A failure is
// logged and not returned: a command's exit status is its run's, and the
// alert on a stale last success covers a gateway that is down.
func PushLogged(ctx context.Context, url string, log *slog.Logger, o Outcome) {
	if url == "" {
		return
	}
	o.Finished = time.Now()
	if err := Push(context.WithoutCancel(ctx), Config{URL: url}, o); err != nil {
		log.Error("pushgateway", "err", err)
		return
	}
	log.Info("outcome pushed", "pushgateway", url, "command", o.Command, "shard", o.Shard, "exit", o.ExitStatus)
}
