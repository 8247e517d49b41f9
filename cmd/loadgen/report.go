package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/load/report"
)

func newReportCmd(a *app) *cli.Command {
	var r reportFlags
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	r.register(fs)
	return &cli.Command{
		Name:    "report",
		Args:    "DIR...",
		Summary: "merge the results of one or more runs (the shards of a distributed run) into one summary",
		Description: `Report reads the directories runs wrote with -out and prints one summary
for all of them: counts add up, and latency percentiles come from the
runs' HDR histograms merged exactly (the merged histogram holds every
request of every run), not from averaged percentiles. The time series
are laid over one time axis; where points of several runs share a step,
their latency percentiles take the larger value (an upper bound).

Runs are taken to have run at the same time, as the shards of one
distributed run do: the rate is every run's requests over the time from
the first start to the last end.

With -threshold, a failed threshold exits 4; a run whose saved
verification failed does too.`,
		Examples: []string{
			"loadgen report results/shard-0 results/shard-1 results/shard-2",
			"loadgen report -threshold 'p99<250ms' -threshold 'rate>1900/s' -out results/all results/shard-*",
		},
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return cli.Usagef("no result directories: give the -out directories of the runs")
			}
			ps, err := r.parse()
			if err != nil {
				return err
			}
			var results []*load.Result
			var verifies []*load.Verification
			for _, dir := range args {
				res, saved, err := report.Load(dir)
				if err != nil {
					return err
				}
				results = append(results, res)
				if saved.Verify != nil {
					verifies = append(verifies, saved.Verify)
				}
			}
			merged, err := load.Merge(results...)
			if err != nil {
				return err
			}
			s := merged.Summary(ps)
			s.Verify = load.MergeVerifications(verifies)
			warning := r.check(s)
			errs := []error{report.WriteText(a.Stdout, s)}
			if r.out != "" {
				errs = append(errs, report.Write(r.out, merged, s))
			}
			if warning != "" {
				fmt.Fprintln(a.Stderr, warning)
			}
			errs = append(errs, verdict(s))
			return errors.Join(errs...)
		},
	}
}
