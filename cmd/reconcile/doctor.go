package main

import (
	"context"
	"flag"

	"github.com/billharness/billharness/internal/cli"
)

func newDoctorCmd(a *app) *cli.Command {
	var c common
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	c.register(fs)
	return &cli.Command{
		Name:    "doctor",
		Summary: "check configuration, API reachability, the token and assumed API behaviour (planned)",
		Description: `Doctor checks what a run needs before it starts: the API URL and token, that
the API answers GET /health, that the token has the scope the commands
need, and which [chosen] parts of the API contract the server follows.

Not implemented yet.`,
		Flags: fs,
		Exec: func(ctx context.Context, args []string) error {
			return errNotImplemented
		},
	}
}
