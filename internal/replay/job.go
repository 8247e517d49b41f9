package replay

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/lock"
	"github.com/billharness/billharness/internal/source"
)

// ErrDeadLettered means a replay went through all its input but some
// records were not delivered and are in the dead-letter file or table (or
// were already, from earlier runs). A command exits 1 on it, as a cron or
// Kubernetes job must be looked at, but a month-end run carries on to
// verify.
var ErrDeadLettered = errors.New("completed with dead-lettered records")

// RefusedError is a replay that did not start because of how it was asked
// for: a checkpoint of another source or format, a checkpoint or
// dead-letter file another run holds, options that do not go together.
// Nothing was sent. Commands exit 2 on it.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

func refused(format string, args ...any) error {
	return &RefusedError{Err: fmt.Errorf(format, args...)}
}

// refuseHeld makes a lock held by another run a refusal.
func refuseHeld(err error) error {
	if errors.Is(err, lock.ErrHeld) {
		return &RefusedError{Err: err}
	}
	return err
}

// Job is one replay from start to end, as both `reconcile replay` and the
// replay step of `reconcile run` do it: the checkpoint chosen, locked,
// loaded and checked against the source; the source opened after it; the
// dead letters opened (a file, a table, or the file or table re-driven);
// Run; and the verdict on what was not delivered.
type Job struct {
	// Spec is the source to read, with its window and shard.
	Spec source.Spec
	// Engine holds Run's settings. Job sets its Source, DeadLetter,
	// Checkpoint, Fingerprint and Resumed.
	Engine Config
	// Checkpoint is a file or a postgres:// database ("" for none), and
	// CheckpointName its row in the database (default: derived from the
	// fingerprint). Restart ignores an existing checkpoint.
	Checkpoint, CheckpointName string
	Restart                    bool
	// DeadLetter is a JSONL file or a postgres:// database, and
	// DeadLetterName the name its letters are kept under in the table (and
	// the name re-driven from a table).
	DeadLetter, DeadLetterName string
	// AcceptEarlier accepts letters of earlier runs in the dead-letter file
	// (or, re-driving, letters that cannot be re-sent).
	AcceptEarlier bool
	// Now is the clock of a re-drive's archive name. Default time.Now.
	Now func() time.Time
}

// Result is what a job did.
type Result struct {
	// Stats is nil when the job failed before replaying.
	Stats *Stats
	// Completed is whether the replay went through all its input, dead
	// letters or not.
	Completed bool
	// Redrive, after a re-drive, says what it re-sent and what is left.
	Redrive string
}

// Do runs the job. The error wraps ErrDeadLettered when records were
// dead-lettered (now, or by earlier runs unless AcceptEarlier), and is a
// *RefusedError when the job did not start.
func (j Job) Do(ctx context.Context) (Result, error) {
	if j.Now == nil {
		j.Now = time.Now
	}
	spec, dryRun := j.Spec, j.Engine.DryRun
	dlPath := j.DeadLetter
	var table *PGLetters // the dead-letter table written, or re-driven
	openTable := func(dsn, tbl, name string) (*PGLetters, error) {
		t, err := PostgresLetters{DSN: dsn, Table: tbl, Name: name}.Open(ctx)
		return t, refuseHeld(err)
	}
	var err error
	switch redrive := spec.Kind == source.KindDeadLetter; {
	case redrive && !dryRun && j.Checkpoint != "":
		return Result{}, refused("-checkpoint does not apply to a re-drive (-source deadletter:…): it is short, and safe to repeat")
	case redrive && !dryRun && spec.DSN != "":
		if j.DeadLetterName == "" {
			return Result{}, refused("-dead-letter-name: re-driving a dead-letter table needs the name its letters are kept under")
		}
		if table, err = openTable(spec.DSN, spec.Table, j.DeadLetterName); err != nil {
			return Result{}, err
		}
		defer table.Close()
		spec.Letters, spec.LettersUpTo = j.DeadLetterName, table.MaxSeq()
	case redrive && spec.DSN != "":
		spec.Letters, spec.LettersUpTo = j.DeadLetterName, 1<<63-1
	case redrive && !dryRun:
		lk, err := lock.Take(spec.Path, "reconcile replay (re-drive)")
		if err != nil {
			return Result{}, refuseHeld(err)
		}
		defer lk.Release()
		dlPath = AgainPath(spec.Path)
		if err := os.Remove(dlPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Result{}, err
		}
	}
	rc := j.Engine
	rc.Fingerprint = Fingerprint(spec)
	store := j.store(rc.Fingerprint)
	rc.Checkpoint = store
	if store != nil && !dryRun {
		release, err := store.Lock(ctx)
		if err != nil {
			return Result{}, refuseHeld(err)
		}
		defer release()
		if !j.Restart {
			if rc.Resumed, err = resume(ctx, store, rc.Fingerprint); err != nil {
				return Result{}, err
			}
		}
	}
	log := rc.logger()
	if cp := rc.Resumed; cp != nil {
		spec.After, spec.Resume = cp.Position, &cp.Coverage
		log.Info("resuming", "checkpoint", store.String(), "after", cp.Position.String(), "covered_rows", cp.Coverage.Rows)
	}
	src, err := source.Open(ctx, spec)
	if errors.Is(err, source.ErrSourceChanged) {
		return Result{}, refused("%w; checkpoint %s cannot be resumed: pass -restart to replay the source again (the API deduplicates what it already has)", err, store)
	}
	if err != nil {
		return Result{}, err
	}
	defer src.Close()
	if st := src.Stats(); st.Late > 0 {
		how := "files added before the checkpoint's position are read whole"
		if st.Reread {
			how = "rows appeared at or before the checkpoint's position, so the window is read again and the API deduplicates what it has"
		}
		log.Warn("late data since the checkpoint", "rows", st.Late, "action", how)
	}
	rc.Source = src
	switch {
	case table == nil && !dryRun && IsPostgresURL(j.DeadLetter):
		name := j.DeadLetterName
		if name == "" {
			name = "replay-" + rc.Fingerprint
		}
		if table, err = openTable(j.DeadLetter, "", name); err != nil {
			return Result{}, err
		}
		defer table.Close()
		rc.DeadLetter = table
	case table != nil:
		rc.DeadLetter = table
	case !dryRun:
		dl, err := OpenDeadLetter(dlPath)
		if err != nil {
			return Result{}, refuseHeld(err)
		}
		defer dl.Close()
		if dl.Torn > 0 {
			log.Warn("cut off a torn last line of the dead-letter file, left by a crash; its record lies after the checkpoint and is done again",
				"file", dlPath, "bytes", dl.Torn)
		}
		rc.DeadLetter = dl
	}
	st, err := Run(ctx, rc)
	res := Result{Stats: &st, Completed: err == nil}
	switch {
	case err != nil:
		return res, err
	case dryRun && st.DeadLettered > 0:
		return res, fmt.Errorf("%w: %d records would be dead-lettered", ErrDeadLettered, st.DeadLettered)
	case dryRun:
		return res, nil
	case spec.Kind == source.KindDeadLetter:
		res.Redrive, err = j.finishRedrive(ctx, spec, table, st)
		return res, err
	}
	var errs []error
	if st.DeadLettered > 0 {
		errs = append(errs, fmt.Errorf("%w: %d records, see %s", ErrDeadLettered, st.DeadLettered, rc.DeadLetter))
	}
	if n, kinds := letterCounts(rc.DeadLetter.EarlierCounts()); n > 0 && !j.AcceptEarlier {
		redrive := "deadletter:" + j.DeadLetter
		if table != nil {
			redrive = "deadletter:" + source.RedactDSN(j.DeadLetter) + " -dead-letter-name " + table.Name()
		}
		errs = append(errs, fmt.Errorf("%w: %s holds %d dead letters of earlier runs (%s), never re-driven: re-drive them with "+
			"reconcile replay -source %s, or pass -accept-dead-letters", ErrDeadLettered, rc.DeadLetter, n, kinds, redrive))
	}
	return res, errors.Join(errs...)
}

// resume loads the checkpoint of store, nil when there is none, and
// refuses one of an older format or of another source, shard or window.
func resume(ctx context.Context, store Store, fp string) (*Checkpoint, error) {
	cp, err := store.Load(ctx)
	switch {
	case err != nil || cp == nil:
		return nil, err
	case cp.Version < CheckpointVersion:
		return nil, refused("checkpoint %s was written by an older version (format %d, now %d), whose position means something else "+
			"(format 1 did not record what it covered; format 2 split shards by subscription, not customer); "+
			"pass -restart to start over (the API deduplicates what it already has)", store, cp.Version, CheckpointVersion)
	case cp.Fingerprint != fp:
		return nil, refused("checkpoint %s was written for another source, shard or window; pass -restart to start over", store)
	}
	return cp, nil
}

// IsPostgresURL reports whether s names a PostgreSQL database.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// CheckpointStore is the checkpoint store the job names, nil without one.
func (j Job) CheckpointStore() Store { return j.store(Fingerprint(j.Spec)) }

// store is the checkpoint store the job names, nil without one.
func (j Job) store(fp string) Store {
	switch {
	case j.Checkpoint == "":
		return nil
	case IsPostgresURL(j.Checkpoint):
		name := j.CheckpointName
		if name == "" {
			name = "replay-" + fp
		}
		return PostgresStore{DSN: j.Checkpoint, Name: name}
	}
	return FileStore{Path: j.Checkpoint}
}

// finishRedrive replaces a re-driven dead-letter file (or the re-driven
// rows of a table) with the letters still undelivered, and says what is
// left.
func (j Job) finishRedrive(ctx context.Context, spec source.Spec, table *PGLetters, st Stats) (string, error) {
	var remaining map[string]int64
	var archive string
	var err error
	path := spec.Path
	if table != nil {
		path = table.String()
		archive = j.DeadLetterName + ".redriven-" + j.Now().UTC().Format("20060102T150405.000000000Z")
		remaining, err = table.FinishRedrive(ctx, archive)
		archive = fmt.Sprintf("the rows named %q", archive)
	} else {
		remaining, archive, err = FinishRedrive(path, j.Now())
	}
	if err != nil {
		return "", err
	}
	n, kinds := letterCounts(remaining)
	said := fmt.Sprintf("re-drive: %d re-sent (%d accepted, %d duplicate), %d failed again, %d kept; %s now holds %d letters (%s); the old file is %s",
		st.Read-st.Invalid, st.Accepted, st.Duplicate, st.DeadLettered-st.Invalid, st.Source.Kept, path, n, kinds, archive)
	if n > 0 && (st.DeadLettered > 0 || !j.AcceptEarlier) {
		return said, fmt.Errorf("%w: %d letters remain in %s (%s)", ErrDeadLettered, n, path, kinds)
	}
	return said, nil
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
