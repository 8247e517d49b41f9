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
		Summary: "send events at a rate or in stages and check latency and error thresholds (planned)",
		Description: `Run sends synthetic usage events to POST /v1/events at a fixed rate or in
stages, records every request's latency and outcome, and exits 4 when a
threshold (error rate, latency percentile) fails.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
