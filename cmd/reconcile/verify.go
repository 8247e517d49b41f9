package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newVerifyCmd(a *app) *cli.Command {
	var c common
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	c.register(fs)
	return &cli.Command{
		Name:    "verify",
		Summary: "compare source usage totals with the API's usage per subscription (planned)",
		Description: `Verify sums the source's usage per subscription and meter over a window and
compares the totals with GET /v1/subscriptions/<id>/usage, writing a
discrepancy report. It exits 3 when the two disagree.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
