package main

import (
	"flag"
	"fmt"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/load"
	"github.com/billharness/billharness/internal/load/report"
)

// reportFlags are the flags of the summary both subcommands print.
type reportFlags struct {
	percentiles string
	thresholds  load.Thresholds
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

// check evaluates the thresholds into s (load.Gate) and returns a warning
// to print when errors occurred that no given threshold gates.
func (r *reportFlags) check(s *load.Summary) (warning string) {
	if r.thresholds.Gate(s) && s.ErrorRate > 0 {
		return fmt.Sprintf("WARNING: %s of the requests failed and no -threshold gates the error rate, so the run can pass; add e.g. -threshold 'error_rate<1%%'",
			report.Percent(s.ErrorRate))
	}
	return ""
}
