package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/outcome"
)

// common holds the flags shared by the subcommands that talk to the API.
type common struct{ cli.Client }

func (c *common) register(fs *flag.FlagSet) {
	c.Register(fs, "RECONCILE", "billharness-reconcile/"+version)
}

func (c *common) logger(a *app) *slog.Logger { return c.Logger(a.Stderr) }

// clientConfig is the billing client configuration the flags describe. The
// token is required unless optional is set (doctor can report a missing one).
func (c *common) clientConfig(a *app, optional bool) (billing.Config, error) {
	cfg, err := c.Config(a.Getenv)
	if err != nil && !(optional && errors.Is(err, cli.ErrNoToken)) {
		return billing.Config{}, err
	}
	return cfg, nil
}

// pushFlag is -pushgateway, shared by the commands that push their outcome.
type pushFlag struct{ url string }

func (p *pushFlag) register(fs *flag.FlagSet) {
	cli.String(fs, &p.url, "pushgateway", "RECONCILE_PUSHGATEWAY", "",
		"push the outcome (last success and completion times, exit status, discrepancies per class, events replayed)\n"+
			"to this Prometheus Pushgateway `URL`, job billharness_reconcile, grouped by command and shard; a failed push is\n"+
			"logged and leaves the exit status alone")
}

func (p *pushFlag) validate() error { return cli.CheckHTTPURL("pushgateway", p.url) }

func (p *pushFlag) push(ctx context.Context, log *slog.Logger, o outcome.Outcome) {
	outcome.PushLogged(ctx, p.url, log, o)
}
