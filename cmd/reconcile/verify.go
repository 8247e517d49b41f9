package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/reconcile"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/report"
	"github.com/billharness/billharness/internal/source"
)

const checkHelp = `Expected totals: the source is read once (with -shard, only the shard's
customers' events are decoded, and only their subscriptions compared), and
every row the source declares must be accounted for, or the run fails. Past
half of -memory-limit the scan spills its events to -work-dir by id and
counts one partition at a time: the same answer in bounded memory. An event id counts once. Meters are
each plan's, as GET /v1/subscriptions/{id}/usage reports them, or those of
-meters FILE, a JSON array of {"name","event_type","property","aggregation"}.

Classes: match; under (the API has less: usage lost); over (more: counted
twice); missing (the subscription or meter is not in the API); unexpected
(API usage with no source events); error (the API call failed after
retries); uncountable (values the API counts as zero, or negative: both
sides agree, revenue is lost all the same). -tolerance abs=N,rel=P% (and "; METER:abs=…" per meter, by name
or property) widens match; the default is exact. -settle re-polls the
mismatched subscriptions for ingestion lag; a pair still rising when it
runs out is reported "not yet reflected". -heal re-sends the events of under
subscriptions with their own ids (the API deduplicates them, so over pairs
never grow) and verifies them again.

Reports go to -out: summary.json, discrepancies.csv, discrepancies.jsonl,
report.md and a self-contained report.html.`

// checkOptions are the flags of verify, bill and run.
type checkOptions struct {
	common
	src         sourceFlags
	from, to    string
	meters      string
	tolerance   reconcile.Tolerance
	settle      cli.Duration
	heal        bool
	concurrency int
	memoryLimit cli.Bytes
	workDir     string
	pushdown    string
	rate        cli.Rate
	out         string
	runID       string
	push        pushFlag

	billing     bool  // bill, and the bill flags below are defined
	billFlag    *bool // run's -bill; nil: the command always bills
	period      source.Window
	onlyMatched bool
	finalize    bool
}

func (o *checkOptions) register(fs *flag.FlagSet) {
	o.common.register(fs)
	o.src.register(fs)
	cli.String(fs, &o.from, "from", "RECONCILE_FROM", "", "window `start` (date or RFC 3339), with -to: another way to give -window")
	cli.String(fs, &o.to, "to", "RECONCILE_TO", "", "window `end` (excluded)")
	cli.String(fs, &o.meters, "meters", "RECONCILE_METERS", "", "JSON `file` of meters to compare (default: each plan's meters, from the API)")
	cli.Var(fs, &o.tolerance, "tolerance", "RECONCILE_TOLERANCE", "how far apart still matches: `abs=N,rel=P%[;METER:abs=N,rel=P%…]`")
	cli.Var(fs, &o.settle, "settle", "RECONCILE_SETTLE", "re-poll mismatched subscriptions for up to this `duration` (ingestion lag)")
	cli.Bool(fs, &o.heal, "heal", "RECONCILE_HEAL", false, "re-send the source events of under subscriptions, then verify them again")
	cli.Int(fs, &o.concurrency, "concurrency", "RECONCILE_CONCURRENCY", reconcile.DefaultConcurrency, "API `calls` in flight")
	cli.Var(fs, &o.memoryLimit, "memory-limit", "RECONCILE_MEMORY_LIMIT", "memory `size` the scan stays within, e.g. 512MiB; above it events spill to -work-dir by id (default: GOMEMLIMIT when set, else 512MiB)")
	cli.String(fs, &o.pushdown, "pushdown", "RECONCILE_PUSHDOWN", reconcile.PushdownAuto, "compute the totals in PostgreSQL, one row per (subscription, customer, event type) on the wire: `mode` auto (when the properties are jsonb in a UTF-8 database), on or off")
	cli.String(fs, &o.workDir, "work-dir", "RECONCILE_WORK_DIR", "", "`directory` for spill files, removed at the end (default: the system's temporary directory)")
	cli.Var(fs, &o.rate, "rate", "RECONCILE_RATE", "API requests per second over all calls: `N/s`, N/m, or 0 for unlimited")
	cli.String(fs, &o.out, "out", "RECONCILE_OUT", "out/reconcile", "write the reports to this `directory`")
	cli.String(fs, &o.runID, "run-id", "RECONCILE_RUN_ID", "", "`name` of the run in the reports (default: rc-<UTC time>-<random>)")
	o.push.register(fs)
}

// bills reports whether the command will bill.
func (o *checkOptions) bills() bool { return o.billing && (o.billFlag == nil || *o.billFlag) }

// registerBill defines the flags of billing.
func (o *checkOptions) registerBill(fs *flag.FlagSet) {
	o.billing = true
	cli.Var(fs, &o.period, "period", "RECONCILE_PERIOD", "billing period `FROM..TO` (default: the window; it must equal it)")
	cli.Bool(fs, &o.onlyMatched, "only-matched", "RECONCILE_ONLY_MATCHED", false, "bill only the subscriptions whose every pair matched")
	cli.Bool(fs, &o.finalize, "finalize", "RECONCILE_FINALIZE", false, "finalize each draft invoice (Draft → Open, numbered)")
}

// check is a validated configuration, ready to run.
type check struct {
	cmd    string
	spec   source.Spec // with the window, and the shard as the flags give it
	cfg    reconcile.Config
	period billing.Period
	log    *slog.Logger
	runID  string
	source string // for the reports, without a password
	target string
}

// prepare validates every flag, reporting all problems at once, then reads
// the meters file and the token, before any network I/O.
func (o *checkOptions) prepare(a *app, cmd string) (*check, error) {
	var errs []error
	spec, err := o.src.spec(a.Getenv)
	errs = append(errs, err)
	if spec.Kind == source.KindDeadLetter {
		errs = append(errs, cli.Usagef("-source deadletter:… holds the records a replay could not deliver, not the usage to compare: "+
			"re-drive it with reconcile replay, and verify against the source itself"))
	}
	errs = append(errs, o.API.Validate())
	switch o.pushdown {
	case reconcile.PushdownAuto, reconcile.PushdownOff:
	case reconcile.PushdownOn:
		if spec.Kind != source.KindPostgres {
			errs = append(errs, cli.Usagef("-pushdown on needs a postgres:// source"))
		}
	default:
		errs = append(errs, cli.Usagef("-pushdown %q: want auto, on or off", o.pushdown))
	}
	window := o.src.window
	switch {
	case o.from != "" || o.to != "":
		if !window.IsZero() {
			errs = append(errs, cli.Usagef("give -window or -from and -to, not both"))
			break
		}
		w, err := source.ParseWindow(o.from + ".." + o.to)
		if err != nil {
			errs = append(errs, cli.Usagef("-from/-to: %v", err))
		}
		window = w
	}
	period := billing.Period{Start: o.period.From, End: o.period.To}
	if o.billing && !o.period.IsZero() {
		switch {
		case window.IsZero():
			window = source.Window{From: period.Start, To: period.End}
		case !window.From.Equal(period.Start) || !window.To.Equal(period.End):
			errs = append(errs, cli.Usagef("-period %s differs from the window: invoices are checked against the window's totals", o.period))
		}
	}
	switch {
	case window.IsZero():
		or := ""
		if o.billing {
			or = ", or -period"
		}
		errs = append(errs, cli.Usagef("no window: set -window FROM..TO (or -from and -to%s)", or))
	case !window.Closed() && (o.from != "" || o.to != ""):
		errs = append(errs, cli.Usagef("-from/-to: a comparison needs both"))
	case !window.Closed():
		errs = append(errs, cli.Usagef("-window %s: a comparison needs both ends", window))
	}
	period = billing.Period{Start: window.From, End: window.To}
	if o.bills() && window.Closed() && !billing.IsCycle(period) {
		errs = append(errs, cli.Usagef("window %s: a billing period is one calendar month in UTC (e.g. -period 2026-10-01..2026-11-01): invoices are checked against the window's totals", window))
	}
	if o.concurrency < 1 {
		errs = append(errs, cli.Usagef("-concurrency %d: must be at least 1", o.concurrency))
	}
	if o.out == "" {
		errs = append(errs, cli.Usagef("-out: a directory is required"))
	} else {
		errs = append(errs, cli.CheckWritableDir("out", o.out))
	}
	errs = append(errs, o.push.validate())
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &check{cmd: cmd, spec: spec, period: period, log: o.logger(a), runID: o.runID, source: source.RedactDSN(o.src.Source), target: o.API.URL}
	c.spec.Window = window
	if c.runID == "" {
		c.runID = report.NewRunID(time.Now())
	}
	var meters []reconcile.Meter
	if o.meters != "" {
		if meters, err = reconcile.LoadMeters(o.meters); err != nil {
			return nil, cli.Usagef("-meters: %v", err)
		}
	}
	bc, err := o.clientConfig(a, false)
	if err != nil {
		return nil, err
	}
	bc.Limit(float64(o.rate), 10, o.concurrency)
	client, err := billing.New(bc)
	if err != nil {
		return nil, err
	}
	c.cfg = reconcile.Config{
		Client: client, Source: c.spec, Window: window, Shard: spec.Shard, Meters: meters, Tolerance: o.tolerance,
		Concurrency: o.concurrency, Settle: time.Duration(o.settle), Heal: o.heal, Logger: c.log,
		MemoryLimit: reconcile.MemoryBudget(int64(o.memoryLimit)), WorkDir: o.workDir, Pushdown: o.pushdown,
	}
	return c, nil
}

// check runs verify (or bill, with bill set) to the end: the comparison,
// billing, the reports and the outcome.
func (o *checkOptions) check(ctx context.Context, a *app, cmd string, bill bool) error {
	c, err := o.prepare(a, cmd)
	if err != nil {
		return err
	}
	res, err := o.verifyAndBill(ctx, c, bill)
	return o.finish(ctx, a, c, res, err, nil)
}

// verifyAndBill runs the comparison, then billing when bill is set.
func (o *checkOptions) verifyAndBill(ctx context.Context, c *check, bill bool) (*reconcile.Result, error) {
	res, err := reconcile.Verify(ctx, c.cfg)
	if err != nil || !bill {
		return res, err
	}
	err = reconcile.Bill(ctx, res, reconcile.BillConfig{
		Client: c.cfg.Client, Period: c.period, OnlyMatched: o.onlyMatched, Finalize: o.finalize,
		Concurrency: o.concurrency, Logger: c.log,
	})
	return res, err
}

// verdict maps a finished comparison to the command's error: a failure
// (run error, calls that failed) wins over discrepancies, which exit 3.
func verdict(res *reconcile.Result, runErr error) error {
	errs := []error{runErr}
	if res != nil {
		if n := res.Errors(); n > 0 {
			errs = append(errs, fmt.Errorf("%d pairs or invoices could not be compared: the API call failed", n))
		}
		if n := res.Mismatches(); n > 0 {
			subs := map[string]bool{}
			for _, p := range res.Discrepancies {
				subs[p.SubscriptionID] = true
			}
			errs = append(errs, fmt.Errorf("%w: %d pairs or invoice lines differ, in %d subscriptions", cli.ErrDiscrepancies, n, len(subs)))
		}
	}
	return errors.Join(errs...)
}

// finish writes the reports, prints the summary and pushes the outcome,
// and returns the command's error.
func (o *checkOptions) finish(ctx context.Context, a *app, c *check, res *reconcile.Result, runErr error, replayed *replay.Stats) error {
	rep, err := o.report(a, c, res, runErr, replayed)
	o.push.push(ctx, c.log, rep.Outcome(cli.ExitCode(err)))
	return err
}

// report writes the reports and prints the summary.
func (o *checkOptions) report(a *app, c *check, res *reconcile.Result, runErr error, replayed *replay.Stats) (*report.Report, error) {
	err := verdict(res, runErr)
	rep := &report.Report{
		RunID: c.runID, Command: c.cmd, GeneratedAt: time.Now().UTC(), Source: c.source, Target: c.target,
		Tolerance: o.tolerance.String(), Result: res, Window: c.cfg.Window, ExitStatus: cli.ExitCode(err),
	}
	if replayed != nil {
		rep.Replay = report.Replays{"": replayed}
	}
	if err != nil && rep.ExitStatus != cli.ExitDiscrepancies {
		rep.Error = err.Error()
	}
	files, werr := report.Write(o.out, rep)
	if werr != nil {
		return rep, errors.Join(err, werr)
	}
	if perr := report.WriteText(a.Stdout, rep, filepath.Join(o.out, report.HTMLFile)); perr != nil {
		return rep, errors.Join(err, perr)
	}
	c.log.Info("reports written", "dir", o.out, "files", len(files), "exit", rep.ExitStatus)
	return rep, err
}

func newVerifyCmd(a *app) *cli.Command {
	o := &checkOptions{rate: 100}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	o.register(fs)
	return &cli.Command{
		Name:    "verify",
		Summary: "compare source usage totals with the API's usage per subscription and meter",
		Description: `Verify computes, from the source, the exact quantity each subscription used
per meter over the window (Sum, Count, Max, UniqueCount, by the API's rules)
and compares it with GET /v1/subscriptions/<id>/usage for every subscription
in scope, concurrently and rate-limited, writing a discrepancy report.

` + checkHelp + `

Exit codes: 0 every pair matches within tolerance, 3 discrepancies found,
1 failure (including any API call that failed after retries, or a source
read short of what it declares), 2 usage.`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… reconcile verify -api-url http://127.0.0.1:8080 -source parquet:testdata/sample/parquet -window 2026-10-01..2026-11-01",
			"reconcile verify -source postgres://reader@db/usage -window 2026-10-01..2026-11-01 -tolerance 'abs=0;Peak Storage Bytes:rel=0.1%' -settle 2m",
			"reconcile verify -source 'parquet:/data/events/dt=2026-10-*' -from 2026-10-01 -to 2026-11-01 -shard 3/8 -out /reports/oct-3 -heal",
			"reconcile verify -source parquet:gs://usage-exports/usage/ -window last-month -out /reports/last-month",
		},
		Flags: fs,
		Exec:  cli.NoArgs(func(ctx context.Context) error { return o.check(ctx, a, "verify", false) }),
	}
}
