package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/source/sourcetest"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// seedFile is the sandbox seed format: IDs given are kept by the sandbox,
// so events and seed line up.
type seedFile = sandbox.SeedData

// parquetRow is the sample generator's Parquet row layout.
type parquetRow = sourcetest.Row

// parquetSink splits the rows into c.Files files of c.RowGroup-row groups,
// each file under a hive-style dt=YYYY-MM-DD/ directory named after its
// first row's day, so that path order is time order.
type parquetSink struct {
	c       config
	codec   compress.Codec
	perFile int
	rows    int
	buf     []parquetRow
	f       *os.File
	w       *parquet.GenericWriter[parquetRow]
	names   []string
}

func newParquetSink(c config) *parquetSink {
	codecs := map[string]compress.Codec{"zstd": &parquet.Zstd, "snappy": &parquet.Snappy, "gzip": &parquet.Gzip, "none": &parquet.Uncompressed}
	return &parquetSink{c: c, codec: codecs[c.Compression], perFile: (c.Events + c.Files - 1) / c.Files}
}

func (s *parquetSink) write(e *event) error {
	if s.w == nil || s.rows%s.perFile == 0 {
		if err := s.closeFile(); err != nil {
			return err
		}
		rel := filepath.Join("parquet", "dt="+e.ts.Format(time.DateOnly), fmt.Sprintf("part-%04d.parquet", len(s.names)))
		path := filepath.Join(s.c.Out, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		s.f, s.names = f, append(s.names, filepath.ToSlash(rel))
		s.w = parquet.NewGenericWriter[parquetRow](f,
			parquet.Compression(s.codec),
			parquet.MaxRowsPerRowGroup(int64(s.c.RowGroup)),
			parquet.CreatedBy("billharness-gen", "1", ""),
		)
	}
	sub := e.subscriptionID
	s.buf = append(s.buf, parquetRow{ID: e.id, EventType: e.eventType, CustomerID: e.customerID,
		SubscriptionID: &sub, Timestamp: e.ts, Properties: string(e.props)})
	s.rows++
	if len(s.buf) == 1024 || s.rows%s.perFile == 0 {
		return s.flush()
	}
	return nil
}

func (s *parquetSink) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *parquetSink) closeFile() error {
	if s.w == nil {
		return nil
	}
	err := s.flush()
	if cerr := s.w.Close(); err == nil {
		err = cerr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.w = nil
	return err
}

func (s *parquetSink) close() error { return s.closeFile() }

// copySink writes usage_events.csv.gz for
// COPY usage_events FROM STDIN (FORMAT csv, HEADER true).
type copySink struct {
	f  *os.File
	gz *gzip.Writer
	w  *bufio.Writer
}

func newCopySink(dir string) (*copySink, error) {
	f, err := os.Create(filepath.Join(dir, "usage_events.csv.gz"))
	if err != nil {
		return nil, err
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.DefaultCompression)
	s := &copySink{f: f, gz: gz, w: bufio.NewWriterSize(gz, 64<<10)}
	s.w.WriteString("id,event_type,customer_id,subscription_id,timestamp,properties\n")
	return s, os.WriteFile(filepath.Join(dir, "schema.sql"), []byte(schemaSQL), 0o644)
}

// schemaSQL creates the table the COPY file loads into. The index orders
// ids bytewise (COLLATE "C"), as the source reader's keyset does.
const schemaSQL = `-- Table read by internal/source (-source postgres://…), loaded with
--   COPY usage_events FROM STDIN (FORMAT csv, HEADER true)
-- from usage_events.csv.gz (gzip -dc usage_events.csv.gz | psql -c "\copy …").
CREATE TABLE IF NOT EXISTS usage_events (
    id              text NOT NULL,
    event_type      text NOT NULL,
    customer_id     text NOT NULL,
    subscription_id text NULL,
    "timestamp"     timestamptz NOT NULL,
    properties      jsonb
);
CREATE INDEX IF NOT EXISTS usage_events_keyset ON usage_events ("timestamp", id COLLATE "C");
`

func (s *copySink) write(e *event) error {
	b := make([]byte, 0, 256)
	b = append(b, e.id...)
	b = append(b, ',')
	b = append(b, e.eventType...)
	b = append(b, ',')
	b = append(b, e.customerID...)
	b = append(b, ',')
	b = append(b, e.subscriptionID...)
	b = append(b, ',')
	b = e.ts.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, ',', '"')
	for _, c := range e.props {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	b = append(b, '"', '\n')
	_, err := s.w.Write(b)
	return err
}

func (s *copySink) close() error {
	err := s.w.Flush()
	if cerr := s.gz.Close(); err == nil {
		err = cerr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// jsonlSink writes events.jsonl: one line per event, the exact body
// POST /v1/events receives for it (billing.Event's JSON). Benchmarks feed
// it to wrk so that wrk and replay send the sandbox the same events.
type jsonlSink struct {
	f *os.File
	w *bufio.Writer
}

func newJSONLSink(dir string) (*jsonlSink, error) {
	f, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, err
	}
	return &jsonlSink{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (s *jsonlSink) write(e *event) error {
	b, err := json.Marshal(billing.Event{ID: e.id, EventType: e.eventType, CustomerID: e.customerID,
		SubscriptionID: e.subscriptionID, Timestamp: e.ts.UTC(), Properties: e.props})
	if err != nil {
		return fmt.Errorf("event %s: %w", e.id, err)
	}
	if _, err := s.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return nil
}

func (s *jsonlSink) close() error {
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
