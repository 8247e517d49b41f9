package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/outcome"
	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/source"
)

type replayOptions struct {
	common
	src          sourceFlags
	rate         cli.Rate
	concurrency  int
	checkpoint   string
	cpName       string
	cpEvery      cli.Duration
	restart      bool
	deadLetter   string
	dryRun       bool
	maxAge       cli.Duration
	allowOld     bool
	drainTimeout cli.Duration
	stallTimeout cli.Duration
	failFast     cli.Duration
	failFastN    int
	maxRetryAft  cli.Duration
	acceptDL     bool
	dlName       string
	summary      string
	progress     string
	push         pushFlag
}

func newReplayCmd(a *app) *cli.Command {
	o := &replayOptions{rate: 500, drainTimeout: cli.Duration(replay.DefaultDrainTimeout), cpEvery: cli.Duration(replay.DefaultCheckpointEvery),
		stallTimeout: cli.Duration(replay.DefaultStallTimeout), failFast: cli.Duration(replay.DefaultFailFast),
		maxRetryAft: cli.Duration(replay.DefaultMaxRetryAfter)}
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	o.register(fs)
	o.src.register(fs)
	cli.Var(fs, &o.rate, "rate", "RECONCILE_RATE", "requests per second over all workers: `N/s`, N/m, or 0 for unlimited")
	cli.Int(fs, &o.concurrency, "concurrency", "RECONCILE_CONCURRENCY", replay.DefaultConcurrency, "`workers` sending at once")
	cli.String(fs, &o.checkpoint, "checkpoint", "RECONCILE_CHECKPOINT", "",
		"save progress to this `file`, or to a table of this postgres:// database (password from PGPASSWORD or\n"+
			"~/.pgpass rather than the URL); an existing checkpoint is resumed")
	cli.String(fs, &o.cpName, "checkpoint-name", "RECONCILE_CHECKPOINT_NAME", "",
		"row `name` in a Postgres checkpoint table (default: derived from the source, shard and window)")
	cli.Var(fs, &o.cpEvery, "checkpoint-every", "RECONCILE_CHECKPOINT_EVERY", "save the checkpoint this often (`duration`), and at the end")
	cli.Bool(fs, &o.restart, "restart", "RECONCILE_RESTART", false, "ignore an existing checkpoint and start from the beginning")
	cli.String(fs, &o.deadLetter, "dead-letter", "RECONCILE_DEAD_LETTER", "dead-letter.jsonl",
		"append records that could not be delivered, with their reason and position, to this JSONL `file`, or to a table of\n"+
			"this postgres:// database (table billharness_dead_letters, rows named by -dead-letter-name)")
	cli.Bool(fs, &o.dryRun, "dry-run", "RECONCILE_DRY_RUN", false, "read and validate everything and report counts; send nothing")
	cli.Var(fs, &o.maxAge, "max-age", "RECONCILE_MAX_AGE",
		"dead-letter events older than this `duration` (e.g. 35d: the target's deduplication window) unless -allow-old")
	cli.Bool(fs, &o.allowOld, "allow-old", "RECONCILE_ALLOW_OLD", false, "send events older than -max-age anyway")
	cli.Var(fs, &o.drainTimeout, "drain-timeout", "RECONCILE_DRAIN_TIMEOUT", "after SIGTERM/SIGINT, let in-flight requests finish for this `duration`")
	cli.Var(fs, &o.stallTimeout, "stall-timeout", "RECONCILE_STALL_TIMEOUT",
		"stop with an error naming the record when the checkpoint has not moved for this `duration` while a record is outstanding")
	cli.Var(fs, &o.failFast, "fail-fast", "RECONCILE_FAIL_FAST",
		"stop (exit 1, nothing dead-lettered) when no event has got through for this `duration`: the target is down")
	cli.Int(fs, &o.failFastN, "fail-fast-rejections", "RECONCILE_FAIL_FAST_REJECTIONS", replay.DefaultFailFastRejections,
		"stop (exit 1, nothing dead-lettered) after this many consecutive events refused the same way: the wrong target, or one that lost its catalog")
	cli.Var(fs, &o.maxRetryAft, "max-retry-after", "RECONCILE_MAX_RETRY_AFTER",
		"the longest Retry-After (`duration`) to wait for; a 429 asking for longer stops the run with an error")
	cli.String(fs, &o.dlName, "dead-letter-name", "RECONCILE_DEAD_LETTER_NAME", "",
		"with -dead-letter postgres://…, or re-driving one, the `name` letters are kept under in the table (default: derived from the source, shard and window)")
	cli.Bool(fs, &o.acceptDL, "accept-dead-letters", "RECONCILE_ACCEPT_DEAD_LETTERS", false,
		"exit 0 even though the -dead-letter file holds letters of earlier runs (or, re-driving, letters that cannot be re-sent)")
	cli.String(fs, &o.summary, "summary", "RECONCILE_SUMMARY", "", "also write the final summary as JSON to this `file`")
	cli.String(fs, &o.progress, "progress", "RECONCILE_PROGRESS", "auto",
		"`mode`: live (a status line on stderr), log (slog lines every few seconds), off, or auto (live on a terminal)")
	o.push.register(fs)
	return &cli.Command{
		Name:    "replay",
		Summary: "backfill usage events from Parquet or Postgres into POST /v1/events",
		Description: `Replay reads usage events from Parquet files or a Postgres table and sends
each one to POST /v1/events with the event id as its Idempotency-Key:
rate-limited over all workers, retried on 429, 5xx and broken connections,
and counted once by the API however often it is sent.

Outcomes are counted apart: accepted, duplicate (the API had it already),
rejected (4xx, with the server's reason), failed (still failing after the
retries), invalid (the record failed validation) and too old (-max-age).
Every record not delivered is appended to the -dead-letter file with its
reason and position; nothing is dropped silently. Copies of one event id
are sent one at a time in source order, so the API keeps the first; a later
copy with another payload is a conflicting duplicate. Re-drive the letters
of records that kept failing with -source deadletter:FILE: they are sent
again, and FILE keeps only what is still undelivered (the old file stays
beside it as FILE.redriven-TIME). A run whose -dead-letter file holds
letters of earlier runs exits 1 until they are re-driven or accepted
(-accept-dead-letters).

When the target is down (no event gets through for -fail-fast) or refuses
every event the same way (-fail-fast-rejections in a row: the wrong
environment, or a target that lost its catalog), the run stops with the
cause, dead-letters none of those events and leaves them for the resumed
run. A record that holds the checkpoint back for -stall-timeout stops the
run, named.

With -checkpoint, progress is saved every few seconds and at the end as the
position below which every record is done (workers finish out of order),
atomically to a file or to a Postgres table, with what it covered: the
rows, and each Parquet file's path, size, row count and footer hash. A run
that finds a checkpoint resumes after it: it skips exactly what the
checkpoint covered and sends what arrived since (Parquet files added
anywhere, PostgreSQL rows that appeared at or before the position, for
which the window is read again), and refuses (exit 2) a source that
changed under the checkpoint until -restart. Events just above it may be
sent again, and the API deduplicates them. One run at a time holds the
checkpoint and the dead-letter file (a lock beside each, or an advisory
lock in PostgreSQL); a second is refused with exit 2 naming the holder. The first SIGTERM or SIGINT stops reading, lets the
requests in flight finish within -drain-timeout, writes the checkpoint and
exits 1; a second one exits at once.

In a Kubernetes Indexed Job, each pod replays shard
JOB_COMPLETION_INDEX/RECONCILE_SHARDS unless -shard is given, with a
checkpoint of its own: the default -checkpoint-name derives from the
source, the shard and the window. With -pushgateway, the outcome and the
events replayed are pushed at the end (not for -dry-run).

Exit 0 means "delivered": every record read was accepted by the API or
was already there. It cannot prove "counted": an API restored from a
backup after the replay forgets what it was sent. Only verify proves the
totals; run it (with -heal) after every backfill, as the month-end job in
jobs/ does.

Exit codes: 0 every record delivered (or a clean dry run); 1 some records
were dead-lettered (now or by earlier runs, not re-driven), the run was
interrupted, stopped on a systemic failure or a stuck record, or it failed;
2 usage, a checkpoint that does not match the source, or a checkpoint or
dead-letter file in use by another run.`,
		Examples: []string{
			"BILLING_TOKEN=bsk_test_… reconcile replay -api-url http://127.0.0.1:8080 -source parquet:testdata/sample/parquet",
			"reconcile replay -source 'parquet:/data/events/dt=2026-10-*' -rate 1000/s -concurrency 64 -checkpoint replay.ckpt",
			"reconcile replay -source 'parquet:s3://usage-exports/usage/dt=2026-10-*/' -shard 0/8 -checkpoint postgres://ckpt@db/ops",
			"reconcile replay -source parquet:s3://usage/2026/10/ -s3-endpoint https://minio.storage:9000 -s3-path-style -dry-run",
			"reconcile replay -source postgres://reader@db/usage -window 2026-10-01..2026-11-01 -shard 2/8 -checkpoint postgres://ckpt@db/ops",
			"reconcile replay -source parquet:events.parquet -map id=event_id,timestamp=ts -properties input_tokens,model -dry-run",
			"reconcile replay -source deadletter:dead-letter.jsonl -rate 200/s",
		},
		Flags: fs,
		Exec: cli.NoArgs(func(ctx context.Context) error {
			return o.run(ctx, a)
		}),
	}
}

func (o *replayOptions) validate(a *app) (source.Spec, error) {
	var errs []error
	spec, err := o.src.spec(a.Getenv)
	errs = append(errs, err)
	if !o.dryRun {
		errs = append(errs, o.API.Validate())
	}
	if o.concurrency <= 0 {
		errs = append(errs, cli.Usagef("-concurrency %d: must be at least 1", o.concurrency))
	}
	if err := cli.CheckProgress(o.progress); err != nil {
		errs = append(errs, err)
	}
	if o.deadLetter == "" && !o.dryRun {
		errs = append(errs, cli.Usagef("-dead-letter: a file is required"))
	}
	// Every file the run writes is checked before the first request.
	if o.summary != "" {
		errs = append(errs, cli.CheckWritable("summary", o.summary))
	}
	if !o.dryRun && o.deadLetter != "" && !replay.IsPostgresURL(o.deadLetter) {
		errs = append(errs, cli.CheckWritable("dead-letter", o.deadLetter))
	}
	if !o.dryRun && o.checkpoint != "" && !replay.IsPostgresURL(o.checkpoint) {
		errs = append(errs, cli.CheckWritable("checkpoint", o.checkpoint))
	}
	errs = append(errs, o.push.validate())
	return spec, errors.Join(errs...)
}

func (o *replayOptions) run(ctx context.Context, a *app) error {
	spec, err := o.validate(a)
	if err != nil {
		return err
	}
	log := o.logger(a)
	st, completed, err := o.send(ctx, a, spec, log)
	if !o.dryRun { // a dry run's success is no replay's
		oc := outcome.Outcome{Command: "replay", ExitStatus: cli.ExitCode(err), Completed: completed,
			Shard: spec.Shard.String()}
		if st != nil {
			oc.Replayed = &outcome.Replayed{Accepted: st.Accepted, Duplicate: st.Duplicate, DeadLettered: st.DeadLettered}
		}
		o.push.push(ctx, log, oc)
	}
	return err
}

// send replays spec's events. It returns the statistics (nil when it
// failed before replaying), and whether the replay went through all its
// input (dead letters or not).
func (o *replayOptions) send(ctx context.Context, a *app, spec source.Spec, log *slog.Logger) (*replay.Stats, bool, error) {
	job := replay.Job{
		Spec: spec, Checkpoint: o.checkpoint, CheckpointName: o.cpName, Restart: o.restart,
		DeadLetter: o.deadLetter, DeadLetterName: o.dlName, AcceptEarlier: o.acceptDL,
		Engine: replay.Config{
			Concurrency: o.concurrency, DryRun: o.dryRun, MaxAge: time.Duration(o.maxAge), AllowOld: o.allowOld,
			DrainTimeout: time.Duration(o.drainTimeout), StallTimeout: time.Duration(o.stallTimeout),
			FailFast: time.Duration(o.failFast), FailFastRejections: o.failFastN,
			Logger: log, CheckpointEvery: time.Duration(o.cpEvery), Progress: cli.ProgressFunc[replay.Progress](o.progress, a.Stderr, log, 1),
		},
	}
	if !o.dryRun {
		cfg, err := o.clientConfig(a, false)
		if err != nil {
			return nil, false, err
		}
		cfg.MaxRetryAfter = time.Duration(o.maxRetryAft)
		stop := logPauses(&cfg, log)
		defer stop()
		if job.Engine.Client, err = eventClient(cfg, o.rate, o.concurrency); err != nil {
			return nil, false, err
		}
	}
	res, err := job.Do(ctx)
	if st := res.Stats; st != nil {
		st.WriteText(a.Stdout, o.dryRun)
		if o.summary != "" {
			err = errors.Join(err, st.WriteJSON(o.summary))
		}
	}
	if res.Redrive != "" {
		fmt.Fprintln(a.Stdout, res.Redrive)
	}
	return res.Stats, res.Completed, replayErr(err)
}

// replayErr makes a replay that refused to start a usage error (exit 2).
func replayErr(err error) error {
	if r := (*replay.RefusedError)(nil); errors.As(err, &r) {
		return &cli.UsageError{Err: err}
	}
	return err
}

// logPauses logs the API's long 429 pauses and their ends. The end is
// logged by a timer, which must not outlive the run: stop, under mu, turns
// the late ones into no-ops.
func logPauses(cfg *billing.Config, log *slog.Logger) (stop func()) {
	var mu sync.Mutex
	ended := false
	cfg.OnPause = func(until time.Time, d time.Duration) {
		if d < time.Second { // a throttling gateway's short pauses are not news
			return
		}
		log.Warn("the API asked every request to wait (429 Retry-After)", "for", d.String(), "until", until.UTC().Format(time.RFC3339))
		time.AfterFunc(time.Until(until), func() {
			mu.Lock()
			defer mu.Unlock()
			if !ended {
				log.Info("the API's pause is over", "was", d.String())
			}
		})
	}
	return func() { mu.Lock(); ended = true; mu.Unlock() }
}

// eventClient is the client of a replay: r events/s at most (0: no limit,
// with bursts of 1% of the rate) over as many connections as workers.
func eventClient(cfg billing.Config, r cli.Rate, workers int) (*billing.Client, error) {
	cfg.Limit(float64(r), 100, workers)
	return billing.New(cfg)
}
