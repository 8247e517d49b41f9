package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newReportCmd(a *app) *cli.Command {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	return &cli.Command{
		Name:    "report",
		Summary: "summarize the results a run saved (planned)",
		Description: `Report reads the results a run saved and prints their summary: throughput,
latency percentiles and errors by kind.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
