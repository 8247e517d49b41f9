package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/billharness/billharness/internal/cli"
)

// errNotImplemented is what planned subcommands return.
var errNotImplemented = errors.New("not implemented yet")

// common holds the flags shared by the subcommands that talk to the API.
type common struct {
	api      cli.API
	logLevel slog.Level
}

func (c *common) register(fs *flag.FlagSet) {
	c.api.Register(fs)
	cli.TextVar(fs, &c.logLevel, "log-level", "RECONCILE_LOG_LEVEL", slog.LevelInfo, "log `level`: debug, info, warn or error")
}

func (c *common) logger(a *app) *slog.Logger {
	return cli.NewLogger(a.stderr, c.logLevel)
}
