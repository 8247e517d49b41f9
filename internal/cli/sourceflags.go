package cli

import (
	"errors"
	"flag"
	"fmt"

	"github.com/billharness/billharness/internal/objstore"
	"github.com/billharness/billharness/internal/source"
)

// SourceFlags are the flags that say which events to read, shared by every
// command that reads a source so that they all select the same events:
// -source, the object store's, -map, -properties, -table, -query and
// -batch-size. The window and the shard are the command's: their help
// differs.
type SourceFlags struct {
	Source     string
	Columns    source.ColumnMap
	Properties string
	Table      string
	Query      string
	Batch      int
	Objects    objstore.Config
	prefix     string
}

// Register registers the flags on fs, with environment variables named
// PREFIX_SOURCE and so on; sourceHelp is -source's help.
func (s *SourceFlags) Register(fs *flag.FlagSet, prefix, sourceHelp string) {
	s.prefix = prefix
	String(fs, &s.Source, "source", prefix+"_SOURCE", "", sourceHelp)
	ObjectStore(fs, &s.Objects, prefix)
	Var(fs, &s.Columns, "map", prefix+"_MAP", "column names that differ from ours, e.g. `id=event_id,timestamp=ts`")
	String(fs, &s.Properties, "properties", prefix+"_PROPERTIES", "",
		"build properties from these typed `columns` (comma-separated) instead of a JSON or MAP properties column")
	String(fs, &s.Table, "table", prefix+"_TABLE", "", "Postgres `table` (default usage_events)")
	String(fs, &s.Query, "query", prefix+"_QUERY", "", "Postgres `SELECT` returning id, event_type, customer_id, subscription_id, timestamp, properties (jsonb)")
	Int(fs, &s.Batch, "batch-size", prefix+"_BATCH_SIZE", 0, "Postgres keyset page `size` (default 10000)")
}

// Spec turns the flags, the window and the shard (zero: none) into a
// source spec, reporting every problem at once as a usage error.
func (s *SourceFlags) Spec(window source.Window, shard source.Shard) (source.Spec, error) {
	if s.Source == "" {
		return source.Spec{}, Usagef("no source: set -source or %s_SOURCE", s.prefix)
	}
	spec, err := source.ParseSpec(s.Source)
	if err != nil {
		return source.Spec{}, Usagef("-source: %v", err)
	}
	var errs []error
	if s.Properties != "" {
		if spec.Properties, err = source.ParseList(s.Properties); err != nil {
			errs = append(errs, fmt.Errorf("-properties: %w", err))
		}
	}
	spec.Columns, spec.Table, spec.Query, spec.BatchSize, spec.Objects = s.Columns, s.Table, s.Query, s.Batch, s.Objects
	spec.Window = window
	if shard.Count > 0 {
		spec.Shard = shard
	}
	errs = append(errs, spec.Validate())
	if err := errors.Join(errs...); err != nil {
		return source.Spec{}, Usagef("%v", err)
	}
	return spec, nil
}
