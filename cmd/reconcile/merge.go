package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/report"
)

// mergeOptions are the flags of merge.
type mergeOptions struct {
	logLevel slog.Level
	out      string
	runID    string
	push     pushFlag
}

func newMergeCmd(a *app) *cli.Command {
	o := &mergeOptions{}
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	cli.LogLevel(fs, &o.logLevel, "RECONCILE")
	cli.String(fs, &o.out, "out", "RECONCILE_MERGE_OUT", "out/merged", "write the merged reports to this `directory`")
	cli.String(fs, &o.runID, "run-id", "RECONCILE_RUN_ID", "", "`name` of the merged run (default: the shards' run id when they share one, else rc-<UTC time>-<random>)")
	o.push.register(fs)
	return &cli.Command{
		Name:    "merge",
		Args:    "DIR…",
		Summary: "merge the reports of sharded runs into one",
		Description: `Merge combines the reports that the shards (-shard i/N) of one verify, bill
or run wrote, each to its own directory, into the report one unsharded run
over the same data writes: the same rows accounting, pairs per class and
discrepancy rows (the largest deltas recomputed from them). DIR may be a
glob ('/reports/2026-10/shard-*'), for containers without a shell.

The shards must be i/N for every i from 0 to N-1, each exactly once, and
agree on the command, window, source, target and tolerance; a missing or
repeated shard is named. Each shard reads its own customers' rows, so what
they read is summed and the declared rows kept once; together the shards
must have read every declared row exactly once, or they are refused (the
source changed between their runs). other_shards is 0.
Settle, heal and billing counts are summed; times are the longest shard's.

Exit codes: 0 every pair of every shard matches, 3 discrepancies found,
1 a shard had failed (its report is incomplete) or the reports cannot be
read or merged, 2 usage.`,
		Examples: []string{
			"reconcile merge -out out/2026-10 out/2026-10-shard-0 out/2026-10-shard-1 out/2026-10-shard-2",
			"reconcile merge -out /reports/2026-10/merged '/reports/2026-10/shard-*'",
		},
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return o.run(ctx, a, args)
		},
	}
}

func (o *mergeOptions) run(ctx context.Context, a *app, args []string) error {
	log := cli.NewLogger(a.Stderr, o.logLevel)
	var errs []error
	if len(args) == 0 {
		errs = append(errs, cli.Usagef("no report directories: give the shards' -out directories"))
	}
	if o.out == "" {
		errs = append(errs, cli.Usagef("-out: a directory is required"))
	}
	errs = append(errs, o.push.validate())
	dirs, err := expandDirs(args, o.out)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	rep, failed, err := report.MergeDirs(dirs, log)
	if err != nil {
		return err
	}
	if o.runID != "" {
		rep.RunID = o.runID
	} else if rep.RunID == "" {
		rep.RunID = report.NewRunID(time.Now())
	}
	err = verdict(rep.Result, failed)
	rep.ExitStatus = cli.ExitCode(err)
	if err != nil && rep.ExitStatus != cli.ExitDiscrepancies {
		rep.Error = err.Error()
	}
	if _, werr := report.Write(o.out, rep); werr != nil {
		err = errors.Join(err, werr)
	} else if perr := report.WriteText(a.Stdout, rep, filepath.Join(o.out, report.HTMLFile)); perr != nil {
		err = errors.Join(err, perr)
	}
	log.Info("merged", "shards", len(dirs), "dir", o.out, "exit", cli.ExitCode(err))
	o.push.push(ctx, log, rep.Outcome(cli.ExitCode(err)))
	return err
}

// expandDirs expands the glob patterns among args, in order; a pattern
// that matches nothing, a directory given twice (by name or by two
// patterns: a typo for another shard, most often) or the output directory
// among the inputs is a usage error.
func expandDirs(args []string, out string) ([]string, error) {
	var dirs []string
	var errs []error
	for _, arg := range args {
		matches := []string{arg}
		if strings.ContainsAny(arg, "*?[") {
			m, err := filepath.Glob(arg)
			if err != nil || len(m) == 0 {
				errs = append(errs, cli.Usagef("%s: matches no directory", arg))
				continue
			}
			matches = m
		}
		for _, d := range matches {
			if slices.Contains(dirs, d) {
				errs = append(errs, cli.Usagef("%s is given more than once (%s): each shard's directory once", d, arg))
				continue
			}
			dirs = append(dirs, d)
		}
	}
	absOut, _ := filepath.Abs(out)
	for _, d := range dirs {
		if abs, _ := filepath.Abs(d); abs == absOut {
			errs = append(errs, cli.Usagef("-out %s is one of the shards' directories: merging would overwrite it", out))
		}
	}
	return dirs, errors.Join(errs...)
}
