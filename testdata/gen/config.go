package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// config is the generator's parameters; run fills it from flags.
type config struct {
	Seed        uint64
	Events      int
	Customers   int
	Files       int
	RowGroup    int
	Month       time.Time
	Out         string
	Formats     []string
	Compression string
	Scenario    string // "" for the sample; "month-end" for monthEnd
}

// allFormats are the outputs -formats may name; jsonl is not written by
// default (it only serves benchmarks).
var allFormats = []string{"parquet", "copy", "seed", "jsonl"}

var defaultFormats = []string{"parquet", "copy", "seed"}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var month, formats string
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed: the same seed and flags give the same bytes")
	fs.IntVar(&c.Events, "events", 50_000, "number of event rows, duplicates included")
	fs.IntVar(&c.Customers, "customers", 200, "number of customers (each has 1 or 2 subscriptions)")
	fs.IntVar(&c.Files, "files", 3, "number of Parquet files")
	fs.IntVar(&c.RowGroup, "row-group", 5_000, "rows per Parquet row group")
	fs.StringVar(&month, "month", "2026-10", "billing month YYYY-MM (UTC)")
	fs.StringVar(&c.Out, "out", "testdata/sample", "output directory")
	fs.StringVar(&formats, "formats", strings.Join(defaultFormats, ","), "outputs to write: parquet, copy, seed, jsonl (POST /v1/events bodies, one per line)")
	fs.StringVar(&c.Compression, "compression", "zstd", "Parquet compression: zstd, snappy, gzip or none")
	fs.StringVar(&c.Scenario, "scenario", "", "month-end: write the month-end scenario (tiered plan, trial, uncountable values, a late event) instead of the sample")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []error
	m, err := time.Parse("2006-01", month)
	if err != nil {
		errs = append(errs, fmt.Errorf("-month %q: want YYYY-MM", month))
	}
	c.Month = m
	for _, f := range strings.Split(formats, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(allFormats, f) {
			errs = append(errs, fmt.Errorf("-formats: unknown %q (want %s)", f, strings.Join(allFormats, ", ")))
			continue
		}
		c.Formats = append(c.Formats, f)
	}
	if c.Events < 1 {
		errs = append(errs, errors.New("-events must be at least 1"))
	}
	if c.Customers < 1 {
		errs = append(errs, errors.New("-customers must be at least 1"))
	}
	if c.Files < 1 || c.Files > c.Events {
		errs = append(errs, errors.New("-files must be between 1 and -events"))
	}
	if c.RowGroup < 1 {
		errs = append(errs, errors.New("-row-group must be at least 1"))
	}
	if !slices.Contains([]string{"zstd", "snappy", "gzip", "none"}, c.Compression) {
		errs = append(errs, fmt.Errorf("-compression %q: want zstd, snappy, gzip or none", c.Compression))
	}
	if c.Scenario != "" && c.Scenario != "month-end" {
		errs = append(errs, fmt.Errorf("-scenario %q: want month-end", c.Scenario))
	}
	if c.Out == "" {
		errs = append(errs, errors.New("-out is empty"))
	}
	return c, errors.Join(errs...)
}

func (c config) wants(format string) bool { return slices.Contains(c.Formats, format) }
