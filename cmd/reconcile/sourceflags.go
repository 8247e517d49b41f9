package main

import (
	"errors"
	"flag"

	"github.com/billharness/billharness/internal/cli"
	"github.com/billharness/billharness/internal/source"
)

// shardsEnv is the shard count of a Kubernetes Indexed Job's pods: the
// manifest sets it to the Job's completions, Kubernetes sets the index.
const shardsEnv = "RECONCILE_SHARDS"

// sourceFlags are reconcile's source flags: the shared ones, the window
// and the shard.
type sourceFlags struct {
	cli.SourceFlags
	window source.Window
	shard  source.Shard
}

func (s *sourceFlags) register(fs *flag.FlagSet) {
	s.Register(fs, "RECONCILE",
		"events to read: `parquet:PATH` (file, glob or directory, hive partitions included; PATH may be s3://bucket/… or\n"+
			"gs://bucket/…) or postgres://user@host/db (password from PGPASSWORD or ~/.pgpass rather than the URL)")
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
	var envErr error
	if s.shard.Count == 0 { // a parsed -shard has a count of at least 1
		s.shard, envErr = cli.ShardFromEnv(getenv, shardsEnv)
	}
	spec, err := s.Spec(s.window, s.shard)
	return spec, errors.Join(err, envErr)
}
