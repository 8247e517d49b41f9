package source

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../testdata/fixtures"

// want is one of the four canonical events every fixture holds (see
// testdata/fixtures/gen and testdata/fixtures/node/fixtures.mjs), with its
// properties as each way of storing them renders them.
type want struct {
	id, eventType, customer, sub string
	ts                           time.Time
	json, numeric, typed         string
}

var canonical = []want{
	{"evt-1", "api.request", "cus-1", "sub-1", time.Date(2026, 10, 1, 12, 0, 0, 123e6, time.UTC),
		`{"endpoint":"/v1/chat","status":200,"bytes":512}`, `{"bytes":512}`, `{"bytes":512}`},
	{"evt-2", "llm.completion", "cus-1", "", time.Date(2026, 10, 15, 8, 30, 0, 0, time.UTC),
		`{"input_tokens":1200,"output_tokens":300,"model":"gpt-4o"}`, `{"input_tokens":1200,"output_tokens":300}`,
		`{"input_tokens":1200,"output_tokens":300,"model":"gpt-4o"}`},
	{"evt-3", "storage.byte-hour", "cus-2", "sub-2", time.Date(2026, 10, 31, 23, 59, 59, 999e6, time.UTC),
		`{"bytes":1073741824}`, `{"bytes":1073741824}`, `{"bytes":1073741824}`},
	{"evt-4", "llm.completion", "cus-2", "sub-2", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		`{"input_tokens":5,"output_tokens":7,"model":"claude-sonnet-4"}`, `{"input_tokens":5,"output_tokens":7}`,
		`{"input_tokens":5,"output_tokens":7,"model":"claude-sonnet-4"}`},
}

// readAll drains r, returning the events and the record errors.
func readAll(t *testing.T, r Reader) ([]Record, []*RecordError) {
	t.Helper()
	ctx := context.Background()
	var recs []Record
	var bad []*RecordError
	for {
		rec, err := r.Next(ctx)
		var re *RecordError
		switch {
		case errors.Is(err, io.EOF):
			return recs, bad
		case errors.As(err, &re):
			bad = append(bad, re)
		case err != nil:
			t.Fatalf("Next() error = %v", err)
		default:
			recs = append(recs, rec)
		}
	}
}

func openSpec(t *testing.T, spec Spec) Reader {
	t.Helper()
	r, err := Open(context.Background(), spec)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", spec.Path, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// normJSON re-encodes JSON so that equal objects compare equal.
func normJSON(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("properties %s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestFixtures(t *testing.T) {
	typed := []string{"input_tokens", "output_tokens", "bytes", "model"}
	renamed := ColumnMap{"id": "event_id", "event_type": "type", "customer_id": "account", "subscription_id": "sub", "timestamp": "ts"}
	tests := []struct {
		file  string
		props string // "json", "numeric" (MAP of integers) or "typed"
		cols  ColumnMap
		typed []string
	}{
		{file: "parquet-go/ts_millis_utc.parquet", props: "json"},
		{file: "parquet-go/ts_millis_local.parquet", props: "json"},
		{file: "parquet-go/ts_micros_utc.parquet", props: "json"},
		{file: "parquet-go/ts_micros_local.parquet", props: "json"},
		{file: "parquet-go/ts_nanos_utc.parquet", props: "json"},
		{file: "parquet-go/ts_nanos_local.parquet", props: "json"},
		{file: "parquet-go/ts_epoch_millis.parquet", props: "json"},
		{file: "parquet-go/ts_rfc3339.parquet", props: "json"},
		{file: "parquet-go/codec_snappy_dict.parquet", props: "json"},
		{file: "parquet-go/codec_zstd_dict.parquet", props: "json"},
		{file: "parquet-go/codec_gzip_dict.parquet", props: "json"},
		{file: "parquet-go/codec_none_dict.parquet", props: "json"},
		{file: "parquet-go/props_map.parquet", props: "numeric"},
		{file: "parquet-go/props_typed.parquet", props: "typed", typed: typed},
		{file: "parquet-go/renamed.parquet", props: "json", cols: ColumnMap{"id": "event_id", "event_type": "type",
			"customer_id": "account", "subscription_id": "sub", "timestamp": "ts", "properties": "attrs"}},
		{file: "duckdb/json_tstz_zstd.parquet", props: "json"},
		{file: "duckdb/map_tsns_snappy.parquet", props: "numeric"},
		{file: "duckdb/typed_renamed_tsms_gzip.parquet", props: "typed", cols: renamed, typed: typed},
		{file: "duckdb/text_ts_uncompressed.parquet", props: "json"},
		{file: "arrow/json_tsms_utc_snappy.parquet", props: "json"},
		{file: "arrow/typed_dict_tsus_zstd.parquet", props: "typed", typed: typed},
		{file: "arrow/json_epoch_gzip.parquet", props: "json"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(fixtures, tt.file)
			r := openSpec(t, Spec{Kind: KindParquet, Path: path, Columns: tt.cols, Properties: tt.typed})
			recs, bad := readAll(t, r)
			if len(bad) > 0 {
				t.Fatalf("record errors: %v", bad)
			}
			if len(recs) != len(canonical) {
				t.Fatalf("read %d events, want %d", len(recs), len(canonical))
			}
			for i, w := range canonical {
				wantProps := map[string]string{"json": w.json, "numeric": w.numeric, "typed": w.typed}[tt.props]
				ev := recs[i].Event
				got := Event{ID: ev.ID, EventType: ev.EventType, CustomerID: ev.CustomerID, SubscriptionID: ev.SubscriptionID,
					Timestamp: ev.Timestamp, Properties: json.RawMessage(normJSON(t, ev.Properties))}
				wantEv := Event{ID: w.id, EventType: w.eventType, CustomerID: w.customer, SubscriptionID: w.sub,
					Timestamp: w.ts, Properties: json.RawMessage(normJSON(t, []byte(wantProps)))}
				if diff := cmp.Diff(wantEv, got); diff != "" {
					t.Errorf("event %d mismatch (-want +got):\n%s", i, diff)
				}
				if ev.Timestamp.Location() != time.UTC {
					t.Errorf("event %d timestamp location = %v, want UTC", i, ev.Timestamp.Location())
				}
			}
			if st := r.Stats(); st.Declared != 4 || st.Emitted != 4 {
				t.Errorf("Stats() = %+v, want 4 declared and emitted", st)
			}
		})
	}
}

func TestFixtureEpochSeconds(t *testing.T) {
	r := openSpec(t, Spec{Kind: KindParquet, Path: filepath.Join(fixtures, "parquet-go/ts_epoch_seconds.parquet")})
	recs, _ := readAll(t, r)
	for i, rec := range recs {
		if want := canonical[i].ts.Truncate(time.Second); !rec.Event.Timestamp.Equal(want) {
			t.Errorf("event %d timestamp = %v, want %v", i, rec.Event.Timestamp, want)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	path := filepath.Join(fixtures, "parquet-go/invalid.parquet")
	r := openSpec(t, Spec{Kind: KindParquet, Path: path})
	recs, bad := readAll(t, r)
	type got struct {
		Pos           Position
		Field, Reason string
	}
	at := func(row int64) Position { return Position{Kind: KindParquet, File: path, Row: row} }
	want := []got{
		{at(1), FieldID, "missing"},
		{at(2), FieldEventType, "missing"},
		{at(3), FieldCustomerID, "missing"},
		{at(4), FieldTimestamp, "missing"},
		{at(5), FieldTimestamp, `unparsable "01/10/2026 12:00": want RFC 3339`},
		{at(6), FieldProperties, "not a JSON object"},
		{at(7), FieldProperties, "malformed JSON"},
	}
	var gots []got
	for _, e := range bad {
		gots = append(gots, got{e.Pos, e.Field, e.Reason})
		var raw map[string]string
		if err := json.Unmarshal(e.Raw, &raw); err != nil {
			t.Errorf("RecordError at %v: Raw %s is not a JSON object of strings: %v", e.Pos, e.Raw, err)
		}
		if !strings.Contains(e.Error(), "invalid.parquet row group 0 row") {
			t.Errorf("RecordError.Error() = %q, want the position in it", e.Error())
		}
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("record errors mismatch (-want +got):\n%s", diff)
	}
	if len(recs) != 2 || recs[0].Event.ID != "ok-1" || recs[1].Event.ID != "ok-2" || recs[1].Event.Properties != nil {
		t.Errorf("valid records = %+v, want ok-1 and ok-2 (no properties)", recs)
	}
	if st := r.Stats(); st.Invalid != 7 || st.Emitted != 2 || st.Declared != 9 {
		t.Errorf("Stats() = %+v, want 7 invalid, 2 emitted, 9 declared", st)
	}
}

func TestBrokenFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		spec    Spec
		openErr string // error from Open
		nextErr string // else error from Next
	}{
		{name: "truncated", file: "parquet-go/truncated.parquet", openErr: "truncated.parquet: not a readable Parquet file"},
		{name: "corrupt", file: "parquet-go/corrupt.parquet", nextErr: "corrupt.parquet row group 0"},
		{name: "missing column", file: "parquet-go/renamed.parquet", openErr: `renamed.parquet: column "id" (id) not found; the file has`},
		{name: "missing mapped column", file: "parquet-go/ts_micros_utc.parquet", spec: Spec{Columns: ColumnMap{"subscription_id": "sub"}},
			openErr: `column "sub" (subscription_id) not found`},
		{name: "missing property column", file: "parquet-go/ts_micros_utc.parquet", spec: Spec{Properties: []string{"tokens"}}, openErr: `column "tokens" (property) not found`},
		{name: "text timestamp column", file: "parquet-go/props_typed.parquet", spec: Spec{Columns: ColumnMap{"timestamp": "model"}},
			nextErr: ""}, // a text column as timestamp is RFC 3339 text: every row is a record error
		{name: "integer id and epoch timestamp", file: "parquet-go/props_typed.parquet", spec: Spec{Columns: ColumnMap{"id": "bytes", "timestamp": "input_tokens"}}},
		{name: "group as id", file: "parquet-go/props_map.parquet", spec: Spec{Columns: ColumnMap{"id": "properties"}}, openErr: `column "properties" is a group`},
		{name: "no match", file: "no-such-dir/*.parquet", openErr: "no file matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Kind, spec.Path = KindParquet, filepath.Join(fixtures, tt.file)
			r, err := Open(context.Background(), spec)
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) {
					t.Fatalf("Open(%s) error = %v, want containing %q", tt.file, err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%s) error = %v", tt.file, err)
			}
			defer r.Close()
			var last error
			for range 100 {
				_, last = r.Next(context.Background())
				var re *RecordError
				if last != nil && !errors.As(last, &re) {
					break
				}
			}
			if tt.nextErr == "" {
				if !errors.Is(last, io.EOF) {
					t.Fatalf("Next() final error = %v, want io.EOF", last)
				}
				return
			}
			if last == nil || errors.Is(last, io.EOF) || !strings.Contains(last.Error(), tt.nextErr) {
				t.Fatalf("Next() error = %v, want containing %q", last, tt.nextErr)
			}
			if _, again := r.Next(context.Background()); again == nil || again.Error() != last.Error() {
				t.Errorf("Next() after a fatal error = %v, want the same error again", again)
			}
		})
	}
}
