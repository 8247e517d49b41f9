package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/duration"
)

// Read is the inverse of Write: what it reads writes the same five files
// again, byte for byte, and holds the same discrepancies.
func TestReadRoundTrip(t *testing.T) {
	withReplay := sample()
	withReplay.Replay = Replays{"": {Read: 12, Accepted: 12, Elapsed: duration.Duration(1500 * time.Millisecond)}}
	merged := sample()
	merged.Replay = Replays{"0/2": {Read: 5, Accepted: 5}, "1/2": {Read: 7, Accepted: 6, Rejected: 1, DeadLettered: 1}}
	for _, tt := range []struct {
		name string
		rep  *Report
	}{{"sample", sample()}, {"failed", failedEarly()}, {"replay", withReplay}, {"merged replays", merged}} {
		t.Run(tt.name, func(t *testing.T) {
			first, second := t.TempDir(), t.TempDir()
			if _, err := Write(first, tt.rep); err != nil {
				t.Fatal(err)
			}
			got, err := Read(first)
			if err != nil {
				t.Fatalf("Read(%s) = %v", first, err)
			}
			if _, err := Write(second, got); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{SummaryFile, CSVFile, JSONLFile, MarkdownFile, HTMLFile} {
				a, _ := os.ReadFile(filepath.Join(first, name))
				b, err := os.ReadFile(filepath.Join(second, name))
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("Write(Read(dir)) wrote another %s (%v):\n%s\nwant:\n%s", name, err, b, a)
				}
			}
			if diff := cmp.Diff(tt.rep.Replay, got.Replay); diff != "" {
				t.Errorf("replay statistics read back differ (-wrote +read):\n%s", diff)
			}
			if tt.rep.Result == nil {
				if got.Result != nil {
					t.Errorf("Read of a run without a result = %+v, want a nil Result", got.Result)
				}
				return
			}
			opts := cmp.Options{
				cmp.Comparer(func(a, b billing.Quantity) bool { return a.Cmp(b) == 0 }),
				cmp.Comparer(func(a, b billing.Money) bool { return a.Cmp(b) == 0 }),
			}
			if diff := cmp.Diff(tt.rep.Result.Discrepancies, got.Result.Discrepancies, opts); diff != "" {
				t.Errorf("Read discrepancies (-written +read):\n%s", diff)
			}
			want, have := tt.rep.Result, got.Result
			if have.Shard != want.Shard || !reflect.DeepEqual(have.Rows, want.Rows) || have.Pairs != want.Pairs || have.Settle != want.Settle ||
				have.ScanTime != want.ScanTime || have.Mismatches() != want.Mismatches() {
				t.Errorf("Read result = %+v, want %+v", have, want)
			}
		})
	}
}

func TestReadRefuses(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{name: "no summary", files: map[string]string{}, wantErr: "summary.json: no such file"},
		{name: "bad summary", files: map[string]string{SummaryFile: "{"}, wantErr: "unexpected end of JSON"},
		{name: "bad shard", files: map[string]string{SummaryFile: `{"window":{"from":"2026-10-01T00:00:00Z","to":"2026-11-01T00:00:00Z"},"shard":"x","settle":{"budget":"0s","elapsed":"0s"}}`, JSONLFile: ""},
			wantErr: "shard"},
		{name: "no rows", files: map[string]string{SummaryFile: `{"window":{"from":"2026-10-01T00:00:00Z","to":"2026-11-01T00:00:00Z"},"shard":"0/1","settle":{"budget":"0s","elapsed":"0s"}}`},
			wantErr: "discrepancies.jsonl: no such file"},
		{name: "bad row", files: map[string]string{SummaryFile: `{"window":{"from":"2026-10-01T00:00:00Z","to":"2026-11-01T00:00:00Z"},"shard":"0/1","settle":{"budget":"0s","elapsed":"0s"}}`,
			JSONLFile: `{"subscription_id":"a","class":"under"}` + "\n" + `{"subscription":"b"}` + "\n"}, wantErr: "row 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Read(%v) = %+v, %v, want an error containing %q", tt.files, got, err, tt.wantErr)
			}
		})
	}
}
