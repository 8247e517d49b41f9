package report

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/billharness/billharness/internal/reconcile"
)

// MergeDirs reads the shards' reports and merges them. The merged
// report carries their shared settings, the last time any of them ended
// and each shard's replay statistics, by shard. failed joins the failures
// of the shards whose runs failed (their reports are incomplete, and so is
// the merged one).
func MergeDirs(dirs []string, log *slog.Logger) (rep *Report, failed, err error) {
	var parts []*Report
	var partDirs []string
	var results []*reconcile.Result
	var errs []error
	for _, d := range dirs {
		r, err := ReadSummary(d) // the rows are streamed at write time
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Result == nil {
			errs = append(errs, fmt.Errorf("%s: the %s run %s failed before it compared anything: %s", d, r.Command, r.RunID, r.Error))
			continue
		}
		log.Info("shard report", "dir", d, "shard", shardOf(r), "run_id", r.RunID, "status", Status(r.ExitStatus))
		parts = append(parts, r)
		partDirs = append(partDirs, d)
		results = append(results, r.Result)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	first := parts[0]
	for i, r := range parts[1:] {
		for _, f := range []struct{ name, a, b string }{
			{"command", first.Command, r.Command}, {"source", first.Source, r.Source},
			{"target", first.Target, r.Target}, {"tolerance", first.Tolerance, r.Tolerance},
		} {
			if f.a != f.b {
				errs = append(errs, fmt.Errorf("%s: %s %q differs from %q in %s: merge the shards of one run", dirs[i+1], f.name, f.b, f.a, dirs[0]))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	res, err := reconcile.Merge(results)
	if err != nil {
		return nil, nil, err
	}
	rep = &Report{
		RunID: first.RunID, Command: first.Command, Source: first.Source, Target: first.Target,
		Tolerance: first.Tolerance, Result: res, Pairs: MergedPairs(partDirs),
	}
	replays := Replays{}
	var failures []error
	for i, r := range parts {
		if !completed(r.ExitStatus) {
			failures = append(failures, fmt.Errorf("shard %s (%s) failed: %s", shardOf(r), dirs[i], r.Error))
		}
		if r.RunID != rep.RunID {
			rep.RunID = ""
		}
		if r.GeneratedAt.After(rep.GeneratedAt) {
			rep.GeneratedAt = r.GeneratedAt
		}
		if st := r.Replay.Own(); st != nil {
			replays[shardOf(r)] = st
		}
	}
	if len(replays) > 0 {
		rep.Replay = replays
	}
	return rep, errors.Join(failures...), nil
}

// shardOf names a shard report's shard, i/N.
func shardOf(r *Report) string {
	return r.Result.Shard.String()
}

// completed reports whether a run of exit status exit compared everything
// it was asked to: it passed, or found discrepancies.
func completed(exit int) bool { return exit == 0 || exit == 3 }

// NewRunID names a run by its UTC start time and 4 random bytes.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "rc-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
