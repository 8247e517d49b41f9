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
// ones to OUT/dead-letter.jsonl. Re-running a month is safe: the API counts
// an event id once. It returns statistics for the reports and an error:
// one wrapping cli.ErrDeadLettered lets the run carry on to verify (it
// still exits 1), any other stops it.
func (o *runOptions) replayStep(ctx context.Context, a *app, spec source.Spec, log *slog.Logger) (any, error) {
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
	dl, err := replay.OpenDeadLetter(filepath.Join(o.out, "dead-letter.jsonl"))
	if err != nil {
		return nil, err
	}
	defer dl.Close()
	src, err := source.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	st, err := replay.Run(ctx, replay.Config{
		Source: src, Client: client, DeadLetter: dl, Concurrency: o.replayFlags.concurrency, Logger: log,
		DrainTimeout:  time.Duration(o.drainTimeout),
		ProgressEvery: 5 * time.Second,
		Progress: func(p replay.Progress) {
			if !p.Final {
				logReplayProgress(log, p)
			}
		},
	})
	if err != nil {
		return st, err
	}
	if st.DeadLettered > 0 {
		return st, fmt.Errorf("%w: %d records, see %s", cli.ErrDeadLettered, st.DeadLettered, dl.Path())
	}
	return st, nil
}
