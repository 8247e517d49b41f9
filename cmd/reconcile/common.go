package main

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/billharness/billharness/internal/billing"
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

// clientConfig is the billing client configuration the flags describe. The
// token is required unless optional is set (doctor can report a missing one).
func (c *common) clientConfig(a *app, optional bool) (billing.Config, error) {
	tok, err := c.api.Token(a.getenv)
	if err != nil && !(optional && errors.Is(err, cli.ErrNoToken)) {
		return billing.Config{}, err
	}
	return billing.Config{
		BaseURL:            c.api.URL,
		Token:              tok,
		UserAgent:          "billharness-reconcile/" + version,
		InsecureSkipVerify: c.api.InsecureSkipVerify,
	}, nil
}
