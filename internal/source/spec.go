package source

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/billharness/billharness/internal/objstore"
)

// Field names of an event, as used in a [ColumnMap] and in
// [RecordError.Field].
const (
	FieldID             = "id"
	FieldEventType      = "event_type"
	FieldCustomerID     = "customer_id"
	FieldSubscriptionID = "subscription_id"
	FieldTimestamp      = "timestamp"
	FieldProperties     = "properties"
)

var fields = []string{FieldID, FieldEventType, FieldCustomerID, FieldSubscriptionID, FieldTimestamp, FieldProperties}

// DefaultTable is the PostgreSQL table read when neither Table nor Query
// is set.
const DefaultTable = "usage_events"

// DefaultBatchSize is the PostgreSQL keyset batch size when Spec.BatchSize
// is zero.
const DefaultBatchSize = 10_000

// Spec says what to read. Build it with [ParseSpec] from a -source string
// and fill in the rest; the zero value of every other field is a sensible
// default.
type Spec struct {
	// Kind is KindParquet or KindPostgres.
	Kind string
	// Path is, for Parquet, a file, a glob or a directory (read
	// recursively, hive-style partitions such as dt=2026-10-01/ included;
	// only files ending in .parquet are read from a directory), locally or
	// as an s3://bucket/… or gs://bucket/… URL (the same rules over keys).
	Path string
	// DSN is, for PostgreSQL, the connection string.
	DSN string
	// Objects says how to reach the object store when Path is an s3:// or
	// gs:// URL; its zero value uses the clouds' default settings and
	// credential chains.
	Objects objstore.Config

	// Columns maps event fields to the source's column names where they
	// differ; unmapped fields use their own name. subscription_id and
	// properties may be absent from the source unless mapped.
	Columns ColumnMap
	// Properties, when set, names typed columns whose values make up the
	// properties object (keyed by column name); otherwise properties come
	// from the properties column, a JSON string or a MAP.
	Properties []string

	// Table is the PostgreSQL table (default DefaultTable), optionally
	// schema-qualified. Query is a custom SELECT returning the named
	// columns instead; at most one of the two may be set.
	Table string
	Query string
	// BatchSize is the PostgreSQL keyset batch size (default
	// DefaultBatchSize).
	BatchSize int

	// Window keeps only events with From <= timestamp < To.
	Window Window
	// Shard keeps only the records of one shard.
	Shard Shard
	// After resumes the stream after this position (exclusive), as saved
	// from a Record or RecordError of the same source; zero reads from
	// the start.
	After Position
	// Resume, with After, is what the checkpoint at After covered (see
	// [Coverage]). The reader then skips only that, reads whatever the
	// checkpoint did not cover, and fails with [ErrSourceChanged] when
	// something it covered changed. Without it, After assumes a source
	// that never changes: everything ordered before After is skipped.
	Resume *Coverage

	// Letters and LettersUpTo are, for dead letters kept in PostgreSQL
	// (DSN set), the name they are kept under (Table is the table,
	// default billharness_dead_letters) and the last seq to read: the
	// letters written after it (by the re-drive itself) are not read.
	Letters     string
	LettersUpTo int64
}

// ParseSpec parses a -source string: "parquet:PATH" (PATH a file, glob or
// directory) or a PostgreSQL URL "postgres://…" / "postgresql://…".
func ParseSpec(source string) (Spec, error) {
	switch {
	case strings.HasPrefix(source, "parquet:"):
		p := strings.TrimPrefix(source, "parquet:")
		if p == "" {
			return Spec{}, fmt.Errorf("source %q: empty path", source)
		}
		return Spec{Kind: KindParquet, Path: p}, nil
	case strings.HasPrefix(source, "postgres://"), strings.HasPrefix(source, "postgresql://"):
		return Spec{Kind: KindPostgres, DSN: source}, nil
	case strings.HasPrefix(source, KindDeadLetter+":"):
		p := strings.TrimPrefix(source, KindDeadLetter+":")
		switch {
		case p == "":
			return Spec{}, fmt.Errorf("source %q: empty path", source)
		case strings.HasPrefix(p, "postgres://"), strings.HasPrefix(p, "postgresql://"):
			return Spec{Kind: KindDeadLetter, DSN: p}, nil
		}
		return Spec{Kind: KindDeadLetter, Path: p}, nil
	}
	return Spec{}, fmt.Errorf("source %q: want parquet:PATH (PATH local, s3://… or gs://…), postgres://… or deadletter:PATH", RedactDSN(source))
}

// RedactDSN hides the password of a URL-form connection string before it
// reaches a message, a report or a checkpoint's fingerprint. A string that
// is not a URL, or has no credentials, is returned as is; one that does not
// parse is cut after its scheme.
func RedactDSN(s string) string {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return scheme + "://…"
	}
	if u.User == nil {
		return s
	}
	return u.Redacted()
}

// Validate reports every problem with s at once.
func (s Spec) Validate() error {
	var errs []error
	switch s.Kind {
	case KindParquet:
		if s.Path == "" {
			errs = append(errs, errors.New("source: parquet path is empty"))
		}
		if s.Table != "" || s.Query != "" {
			errs = append(errs, errors.New("source: table and query apply to postgres only"))
		}
		if objstore.IsURL(s.Path) {
			if _, _, _, err := objstore.SplitURL(s.Path); err != nil {
				errs = append(errs, fmt.Errorf("source: %w", err))
			}
		}
	case KindDeadLetter:
		if s.Path == "" && s.DSN == "" {
			errs = append(errs, errors.New("source: dead-letter path is empty"))
		}
		if s.Query != "" || len(s.Columns) > 0 || len(s.Properties) > 0 || !s.After.IsZero() {
			errs = append(errs, errors.New("source: dead letters take no query, column map, properties or resume position"))
		}
	case KindPostgres:
		if s.DSN == "" {
			errs = append(errs, errors.New("source: postgres connection string is empty"))
		}
		if s.Table != "" && s.Query != "" {
			errs = append(errs, errors.New("source: set table or query, not both"))
		}
		if s.BatchSize < 0 {
			errs = append(errs, fmt.Errorf("source: batch size %d is negative", s.BatchSize))
		}
	default:
		errs = append(errs, fmt.Errorf("source: unknown kind %q", s.Kind))
	}
	if err := s.Columns.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, p := range s.Properties {
		if p == "" {
			errs = append(errs, errors.New("source: empty property column name"))
		}
	}
	if s.Shard.Count < 0 || (s.Shard.Count > 0 && (s.Shard.Index < 0 || s.Shard.Index >= s.Shard.Count)) {
		errs = append(errs, fmt.Errorf("source: shard %d/%d out of range", s.Shard.Index, s.Shard.Count))
	}
	if !s.Window.From.IsZero() && !s.Window.To.IsZero() && !s.Window.From.Before(s.Window.To) {
		errs = append(errs, errors.New("source: window from must be before to"))
	}
	if s.Resume != nil && s.After.IsZero() {
		errs = append(errs, errors.New("source: resume coverage without a position"))
	}
	if !s.After.IsZero() && s.After.Kind != s.Kind {
		errs = append(errs, fmt.Errorf("source: resume position is %s, source is %s", s.After.Kind, s.Kind))
	}
	return errors.Join(errs...)
}

// column returns the source column name of an event field.
func (s Spec) column(field string) string {
	if c, ok := s.Columns[field]; ok {
		return c
	}
	return field
}

// ColumnMap maps event field names (id, event_type, customer_id,
// subscription_id, timestamp, properties) to source column names.
type ColumnMap map[string]string

// ParseColumnMap parses "field=column,field=column", e.g.
// "id=event_id,timestamp=ts".
func ParseColumnMap(s string) (ColumnMap, error) {
	m := ColumnMap{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	var errs []error
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("column map %q: want field=column", kv))
		case !slices.Contains(fields, k):
			errs = append(errs, fmt.Errorf("column map %q: unknown field %q (want one of %s)", kv, k, strings.Join(fields, ", ")))
		case v == "":
			errs = append(errs, fmt.Errorf("column map %q: empty column name", kv))
		case m[k] != "":
			errs = append(errs, fmt.Errorf("column map %q: field %q mapped twice", kv, k))
		default:
			m[k] = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func (m ColumnMap) validate() error {
	var errs []error
	for k, v := range m {
		if !slices.Contains(fields, k) {
			errs = append(errs, fmt.Errorf("source: column map: unknown field %q", k))
		}
		if v == "" {
			errs = append(errs, fmt.Errorf("source: column map: field %q has an empty column name", k))
		}
	}
	return errors.Join(errs...)
}

// String renders m as "field=column,…" in field order.
func (m *ColumnMap) String() string {
	if m == nil {
		return ""
	}
	var parts []string
	for _, f := range fields {
		if c, ok := (*m)[f]; ok {
			parts = append(parts, f+"="+c)
		}
	}
	return strings.Join(parts, ",")
}

// Set parses v into m, for use as a flag.Value.
func (m *ColumnMap) Set(v string) error {
	p, err := ParseColumnMap(v)
	if err != nil {
		return err
	}
	*m = p
	return nil
}

// ParseList splits a comma-separated list of names, such as the
// -properties flag ("input_tokens,output_tokens,model"), dropping blanks
// and rejecting repeats.
func ParseList(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("list %q: %q repeated", s, p)
		}
		out = append(out, p)
	}
	return out, nil
}
