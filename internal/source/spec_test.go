package source

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		wantErr string
	}{
		{in: "parquet:data/*.parquet", want: Spec{Kind: KindParquet, Path: "data/*.parquet"}},
		{in: "postgres://u@h/db", want: Spec{Kind: KindPostgres, DSN: "postgres://u@h/db"}},
		{in: "postgresql://u@h/db", want: Spec{Kind: KindPostgres, DSN: "postgresql://u@h/db"}},
		{in: "parquet:", wantErr: "empty path"},
		{in: "mysql://u:secret@h/db", wantErr: "xxxxx"},
		{in: "data.parquet", wantErr: "want parquet:PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSpec(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("ParseSpec(%q) error = %v, leaks the password", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSpec(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSpec(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseColumnMap(t *testing.T) {
	tests := []struct {
		in      string
		want    ColumnMap
		wantErr string
	}{
		{in: "", want: ColumnMap{}},
		{in: "id=event_id, timestamp=ts", want: ColumnMap{"id": "event_id", "timestamp": "ts"}},
		{in: "properties=attrs.map", want: ColumnMap{"properties": "attrs.map"}},
		{in: "id", wantErr: "want field=column"},
		{in: "idx=a", wantErr: `unknown field "idx"`},
		{in: "id=", wantErr: "empty column name"},
		{in: "id=a,id=b", wantErr: "mapped twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseColumnMap(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseColumnMap(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseColumnMap(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseColumnMap(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if back, _ := ParseColumnMap(got.String()); !cmp.Equal(back, got) {
				t.Errorf("ParseColumnMap(%q).String() = %q, does not parse back", tt.in, got.String())
			}
		})
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{in: "0/4", want: Shard{0, 4}},
		{in: " 3/4 ", want: Shard{3, 4}},
		{in: "0/1", want: Shard{0, 1}},
		{in: "4/4", wantErr: "in [0, 4)"},
		{in: "-1/4", wantErr: "in [0, 4)"},
		{in: "1/0", wantErr: "at least 1"},
		{in: "a/b", wantErr: "integers"},
		{in: "3", wantErr: "want i/N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseShard(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    Window
		wantErr string
	}{
		{in: "", want: Window{}},
		{in: "2026-10", want: Window{oct, nov}},
		{in: "2026-10-01..2026-11-01", want: Window{oct, nov}},
		{in: "2026-10-01T02:00:00+02:00..", want: Window{From: oct}},
		{in: "..2026-11-01T00:00:00Z", want: Window{To: nov}},
		{in: "2026-11-01..2026-10-01", wantErr: "before"},
		{in: "yesterday..", wantErr: "neither RFC 3339"},
		{in: "2026-13", wantErr: "want FROM..TO"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWindow(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseWindow(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Fatalf("ParseWindow(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestWindowContains(t *testing.T) {
	w, _ := ParseWindow("2026-10")
	tests := []struct {
		t    string
		want bool
	}{
		{"2026-09-30T23:59:59.999999Z", false},
		{"2026-10-01T00:00:00Z", true},
		{"2026-10-31T23:59:59.999999Z", true},
		{"2026-11-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		ts, _ := time.Parse(time.RFC3339Nano, tt.t)
		if got := w.Contains(ts); got != tt.want {
			t.Errorf("Window(2026-10).Contains(%s) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestShardOf(t *testing.T) {
	// Reference values of FNV-1a 64 (hash/fnv) modulo n.
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"", 7, int(14695981039346656037 % 7)},
		{"a", 1000, int(0xaf63dc4c8601ec8c % 1000)},
		{"foobar", 97, int(0x85944171f73967e8 % 97)},
		{"anything", 1, 0},
		{"anything", 0, 0},
	}
	for _, tt := range tests {
		if got := ShardOf(tt.key, tt.n); got != tt.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
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
