package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newRunCmd(a *app) *cli.Command {
	var c common
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	c.register(fs)
	return &cli.Command{
		Name:    "run",
		Summary: "replay, then verify and bill, as one scheduled job (planned)",
		Description: `Run chains replay, verify and bill: the whole nightly or monthly job in one
command, with one report.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
