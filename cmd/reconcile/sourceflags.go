package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/objstore"
	"github.com/billharness/billharness/internal/source"
)

// shardsEnv is the shard count of a Kubernetes Indexed Job's pods: the
// manifest sets it to the Job's completions, Kubernetes sets the index.
const shardsEnv = "RECONCILE_SHARDS"

// sourceFlags are the flags that say which events to read: shared by the
// subcommands that read a source, so they all select the same events.
type sourceFlags struct {
	source     string
	columns    source.ColumnMap
	properties string
	table      string
	query      string
	batch      int
	window     source.Window
	shard      source.Shard
	objects    objstore.Config
}

func (s *sourceFlags) register(fs *flag.FlagSet) {
	cli.String(fs, &s.source, "source", "RECONCILE_SOURCE", "",
		"events to read: `parquet:PATH` (file, glob or directory, hive partitions included; PATH may be s3://bucket/… or\n"+
			"gs://bucket/…) or postgres://user@host/db (password from PGPASSWORD or ~/.pgpass rather than the URL)")
	cli.ObjectStore(fs, &s.objects, "RECONCILE")
	cli.Var(fs, &s.columns, "map", "RECONCILE_MAP", "column names that differ from ours, e.g. `id=event_id,timestamp=ts`")
	cli.String(fs, &s.properties, "properties", "RECONCILE_PROPERTIES", "",
		"build properties from these typed `columns` (comma-separated) instead of a JSON or MAP properties column")
	cli.String(fs, &s.table, "table", "RECONCILE_TABLE", "", "Postgres `table` (default usage_events)")
	cli.String(fs, &s.query, "query", "RECONCILE_QUERY", "", "Postgres `SELECT` returning id, event_type, customer_id, subscription_id, timestamp, properties (jsonb)")
	cli.Int(fs, &s.batch, "batch-size", "RECONCILE_BATCH_SIZE", 0, "Postgres keyset page `size` (default 10000)")
	cli.Var(fs, &s.window, "window", "RECONCILE_WINDOW",
		"only events with timestamps in `FROM..TO` (dates or RFC 3339; TO excluded), or last-month or yesterday (UTC)")
	cli.Var(fs, &s.shard, "shard", "RECONCILE_SHARD",
		"only shard `i/N`: the events of customers whose customer_id hashes to i (first 60 bits of MD5, mod N; default in a\n"+
			"Kubernetes Indexed Job: JOB_COMPLETION_INDEX/RECONCILE_SHARDS, RECONCILE_SHARDS set to the Job's completions)")
}

// spec turns the flags into a source spec, reporting every problem at once.
// Without -shard (or RECONCILE_SHARD), the shard comes from
// JOB_COMPLETION_INDEX and RECONCILE_SHARDS, read with getenv.
func (s *sourceFlags) spec(getenv func(string) string) (source.Spec, error) {
	if s.source == "" {
		return source.Spec{}, cli.Usagef("no source: set -source or RECONCILE_SOURCE")
	}
	spec, err := source.ParseSpec(s.source)
	if err != nil {
		return source.Spec{}, cli.Usagef("-source: %v", err)
	}
	var errs []error
	spec.Columns = s.columns
	if s.properties != "" {
		if spec.Properties, err = source.ParseList(s.properties); err != nil {
			errs = append(errs, fmt.Errorf("-properties: %w", err))
		}
	}
	spec.Table, spec.Query, spec.BatchSize = s.table, s.query, s.batch
	spec.Window = s.window
	spec.Objects = s.objects
	if s.shard.Count == 0 { // a parsed -shard has a count of at least 1
		sh, err := cli.ShardFromEnv(getenv, shardsEnv)
		if err != nil {
			errs = append(errs, err)
		}
		s.shard = sh
	}
	if s.shard.Count > 0 {
		spec.Shard = s.shard
	}
	if err := spec.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return source.Spec{}, cli.Usagef("%v", err)
	}
	return spec, nil
}
