package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/billharness/billharness/internal/atomicfile"
	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/lock"
	"github.com/billharness/billharness/internal/outcome"
	"github.com/billharness/billharness/internal/progress"
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
		maxRetryAft: cli.Duration(DefaultMaxRetryAfter)}
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
		Exec: func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected arguments: %s", strings.Join(args, " "))
			}
			return o.run(ctx, a)
		},
	}
}

func (o *replayOptions) validate(a *app) (source.Spec, error) {
	var errs []error
	spec, err := o.src.spec(a.getenv)
	errs = append(errs, err)
	if !o.dryRun {
		errs = append(errs, o.api.Validate())
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
	if !o.dryRun && o.deadLetter != "" && !isPostgresURL(o.deadLetter) {
		errs = append(errs, cli.CheckWritable("dead-letter", o.deadLetter))
	}
	if !o.dryRun && o.checkpoint != "" && !isPostgresURL(o.checkpoint) {
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
	var cfg billing.Config
	var err error
	if !o.dryRun {
		if cfg, err = o.clientConfig(a, false); err != nil {
			return nil, false, err
		}
	}
	dlPath := o.deadLetter
	var table *replay.PGLetters // the dead-letter table written, or re-driven
	openTable := func(dsn, table, name string) (*replay.PGLetters, error) {
		t, err := replay.PostgresLetters{DSN: dsn, Table: table, Name: name}.Open(ctx)
		if errors.Is(err, lock.ErrHeld) {
			return nil, cli.Usagef("%w", err)
		}
		return t, err
	}
	switch {
	case spec.Kind == source.KindDeadLetter && !o.dryRun && o.checkpoint != "":
		return nil, false, cli.Usagef("-checkpoint does not apply to a re-drive (-source deadletter:…): it is short, and safe to repeat")
	case spec.Kind == source.KindDeadLetter && !o.dryRun && spec.DSN != "":
		if o.dlName == "" {
			return nil, false, cli.Usagef("-dead-letter-name: re-driving a dead-letter table needs the name its letters are kept under")
		}
		if table, err = openTable(spec.DSN, spec.Table, o.dlName); err != nil {
			return nil, false, err
		}
		defer table.Close()
		spec.Letters, spec.LettersUpTo = o.dlName, table.MaxSeq()
	case spec.Kind == source.KindDeadLetter && spec.DSN != "":
		spec.Letters, spec.LettersUpTo = o.dlName, 1<<63-1
	case spec.Kind == source.KindDeadLetter && !o.dryRun:
		lk, err := lock.Take(spec.Path, "reconcile replay (re-drive)")
		if errors.Is(err, lock.ErrHeld) {
			return nil, false, cli.Usagef("%w", err)
		}
		if err != nil {
			return nil, false, err
		}
		defer lk.Release()
		dlPath = replay.AgainPath(spec.Path)
		if err := os.Remove(dlPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, false, err
		}
	}
	fp := replay.Fingerprint(spec)
	store := o.store(fp)
	if store != nil && !o.dryRun {
		release, err := store.Lock(ctx)
		if errors.Is(err, lock.ErrHeld) {
			return nil, false, cli.Usagef("%w", err)
		}
		if err != nil {
			return nil, false, err
		}
		defer release()
	}
	var resumed *replay.Checkpoint
	if store != nil && !o.restart && !o.dryRun {
		if resumed, err = store.Load(ctx); err != nil {
			return nil, false, err
		}
		if resumed != nil {
			switch {
			case resumed.Version < replay.CheckpointVersion:
				return nil, false, cli.Usagef("checkpoint %s was written by an older version (format %d, now %d), whose position means something else "+
					"(format 1 did not record what it covered; format 2 split shards by subscription, not customer); "+
					"pass -restart to start over (the API deduplicates what it already has)", store, resumed.Version, replay.CheckpointVersion)
			case resumed.Fingerprint != fp:
				return nil, false, cli.Usagef("checkpoint %s was written for another source, shard or window; pass -restart to start over", store)
			}
			spec.After, spec.Resume = resumed.Position, &resumed.Coverage
			log.Info("resuming", "checkpoint", store.String(), "after", resumed.Position.String(), "covered_rows", resumed.Coverage.Rows)
		}
	}
	src, err := source.Open(ctx, spec)
	if errors.Is(err, source.ErrSourceChanged) {
		return nil, false, cli.Usagef("%w; checkpoint %s cannot be resumed: pass -restart to replay the source again (the API deduplicates what it already has)", err, store)
	}
	if err != nil {
		return nil, false, err
	}
	if st := src.Stats(); st.Late > 0 {
		how := "files added before the checkpoint's position are read whole"
		if st.Reread {
			how = "rows appeared at or before the checkpoint's position, so the window is read again and the API deduplicates what it has"
		}
		log.Warn("late data since the checkpoint", "rows", st.Late, "action", how)
	}
	defer src.Close()
	rc := replay.Config{
		Source: src, Concurrency: o.concurrency, DryRun: o.dryRun,
		MaxAge: time.Duration(o.maxAge), AllowOld: o.allowOld, DrainTimeout: time.Duration(o.drainTimeout), StallTimeout: time.Duration(o.stallTimeout),
		FailFast: time.Duration(o.failFast), FailFastRejections: o.failFastN,
		Checkpoint: store, Fingerprint: fp, Resumed: resumed, Logger: log, CheckpointEvery: time.Duration(o.cpEvery),
	}
	if !o.dryRun {
		cfg.MaxRetryAfter = time.Duration(o.maxRetryAft)
		// The end of a pause is logged by a timer, which must not outlive
		// the run: ended, under pauseMu, turns the late ones into no-ops.
		var pauseMu sync.Mutex
		ended := false
		defer func() { pauseMu.Lock(); ended = true; pauseMu.Unlock() }()
		cfg.OnPause = func(until time.Time, d time.Duration) {
			if d < time.Second { // a throttling gateway's short pauses are not news
				return
			}
			log.Warn("the API asked every request to wait (429 Retry-After)", "for", d.String(), "until", until.UTC().Format(time.RFC3339))
			time.AfterFunc(time.Until(until), func() {
				pauseMu.Lock()
				defer pauseMu.Unlock()
				if !ended {
					log.Info("the API's pause is over", "was", d.String())
				}
			})
		}
		if rc.Client, err = eventClient(cfg, o.rate, o.concurrency); err != nil {
			return nil, false, err
		}
		if table == nil && isPostgresURL(o.deadLetter) {
			name := o.dlName
			if name == "" {
				name = "replay-" + fp
			}
			if table, err = openTable(o.deadLetter, "", name); err != nil {
				return nil, false, err
			}
			defer table.Close()
		}
	}
	if table != nil {
		rc.DeadLetter = table
	} else if !o.dryRun {
		dl, err := replay.OpenDeadLetter(dlPath)
		if errors.Is(err, lock.ErrHeld) {
			return nil, false, cli.Usagef("%w", err)
		}
		if err != nil {
			return nil, false, err
		}
		defer dl.Close()
		if dl.Torn > 0 {
			log.Warn("cut off a torn last line of the dead-letter file, left by a crash; its record lies after the checkpoint and is done again",
				"file", dlPath, "bytes", dl.Torn)
		}
		rc.DeadLetter = dl
	}
	rc.Progress = o.progressFunc(a, log)
	st, runErr := replay.Run(ctx, rc)
	completed := runErr == nil
	if err := o.report(a, st); err != nil {
		runErr = errors.Join(runErr, err)
	}
	switch {
	case runErr != nil:
		return &st, completed, runErr
	case o.dryRun:
		if st.DeadLettered > 0 {
			return &st, completed, fmt.Errorf("%w: %d records would be dead-lettered", cli.ErrDeadLettered, st.DeadLettered)
		}
		return &st, completed, nil
	case spec.Kind == source.KindDeadLetter:
		return &st, completed, o.finishRedrive(ctx, a, spec, table, st)
	}
	var errs []error
	if st.DeadLettered > 0 {
		errs = append(errs, fmt.Errorf("%w: %d records, see %s", cli.ErrDeadLettered, st.DeadLettered, rc.DeadLetter))
	}
	if n, kinds := letterCounts(rc.DeadLetter.EarlierCounts()); n > 0 && !o.acceptDL {
		redrive := "deadletter:" + o.deadLetter
		if table != nil {
			redrive = "deadletter:" + source.RedactDSN(o.deadLetter) + " -dead-letter-name " + table.Name()
		}
		errs = append(errs, fmt.Errorf("%w: %s holds %d dead letters of earlier runs (%s), never re-driven: re-drive them with "+
			"reconcile replay -source %s, or pass -accept-dead-letters", cli.ErrDeadLettered, rc.DeadLetter, n, kinds, redrive))
	}
	return &st, completed, errors.Join(errs...)
}

// isPostgresURL reports whether s names a PostgreSQL database.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// finishRedrive replaces a re-driven dead-letter file (or the re-driven
// rows of a table) with the letters still undelivered, and says what is
// left.
func (o *replayOptions) finishRedrive(ctx context.Context, a *app, spec source.Spec, table *replay.PGLetters, st replay.Stats) error {
	var remaining map[string]int64
	var archive string
	var err error
	path := spec.Path
	if table != nil {
		path = table.String()
		archive = o.dlName + ".redriven-" + time.Now().UTC().Format("20060102T150405.000000000Z")
		remaining, err = table.FinishRedrive(ctx, archive)
		archive = fmt.Sprintf("the rows named %q", archive)
	} else {
		remaining, archive, err = replay.FinishRedrive(path, time.Now())
	}
	if err != nil {
		return err
	}
	n, kinds := letterCounts(remaining)
	fmt.Fprintf(a.stdout, "re-drive: %d re-sent (%d accepted, %d duplicate), %d failed again, %d kept; %s now holds %d letters (%s); the old file is %s\n",
		st.Read-st.Invalid, st.Accepted, st.Duplicate, st.DeadLettered-st.Invalid, st.Source.Kept, path, n, kinds, archive)
	if n > 0 && (st.DeadLettered > 0 || !o.acceptDL) {
		return fmt.Errorf("%w: %d letters remain in %s (%s)", cli.ErrDeadLettered, n, path, kinds)
	}
	return nil
}

// letterCounts totals letters by kind and renders the kinds.
func letterCounts(byKind map[string]int64) (int64, string) {
	var n int64
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		n += byKind[k]
		parts = append(parts, fmt.Sprintf("%s %d", k, byKind[k]))
	}
	return n, strings.Join(parts, ", ")
}

// store is the checkpoint store the flags name, nil without -checkpoint.
func (o *replayOptions) store(fp string) replay.Store {
	switch {
	case o.checkpoint == "":
		return nil
	case strings.HasPrefix(o.checkpoint, "postgres://"), strings.HasPrefix(o.checkpoint, "postgresql://"):
		name := o.cpName
		if name == "" {
			name = "replay-" + fp
		}
		return replay.PostgresStore{DSN: o.checkpoint, Name: name}
	}
	return replay.FileStore{Path: o.checkpoint}
}

func (o *replayOptions) progressFunc(a *app, log *slog.Logger) func(replay.Progress) {
	switch cli.ProgressMode(o.progress, a.stderr) {
	case "live":
		live := &progress.Live{W: a.stderr, Width: progress.TerminalWidth(a.stderr)}
		return func(p replay.Progress) { live.Draw(replayStatus(p)) }
	case "log":
		return func(p replay.Progress) {
			if p.Final {
				return // the summary follows
			}
			logReplayProgress(log, p)
		}
	}
	return nil
}

// logReplayProgress writes one progress line as a log record: the fields
// of the live line, for log collectors.
func logReplayProgress(log *slog.Logger, p replay.Progress) {
	log.Info("replay progress", "done", p.Consumed, "total", p.Declared, "percent", replayStatus(p).Percent(),
		"rate", int64(p.Rate), "eta", progress.Short(p.ETA), "elapsed", time.Duration(p.Elapsed).Round(time.Second).String(),
		"sent", p.Sent, "accepted", p.Accepted, "duplicate", p.Duplicate, "dead_lettered", p.DeadLettered,
		"rejected", p.Rejected, "failed", p.Failed, "invalid", p.Invalid, "retried", p.Retried,
		"paused_until", pausedUntil(p.PausedUntil), "last_error", p.LastError)
}

// replayStatus is the status line of a replay: rows done of the total the
// source declared, events per second, the smoothed ETA, and the counters
// that say where events went.
func replayStatus(p replay.Progress) progress.Status {
	st := progress.Status{
		Verb: "replay", Done: p.Consumed, Total: p.Declared, Unit: "rows", Elapsed: time.Duration(p.Elapsed),
		Rate: p.Rate, RateUnit: "ev/s", ETA: p.ETA, LastError: p.LastError, Final: p.Final,
		Counts: []progress.Count{{Name: "accepted", N: p.Accepted}, {Name: "duplicate", N: p.Duplicate},
			{Name: "dead-lettered", N: p.DeadLettered}, {Name: "retried", N: p.Retried}},
	}
	switch {
	case p.Stopped != "":
		st.Note = "STOPPED: " + p.Stopped
	case !p.PausedUntil.IsZero():
		st.Note = "paused by the API (Retry-After) until " + p.PausedUntil.UTC().Format(time.TimeOnly)
	}
	if p.Final {
		st.LastError = "" // the summary and the dead-letter file say what failed
	}
	return st
}

// DefaultMaxRetryAfter is the longest Retry-After replay waits for by
// default: with the retries, a record then finishes well within the
// default -stall-timeout.
const DefaultMaxRetryAfter = 2 * time.Minute

func pausedUntil(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// report prints the summary and writes it as JSON with -summary.
func (o *replayOptions) report(a *app, st replay.Stats) error {
	printReplaySummary(a.stdout, st, o.dryRun)
	if o.summary == "" {
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(o.summary, 0o644, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

func printReplaySummary(w io.Writer, st replay.Stats, dryRun bool) {
	el := time.Duration(st.Elapsed)
	fmt.Fprintf(w, "replay summary (%s)\n", el.Round(time.Millisecond))
	rows := [][2]any{
		{"source rows declared", st.Source.Declared},
		{"skipped: window / shard / before checkpoint", fmt.Sprintf("%d / %d / %d", st.Source.SkippedWindow, st.Source.SkippedShard, st.Source.SkippedResume)},
		{"late rows the checkpoint had not covered", st.Source.Late},
	}
	if s := st.Source; s.Requests > 0 {
		rows = append(rows, [2]any{"object store: bytes fetched / requests / retries", fmt.Sprintf("%d / %d / %d", s.BytesRead, s.Requests, s.Retries)})
	}
	rows = append(rows, [][2]any{
		{"records read", st.Read},
		{"invalid (dead-lettered)", st.Invalid},
		{"too old (dead-lettered)", st.TooOld},
	}...)
	if dryRun {
		rows = append(rows, [2]any{"valid, would be sent", st.Valid - st.TooOld})
	} else {
		rows = append(rows,
			[2]any{"accepted", st.Accepted},
			[2]any{"duplicate (already counted)", st.Duplicate},
			[2]any{"rejected (dead-lettered)", st.Rejected},
			[2]any{"failed after retries (dead-lettered)", st.Failed},
			[2]any{"conflicting duplicates (dead-lettered)", st.Conflicting},
			[2]any{"delivered after a retry", st.Retried})
		if st.Ambiguous > 0 {
			rows = append(rows, [2]any{"of which after an unanswered attempt", st.Ambiguous})
		}
		if st.Abandoned > 0 {
			rows = append(rows, [2]any{"left for the resumed run", st.Abandoned})
		}
		if el > 0 {
			rows = append(rows, [2]any{"events/s", fmt.Sprintf("%.0f", float64(st.Accepted+st.Duplicate+st.Rejected+st.Failed)/el.Seconds())})
		}
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-45s %v\n", r[0], r[1])
	}
	if st.Checkpoint != nil {
		fmt.Fprintf(w, "  %-45s %s\n", "checkpoint", st.Checkpoint.Position.String())
	}
}

// eventClient is the client of a replay: r events/s at most (0: no limit,
// with bursts of 1% of the rate) over as many connections as workers.
func eventClient(cfg billing.Config, r cli.Rate, workers int) (*billing.Client, error) {
	if r > 0 {
		cfg.Limiter = rate.NewLimiter(rate.Limit(r), max(1, int(r)/100))
	}
	cfg.MaxConns = workers
	return billing.New(cfg)
}
