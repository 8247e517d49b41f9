package main

import (
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/load/report"
)

// common holds the flags shared by the subcommands that talk to the API.
type common struct {
	api      cli.API
	logLevel slog.Level
}

func (c *common) register(fs *flag.FlagSet) {
	c.api.Register(fs)
	cli.TextVar(fs, &c.logLevel, "log-level", "LOADGEN_LOG_LEVEL", slog.LevelInfo, "log `level`: debug, info, warn or error")
}

func (c *common) logger(a *app) *slog.Logger {
	return cli.NewLogger(a.stderr, c.logLevel)
}

// clientConfig is the billing client configuration the flags describe.
func (c *common) clientConfig(a *app) (billing.Config, error) {
	tok, err := c.api.Token(a.getenv)
	if err != nil {
		return billing.Config{}, err
	}
	return billing.Config{
		BaseURL:            c.api.URL,
		Token:              tok,
		UserAgent:          "billharness-loadgen/" + version,
		InsecureSkipVerify: c.api.InsecureSkipVerify,
	}, nil
}

// reportFlags are the flags of the summary both subcommands print.
type reportFlags struct {
	percentiles string
	thresholds  thresholdList
	out         string
}

func (r *reportFlags) register(fs *flag.FlagSet) {
	cli.String(fs, &r.percentiles, "percentiles", "LOADGEN_PERCENTILES", load.DefaultPercentiles,
		"latency `percentiles` to report, comma-separated")
	cli.Var(fs, &r.thresholds, "threshold", "LOADGEN_THRESHOLDS",
		"pass/fail `condition`, repeatable (';' separates several in the variable): p99<250ms, service_p99<50ms,\n"+
			"error_rate<0.1%, rate>1900/s, throughput>1900/s, dropped<=0, dropped<1%, requests>1000, max/mean/min<…;\n"+
			"a failed one exits 4")
	cli.String(fs, &r.out, "out", "LOADGEN_OUT", "",
		"write summary.json, series.csv, histograms.json and report.html into this `directory`")
}

// parse returns the percentiles to report (those the thresholds need
// included), reporting bad values as usage errors.
func (r *reportFlags) parse() (load.Percentiles, error) {
	ps, err := load.ParsePercentiles(r.percentiles)
	if err != nil {
		return nil, cli.Usagef("-percentiles: %v", err)
	}
	for _, t := range r.thresholds {
		if p, ok := t.Percentile(); ok {
			ps = append(ps, p)
		}
	}
	return load.ParsePercentiles(ps.String())
}

// DefaultThresholds gate a run given no -threshold: k6's rule that only
// thresholds decide the exit code is kept, but a run in which no request
// succeeded, or none was answered (the target down, the token refused),
// measured nothing and must not exit 0.
const DefaultThresholds = "error_rate<100%;requests>0"

// check evaluates the thresholds into s: the ones given, else
// DefaultThresholds. It returns a warning to print when errors occurred
// that no given threshold gates.
func (r *reportFlags) check(s *load.Summary) (warning string) {
	ts := r.thresholds
	if len(ts) == 0 {
		ts = nil
		_ = ts.Set(DefaultThresholds) // constant, known to parse
	}
	for _, t := range ts {
		s.Thresholds = append(s.Thresholds, t.Check(s))
	}
	gated := slices.ContainsFunc(r.thresholds, func(t load.Threshold) bool { return t.Metric == "error_rate" })
	if !gated && s.ErrorRate > 0 {
		return fmt.Sprintf("WARNING: %s of the requests failed and no -threshold gates the error rate, so the run can pass; add e.g. -threshold 'error_rate<1%%'",
			report.Percent(s.ErrorRate))
	}
	return ""
}

// thresholdList is the repeatable -threshold flag. An unknown metric or a
// bad value is an error when the flag is parsed: before any request.
type thresholdList []load.Threshold

func (l *thresholdList) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, t := range *l {
		parts[i] = t.String()
	}
	return strings.Join(parts, ";")
}

// Set appends one threshold, or several separated by ';'.
func (l *thresholdList) Set(s string) error {
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		t, err := load.ParseThreshold(part)
		if err != nil {
			return err
		}
		*l = append(*l, t)
	}
	return nil
}
