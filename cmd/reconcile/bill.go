package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newBillCmd(a *app) *cli.Command {
	var c common
	fs := flag.NewFlagSet("bill", flag.ContinueOnError)
	c.register(fs)
	return &cli.Command{
		Name:    "bill",
		Summary: "bill subscriptions for a period and check invoices against source totals (planned)",
		Description: `Bill asks the API to bill each subscription for a period and checks every
usage line of the returned invoice against the source totals, writing a
discrepancy report. It exits 3 when they disagree.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
