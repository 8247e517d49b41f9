package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/load/report"
)

// finishTimeout bounds what happens after the run (verify aside): writing
// files and pushing metrics, even once interrupted.
const finishTimeout = 30 * time.Second

func (o *runOptions) run(ctx context.Context, a *app, p *plan) error {
	log := o.Logger(a.Stderr)
	base, err := o.Config(a.Getenv)
	if err != nil {
		return err
	}
	lc := load.Config{
		Schedule: p.schedule, Duration: time.Duration(o.duration), Workers: o.workers, MaxInFlight: o.maxInFlight,
		Connections: o.connections, DrainTimeout: time.Duration(o.drainTimeout),
		RunID: o.runID, Target: o.API.URL, Shard: p.shard.String(),
	}.Filled()
	loadCfg := base
	// A load test measures each request once: no retries. The shortest
	// pause keeps a 429 with "Retry-After: 0" from holding every worker
	// for the default 100 ms; a longer Retry-After still pauses them all.
	loadCfg.MaxRetries, loadCfg.RetryWaitMin, loadCfg.RetryWaitMax = -1, time.Microsecond, time.Microsecond
	loadCfg.MaxConns, loadCfg.Timeout = lc.Connections, time.Duration(o.timeout)
	if lc.Client, err = billing.New(loadCfg); err != nil {
		return err
	}
	defer lc.Client.CloseIdleConnections()
	admin, err := billing.New(base)
	if err != nil {
		return err
	}

	shardLabel := p.shard.String()
	// Metrics cost every request a few shared atomics: only recorded when
	// something reads them. No run_id or shard label on them: a Pushgateway
	// groups them by those (and refuses metrics that carry them), a scrape
	// by its target.
	reg := prometheus.NewRegistry()
	if o.metricsAddr != "" || o.pushgateway != "" {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		if lc.Metrics, err = load.NewMetrics(reg, nil); err != nil {
			return err
		}
	}
	if o.metricsAddr != "" {
		stop, err := load.ServeMetrics(o.metricsAddr, reg, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	events, err := load.OpenEvents(ctx, load.EventsConfig{
		Spec: p.spec, Customers: o.setup, Name: fmt.Sprintf("%s-%d", o.runID, p.shard.Index), Seed: uint64(o.seed),
		Admin: admin, IDPrefix: p.idPrefix, Logger: log,
	})
	if err != nil {
		return err
	}
	defer events.Close()
	lc.Events = events.Worker
	syn := events.Synthetic

	lc.Progress = cli.ProgressFunc[load.Progress](o.progress, a.Stderr, log, 10) // every 10 s
	log.Info("running", "model", lc.Model(), "target", base.BaseURL, "run_id", o.runID, "shard", shardLabel)
	res, runErr := load.Run(ctx, lc)
	if res == nil {
		return runErr
	}
	s := res.Summary(p.percentiles)
	warning := o.report.check(s)

	// What follows must happen even after an interrupt: the summary is the
	// point of the run.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if o.verify && syn != nil && ctx.Err() == nil && runErr == nil {
		log.Info("verifying usage", "subscriptions", len(syn.Catalog.Accounts), "timeout", time.Duration(o.verifyWait).String())
		v, err := load.Verify(ctx, admin, syn.Catalog, syn.Ledger, load.VerifyConfig{
			From: res.Start.Add(-time.Second), To: res.End.Add(time.Minute), Timeout: time.Duration(o.verifyWait)})
		if err != nil {
			runErr = errors.Join(runErr, err)
		}
		s.Verify = v
	}
	errs := []error{runErr, report.WriteText(a.Stdout, s)}
	if o.report.out != "" {
		if err := report.Write(o.report.out, res, s); err != nil {
			errs = append(errs, err)
		} else {
			log.Info("results written", "dir", o.report.out)
		}
	}
	if o.pushgateway != "" {
		errs = append(errs, load.PushMetrics(fctx, o.pushgateway, reg, o.runID, shardLabel))
	}
	if warning != "" {
		fmt.Fprintln(a.Stderr, warning)
	}
	errs = append(errs, verdict(s))
	return errors.Join(errs...)
}

// verdict is ErrThresholds when a threshold or the verification failed.
func verdict(s *load.Summary) error {
	failed := report.Failed(s)
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", cli.ErrThresholds, strings.Join(failed, ", "))
}
