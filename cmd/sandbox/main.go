// Command sandbox runs the local billing API sandbox: the API contract
// billharness follows, in memory, with fault knobs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/billharness/billharness/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills at once
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err))
}
