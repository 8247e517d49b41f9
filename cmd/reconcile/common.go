package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/outcome"
	"github.com/billharness/billharness/internal/report"
)

// common holds the flags shared by the subcommands that talk to the API.
type common struct{ cli.Client }

func (c *common) register(fs *flag.FlagSet) {
	c.Register(fs, "RECONCILE", "billharness-reconcile/"+version)
}

func (c *common) logger(a *app) *slog.Logger { return c.Logger(a.stderr) }

// clientConfig is the billing client configuration the flags describe. The
// token is required unless optional is set (doctor can report a missing one).
func (c *common) clientConfig(a *app, optional bool) (billing.Config, error) {
	cfg, err := c.Config(a.getenv)
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

func (p *pushFlag) validate() error {
	if p.url != "" && !strings.HasPrefix(p.url, "http://") && !strings.HasPrefix(p.url, "https://") {
		return cli.Usagef("-pushgateway %q: want an http(s):// URL", p.url)
	}
	return nil
}

// push sends o when -pushgateway is set. It runs after an interruption
// too, so it does not take ctx's cancellation, only its values; Push
// bounds it in time. A failure is logged: the exit status is the run's,
// and the alert on a stale last success covers a gateway that is down.
func (p *pushFlag) push(ctx context.Context, log *slog.Logger, o outcome.Outcome) {
	if p.url == "" {
		return
	}
	o.Finished = time.Now()
	if err := outcome.Push(context.WithoutCancel(ctx), outcome.Config{URL: p.url}, o); err != nil {
		log.Error("pushgateway", "err", err)
		return
	}
	log.Info("outcome pushed", "pushgateway", p.url, "command", o.Command, "shard", o.Shard, "exit", o.ExitStatus)
}

// checkOutcome is the outcome of a finished verify, bill, run or merge.
func checkOutcome(cmd string, rep *report.Report, exit int) outcome.Outcome {
	o := outcome.Outcome{Command: cmd, Shard: "0/1", ExitStatus: exit,
		Completed: exit == cli.ExitOK || exit == cli.ExitDiscrepancies}
	if res := rep.Result; res != nil {
		o.Shard = res.Shard.String()
		o.Compared, o.Pairs, o.Classes = true, res.Pairs, res.Counts
		for _, m := range rep.Summary().Money {
			o.Money = append(o.Money, outcome.Money{Currency: m.Currency, UnderBilled: m.UnderBilled, OverBilled: m.OverBilled, AtRisk: m.AtRisk})
		}
	}
	if st := rep.Replay.Own(); st != nil {
		o.Replayed = &outcome.Replayed{Accepted: st.Accepted, Duplicate: st.Duplicate, DeadLettered: st.DeadLettered}
	}
	return o
}
