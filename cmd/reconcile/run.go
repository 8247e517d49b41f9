package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/source"
)

// replayInput is what the replay step of run gets: the client verify and
// bill use (rate limiter included), and the events to send.
type replayInput struct {
	Client *billing.Client
	// Spec is the source, with the window and the shard as the flags give
	// them (the shard by the source's own key, as replay splits it).
	Spec        source.Spec
	Concurrency int
	Logger      *slog.Logger
	App         *app
}

// replayStep runs the replay step of run. It returns statistics for the
// reports (anything that marshals to JSON) and an error: one wrapping
// cli.ErrDeadLettered lets the run carry on to verify (it still exits 1),
// any other stops it.
type replayStep func(ctx context.Context, in replayInput) (stats any, err error)

// runOptions are the flags of run.
type runOptions struct {
	checkOptions
	replay      bool
	bill        bool
	replayFlags runReplay
	// drainTimeout bounds the replay step's drain after a signal.
	drainTimeout cli.Duration
	// replayFn is the replay step: replayStep, or a test's own.
	replayFn replayStep
}

func newRunCmd(a *app) *cli.Command {
	o := &runOptions{checkOptions: checkOptions{rate: 100}}
	o.replayFn = o.replayStep
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	o.register(fs)
	o.registerBill(fs)
	cli.Bool(fs, &o.replay, "replay", "RECONCILE_REPLAY", false, "first replay the source's events into the API (undelivered ones to OUT/dead-letter.jsonl)")
	o.replayFlags.register(fs)
	o.drainTimeout = cli.Duration(replay.DefaultDrainTimeout)
	cli.Var(fs, &o.drainTimeout, "drain-timeout", "RECONCILE_DRAIN_TIMEOUT",
		"with -replay, after SIGTERM/SIGINT let in-flight requests finish for this `duration`, then write the report")
	cli.Bool(fs, &o.bill, "bill", "RECONCILE_BILL", false, "bill the subscriptions after verifying, and check the invoices")
	return &cli.Command{
		Name:    "run",
		Summary: "replay, settle, verify, bill and report, as one scheduled job",
		Description: `Run is the month-end job in one command: replay the source's events into
the API (-replay), wait for ingestion to settle (-settle), verify every
subscription's usage, heal lost usage (-heal), bill and check the invoices
(-bill), and write one report. Each step is as in the command of the same
name.

` + checkHelp + `

Exit codes: 0 everything matches within tolerance, 3 discrepancies found,
1 failure (including dead-lettered replay records, and API calls that
failed after retries), 2 usage.`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… reconcile run -api-url http://127.0.0.1:8080 -source parquet:testdata/sample/parquet -window 2026-10-01..2026-11-01",
			"reconcile run -source postgres://reader@db/usage -period 2026-10-01..2026-11-01 -replay -settle 5m -heal -bill -finalize -out /reports/2026-10",
		},
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected arguments: %s", strings.Join(args, " "))
			}
			if !o.bill && (o.onlyMatched || o.finalize) {
				return cli.Usagef("-only-matched and -finalize need -bill")
			}
			c, err := o.prepare(a, "run")
			if err != nil {
				return err
			}
			var stats any
			var replayErr error
			if o.replay {
				c.log.Info("replaying", "source", c.source)
				stats, replayErr = o.replayFn(ctx, replayInput{Client: c.cfg.Client, Spec: c.spec, Concurrency: o.concurrency, Logger: c.log, App: a})
				if replayErr != nil && !errors.Is(replayErr, cli.ErrDeadLettered) {
					return o.finish(ctx, a, c, nil, fmt.Errorf("replay: %w", replayErr), stats)
				}
			}
			res, err := o.verifyAndBill(ctx, c, o.bill)
			return o.finish(ctx, a, c, res, errors.Join(replayErr, err), stats)
		},
	}
}
