package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newReplayCmd(a *app) *cli.Command {
	var c common
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	c.register(fs)
	return &cli.Command{
		Name:    "replay",
		Summary: "backfill usage events from Parquet or Postgres into POST /v1/events (planned)",
		Description: `Replay reads usage events from Parquet files or a Postgres table and sends
each one to POST /v1/events, rate-limited, with the event id as its
Idempotency-Key, checkpointing its progress so an interrupted replay resumes.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
