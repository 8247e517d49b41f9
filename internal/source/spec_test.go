package source

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/parsetest"
	"github.com/google/go-cmp/cmp"
)

func TestParseSpec(t *testing.T) {
	tests := []parsetest.Case[Spec]{
		{In: "parquet:data/*.parquet", Want: Spec{Kind: KindParquet, Path: "data/*.parquet"}},
		{In: "postgres://u@h/db", Want: Spec{Kind: KindPostgres, DSN: "postgres://u@h/db"}},
		{In: "postgresql://u@h/db", Want: Spec{Kind: KindPostgres, DSN: "postgresql://u@h/db"}},
		{In: "parquet:", Err: "empty path"},
		{In: "mysql://u:secret@h/db", Err: "xxxxx"},
		{In: "data.parquet", Err: "want parquet:PATH"},
	}
	parsetest.Run(t, "ParseSpec", ParseSpec, tests, func(t *testing.T, c parsetest.Case[Spec], _ Spec, err error) {
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseSpec(%q) error = %v, leaks the password", c.In, err)
		}
	})

}

func TestParseColumnMap(t *testing.T) {
	tests := []parsetest.Case[ColumnMap]{
		{In: "", Want: ColumnMap{}},
		{In: "id=event_id, timestamp=ts", Want: ColumnMap{"id": "event_id", "timestamp": "ts"}},
		{In: "properties=attrs.map", Want: ColumnMap{"properties": "attrs.map"}},
		{In: "id", Err: "want field=column"},
		{In: "idx=a", Err: `unknown field "idx"`},
		{In: "id=", Err: "empty column name"},
		{In: "id=a,id=b", Err: "mapped twice"},
	}
	parsetest.Run(t, "ParseColumnMap", ParseColumnMap, tests, func(t *testing.T, _ parsetest.Case[ColumnMap], got ColumnMap, err error) {
		if back, _ := ParseColumnMap(got.String()); err == nil && !cmp.Equal(back, got) {
			t.Errorf("ParseColumnMap(%q).String() = %q, does not parse back", got, got.String())
		}
	})

}

func TestPositionCompareAndJSON(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	// Each position sorts strictly after the one before it.
	ordered := []Position{
		{},
		{Kind: KindParquet, File: "a/dt=1/x.parquet", RowGroup: 0, Row: 0},
		{Kind: KindParquet, File: "a/dt=1/x.parquet", RowGroup: 0, Row: 9},
		{Kind: KindParquet, File: "a/dt=1/x.parquet", RowGroup: 1, Row: 0},
		{Kind: KindParquet, File: "a/dt=2/x.parquet", RowGroup: 0, Row: 0},
		{Kind: KindPostgres, Timestamp: t0, ID: "B"},
		{Kind: KindPostgres, Timestamp: t0, ID: "B", Seq: 1},
		{Kind: KindPostgres, Timestamp: t0, ID: "a"},
		{Kind: KindPostgres, Timestamp: t0.Add(time.Microsecond), ID: "A"},
		{Kind: KindPostgres, NullKey: true, Seq: 0},
		{Kind: KindPostgres, NullKey: true, Seq: 1},
	}
	for i := 1; i < len(ordered); i++ {
		a, b := ordered[i-1], ordered[i]
		if got := a.Compare(b); got != -1 {
			t.Errorf("(%v).Compare(%v) = %d, want -1", a, b, got)
		}
		if got := b.Compare(a); got != 1 {
			t.Errorf("(%v).Compare(%v) = %d, want 1", b, a, got)
		}
	}
	for _, p := range ordered {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q Position
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		if p.Compare(q) != 0 || !p.Timestamp.Equal(q.Timestamp) {
			t.Errorf("Position round trip %s = %+v, want %+v", b, q, p)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{"ok parquet", Spec{Kind: KindParquet, Path: "x"}, ""},
		{"table on parquet", Spec{Kind: KindParquet, Path: "x", Table: "t"}, "postgres only"},
		{"table and query", Spec{Kind: KindPostgres, DSN: "postgres://x", Table: "t", Query: "select 1"}, "not both"},
		{"bad shard", Spec{Kind: KindParquet, Path: "x", Shard: Shard{5, 2}}, "out of range"},
		{"resume kind", Spec{Kind: KindParquet, Path: "x", After: Position{Kind: KindPostgres}}, "resume position is postgres"},
		{"unknown", Spec{}, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"0/4", "id=a,timestamp=b", "2026-10", "2026-10-01..2026-11-01", "a..b", "=,", "1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sh, err := ParseShard(s); err == nil && (sh.Index < 0 || sh.Index >= sh.Count) {
			t.Errorf("ParseShard(%q) = %v, out of range", s, sh)
		}
		if m, err := ParseColumnMap(s); err == nil {
			if back, err := ParseColumnMap(m.String()); err != nil || !cmp.Equal(back, m) {
				t.Errorf("ParseColumnMap(%q) = %v: String %q does not parse back", s, m, m.String())
			}
		}
		if w, err := ParseWindow(s); err == nil && !w.From.IsZero() && !w.To.IsZero() && !w.From.Before(w.To) {
			t.Errorf("ParseWindow(%q) = %v, empty window", s, w)
		}
		_, _ = ParseSpec(s)
	})
}
