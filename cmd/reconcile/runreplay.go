package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/source"
)

// runReplay holds run's replay step flags: its own rate and workers, since
// sending events and verifying usage have different budgets.
type runReplay struct {
	rate        cli.Rate
	concurrency int
}

func (r *runReplay) register(fs *flag.FlagSet) {
	r.rate = 500
	cli.Var(fs, &r.rate, "replay-rate", "RECONCILE_REPLAY_RATE", "with -replay, events per second: `N/s`, or 0 for unlimited")
	cli.Int(fs, &r.concurrency, "replay-concurrency", "RECONCILE_REPLAY_CONCURRENCY", replay.DefaultConcurrency, "with -replay, `workers` sending at once")
}

// replayStep is run's replay step: the events of spec (the source, with the
// window and the shard as the flags give them) into the API, undelivered
// ones to OUT/dead-letter.jsonl, through the replay command's own job
// (without a checkpoint). Re-running a month is safe: the API counts an
// event id once. It returns statistics for the reports and an error: one
// wrapping replay.ErrDeadLettered lets the run carry on to verify (it
// still exits 1), any other stops it.
func (o *runOptions) replayStep(ctx context.Context, a *app, spec source.Spec, log *slog.Logger) (*replay.Stats, error) {
	cfg, err := o.clientConfig(a, false)
	if err != nil {
		return nil, err
	}
	client, err := eventClient(cfg, o.replayFlags.rate, o.replayFlags.concurrency)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", o.out, err)
	}
	res, err := replay.Job{
		Spec: spec, DeadLetter: filepath.Join(o.out, "dead-letter.jsonl"), AcceptEarlier: true,
		Engine: replay.Config{
			Client: client, Concurrency: o.replayFlags.concurrency, Logger: log,
			DrainTimeout: time.Duration(o.drainTimeout), ProgressEvery: 5 * time.Second,
			Progress: cli.ProgressFunc[replay.Progress]("log", nil, log, 1),
		},
	}.Do(ctx)
	return res.Stats, replayErr(err)
}
