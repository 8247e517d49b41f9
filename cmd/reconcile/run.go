package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/replay"
)

// runOptions are the flags of run.
type runOptions struct {
	checkOptions
	replay      bool
	bill        bool
	replayFlags runReplay
	// drainTimeout bounds the replay step's drain after a signal.
	drainTimeout cli.Duration
}

func newRunCmd(a *app) *cli.Command {
	o := &runOptions{checkOptions: checkOptions{rate: 100}}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	o.register(fs)
	o.registerBill(fs)
	cli.Bool(fs, &o.replay, "replay", "RECONCILE_REPLAY", false, "first replay the source's events into the API (undelivered ones to OUT/dead-letter.jsonl)")
	o.replayFlags.register(fs)
	o.drainTimeout = cli.Duration(replay.DefaultDrainTimeout)
	cli.Var(fs, &o.drainTimeout, "drain-timeout", "RECONCILE_DRAIN_TIMEOUT",
		"with -replay, after SIGTERM/SIGINT let in-flight requests finish for this `duration`, then write the report")
	cli.Bool(fs, &o.bill, "bill", "RECONCILE_BILL", false, "bill the subscriptions after verifying, and check the invoices")
	o.billFlag = &o.bill
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
		Exec: cli.NoArgs(func(ctx context.Context) error {
			if !o.bill && (o.onlyMatched || o.finalize) {
				return cli.Usagef("-only-matched and -finalize need -bill")
			}
			c, err := o.prepare(a, "run")
			if err != nil {
				return err
			}
			var stats *replay.Stats
			var replayErr error
			if o.replay {
				c.log.Info("replaying", "source", c.source)
				stats, replayErr = o.replayStep(ctx, a, c.spec, c.log)
				if replayErr != nil && !errors.Is(replayErr, replay.ErrDeadLettered) {
					return o.finish(ctx, a, c, nil, fmt.Errorf("replay: %w", replayErr), stats)
				}
			}
			res, err := o.verifyAndBill(ctx, c, o.bill)
			return o.finish(ctx, a, c, res, errors.Join(replayErr, err), stats)
		}),
	}
}
