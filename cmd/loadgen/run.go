package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/source"
)

type runOptions struct {
	cli.Client
	report       reportFlags
	rate         cli.Rate
	duration     cli.Duration
	stages       string
	workers      int
	maxInFlight  int
	connections  int
	timeout      cli.Duration
	drainTimeout cli.Duration
	setup        int
	seed         int
	src          cli.SourceFlags
	runID        string
	shard        source.Shard
	verify       bool
	verifyWait   cli.Duration
	metricsAddr  string
	pushgateway  string
	progress     string
}

// plan is what the flags resolve to, checked before any I/O.
type plan struct {
	schedule    *load.Schedule // nil: closed model
	shard       source.Shard
	percentiles load.Percentiles
	spec        *source.Spec // nil: synthetic events
	idPrefix    string
}

func newRunCmd(a *app) *cli.Command {
	o := &runOptions{rate: 100, duration: cli.Duration(time.Minute), timeout: cli.Duration(10 * time.Second),
		drainTimeout: cli.Duration(load.DefaultDrainTimeout), verifyWait: cli.Duration(load.DefaultVerifyTimeout)}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	o.Register(fs, "LOADGEN", "billharness-loadgen/"+version)
	cli.Var(fs, &o.rate, "rate", "LOADGEN_RATE", "open model: requests per second (`N/s`, N/m), whatever the answers; 0 selects the closed model")
	cli.Var(fs, &o.duration, "duration", "LOADGEN_DURATION", "how long to send (`duration`); 0 runs until interrupted")
	cli.String(fs, &o.stages, "stages", "LOADGEN_STAGES", "",
		"open model in `stages` instead of -rate/-duration: DURATION@RATE,… each ramping linearly from the previous\n"+
			"rate (0 at the start), e.g. 30s@100,2m@2000,30s@0; 0s@500 jumps")
	cli.Int(fs, &o.workers, "workers", "LOADGEN_WORKERS", 0,
		"closed model: `N` workers sending back to back (0: 64); open model: workers started up front, more on demand (0: 16)")
	cli.Int(fs, &o.maxInFlight, "max-inflight", "LOADGEN_MAX_INFLIGHT", load.DefaultMaxInFlight,
		"open model: cap on requests in flight (`N`); a tick that finds them all busy is dropped and counted")
	cli.Int(fs, &o.connections, "connections", "LOADGEN_CONNECTIONS", 0,
		"HTTP `connections` (0: one per in-flight request or worker); fewer make requests wait for one, which\n"+
			"shows in corrected latency and not in service time")
	cli.Var(fs, &o.timeout, "timeout", "LOADGEN_TIMEOUT", "per-request `duration` before it counts as a timeout error")
	cli.Var(fs, &o.drainTimeout, "drain-timeout", "LOADGEN_DRAIN_TIMEOUT", "after SIGTERM/SIGINT, let in-flight requests finish for this `duration`")
	cli.Int(fs, &o.setup, "setup", "LOADGEN_SETUP", 100,
		"synthetic events: create `N` customers, a plan with metered SKUs and N subscriptions first (admin token)")
	cli.Int(fs, &o.seed, "seed", "LOADGEN_SEED", 1, "`seed` of the synthetic event mix")
	o.src.Register(fs, "LOADGEN",
		"send the events of `parquet:PATH` (PATH local, s3://… or gs://…) or postgres://… instead of synthetic ones, ids\n"+
			"prefixed to be new; the run ends when the source does")
	cli.String(fs, &o.runID, "run-id", "LOADGEN_RUN_ID", "",
		"`id` of the run, at the start of every event id (default lg-<random>); give every shard the same one")
	cli.Var(fs, &o.shard, "shard", "LOADGEN_SHARD",
		"this pod's share `i/N`: 1/N of the rate and its own ids; unset, JOB_COMPLETION_INDEX/LOADGEN_SHARDS when set")
	cli.Bool(fs, &o.verify, "verify", "LOADGEN_VERIFY", false,
		"after the run, wait for usage to settle and check it equals what the API accepted; a mismatch exits 4")
	cli.Var(fs, &o.verifyWait, "verify-timeout", "LOADGEN_VERIFY_TIMEOUT", "how long -verify waits for usage to settle (`duration`)")
	cli.String(fs, &o.metricsAddr, "metrics-addr", "LOADGEN_METRICS_ADDR", "", "serve Prometheus metrics at http://`addr`/metrics while running")
	cli.String(fs, &o.pushgateway, "pushgateway", "LOADGEN_PUSHGATEWAY", "", "push the final metrics to this Prometheus Pushgateway `URL`")
	cli.String(fs, &o.progress, "progress", "LOADGEN_PROGRESS", "auto",
		"`mode`: live (a status line on stderr), log (slog lines every 10 s), off, or auto (live on a terminal)")
	o.report.register(fs)
	return &cli.Command{
		Name:    "run",
		Summary: "send events at a rate or in stages and check latency and error thresholds",
		Description: `Run sends usage events to POST /v1/events and measures how much the API
takes and how fast it answers, through the same client as replay but with
retries off: every request is measured once.

Open model (default): requests are due at -rate for -duration, or on
-stages, whatever the answers. Each request's intended send time comes from
the schedule, never from the previous request, and latency is recorded from
it (corrected for coordinated omission) as well as from the actual send
(service time). At most -max-inflight requests are in flight: a tick that
finds them all busy is dropped and counted, never queued. Closed model
(-rate 0 -workers N): N workers send back to back, for maximum throughput.

Events are synthetic by default: -setup creates customers on a plan with
metered SKUs (API requests, completions, input and output tokens, storage
bytes), then events go to Zipf-skewed customers with realistic properties.
-source sends the events of a Parquet or Postgres source instead. Event ids
are unique per run: <run-id>-<shard>-<n>.

-verify waits after the run until the usage the API reports for every
set-up subscription equals what it accepted (events with no answer, or a
5xx, may count or not), within -verify-timeout; a mismatch, lost or extra
usage, exits 4.

In a Kubernetes Indexed Job, set LOADGEN_SHARDS to the completions count:
each pod takes shard JOB_COMPLETION_INDEX/LOADGEN_SHARDS (unless -shard is
given), sends 1/N of the rate (each pod runs its own -workers in the closed
model) and sets up its own customers. Give all pods the same LOADGEN_RUN_ID
and -out directories of their own, then merge them with 'loadgen report'.

The first SIGTERM or SIGINT stops sending, lets in-flight requests finish
within -drain-timeout, prints and writes the summary and exits 1.

Thresholds decide the exit code, as in k6. Without any -threshold, the
default ` + load.DefaultThresholds + ` applies: a run in which no request
succeeded, or none was answered, fails; any other error rate passes, with a
warning on stderr. Gate the error rate you accept with -threshold
'error_rate<…'.

Exit codes: 0 the run completed and every threshold and -verify held,
4 a threshold or -verify failed, 1 failure or interruption, 2 usage.`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… loadgen run -api-url http://127.0.0.1:8080 -rate 500/s -duration 1m -setup 200 -verify -threshold 'error_rate<1%'",
			"loadgen run -stages 30s@100,2m@2000,30s@0 -threshold 'p99<250ms' -threshold 'error_rate<0.1%' -threshold 'rate>1900/s' -out results",
			"loadgen run -rate 0 -workers 64 -duration 30s -setup 10 -threshold 'error_rate<1%'",
			"loadgen run -source parquet:testdata/sample/parquet -rate 1000 -metrics-addr :9090 -threshold 'error_rate<0.1%'",
		},
		Flags: fs,
		Exec: cli.NoArgs(func(ctx context.Context) error {
			p, err := o.validate(a, fs)
			if err != nil {
				return err
			}
			return o.run(ctx, a, p)
		}),
	}
}

// validate checks every flag before any I/O and reports every problem at
// once.
func (o *runOptions) validate(a *app, fs *flag.FlagSet) (*plan, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	p := &plan{}
	errs = append(errs, o.API.Validate())
	var err error
	if p.percentiles, err = o.report.parse(); err != nil {
		errs = append(errs, err)
	}
	if p.shard, err = o.resolveShard(a, given); err != nil {
		errs = append(errs, err)
	}
	if err := o.resolveSchedule(p, given); err != nil {
		errs = append(errs, err)
	}
	if o.maxInFlight < 1 {
		errs = append(errs, cli.Usagef("-max-inflight %d: must be at least 1", o.maxInFlight))
	}
	if o.workers < 0 {
		errs = append(errs, cli.Usagef("-workers %d: must be at least 1", o.workers))
	}
	if o.connections < 0 {
		errs = append(errs, cli.Usagef("-connections %d: must be at least 1", o.connections))
	}
	if o.timeout <= 0 {
		errs = append(errs, cli.Usagef("-timeout: must be positive"))
	}
	if o.src.Source != "" {
		if given["setup"] {
			errs = append(errs, cli.Usagef("-setup and -source exclude each other: -source sends the source's events"))
		}
		if o.verify {
			errs = append(errs, cli.Usagef("-verify needs the synthetic events of -setup: the usage of -source's subscriptions is not this run's alone"))
		}
		var shard source.Shard
		if p.shard.Count > 1 { // a shard reads its own part
			shard = p.shard
		}
		spec, err := o.src.Spec(source.Window{}, shard)
		errs = append(errs, err)
		p.spec = &spec
	} else if o.setup < 1 {
		errs = append(errs, cli.Usagef("-setup %d: synthetic events need at least 1 customer", o.setup))
	}
	if err := cli.CheckProgress(o.progress); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, cli.CheckHTTPURL("pushgateway", o.pushgateway))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.runID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		o.runID = "lg-" + hex.EncodeToString(b[:])
	}
	p.idPrefix = fmt.Sprintf("%s-%d-", o.runID, p.shard.Index)
	return p, nil
}

// resolveShard reads -shard, or else JOB_COMPLETION_INDEX and
// LOADGEN_SHARDS, as a Kubernetes Indexed Job sets them; 0/1 without
// either.
func (o *runOptions) resolveShard(a *app, given map[string]bool) (source.Shard, error) {
	if given["shard"] {
		return o.shard, nil
	}
	s, err := cli.ShardFromEnv(a.Getenv, "LOADGEN_SHARDS")
	if s.Count == 0 {
		s = source.Shard{Index: 0, Count: 1}
	}
	return s, err
}

// resolveSchedule turns -rate, -duration and -stages into the open
// model's schedule for this shard, or nil for the closed model.
func (o *runOptions) resolveSchedule(p *plan, given map[string]bool) error {
	share := 1 / float64(max(p.shard.Count, 1))
	if o.stages != "" {
		if given["rate"] || given["duration"] {
			return cli.Usagef("-stages replaces -rate and -duration: give one or the other")
		}
		sch, err := load.ParseStages(o.stages)
		if err != nil {
			return cli.Usagef("-stages: %v", err)
		}
		if p.schedule, err = sch.Scale(share); err != nil {
			return cli.Usagef("-stages: %v", err)
		}
		return nil
	}
	if o.rate == 0 {
		if given["max-inflight"] {
			return cli.Usagef("-max-inflight applies to the open model; the closed model (-rate 0) has -workers in flight")
		}
		return nil
	}
	sch, err := load.Constant(float64(o.rate)*share, time.Duration(o.duration))
	if err != nil {
		return cli.Usagef("-rate: %v", err)
	}
	p.schedule = sch
	return nil
}
