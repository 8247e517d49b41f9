package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newMergeCmd(a *app) *cli.Command {
	var c common
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	c.register(fs)
	return &cli.Command{
		Name:    "merge",
		Summary: "merge the reports of sharded runs into one (planned)",
		Description: `Merge combines the reports written by the shards (-shard i/N) of one run
into a single report, exiting 3 when any shard found discrepancies.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
