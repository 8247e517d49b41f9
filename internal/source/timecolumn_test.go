package source

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// A TIME column (a time of day) used as the timestamp would be read as
// seconds since 1970: it is refused at open, naming the column, as DATE
// is.
func TestParquetRefusesTimeOfDayTimestamps(t *testing.T) {
	type timeRow struct {
		ID         string `parquet:"id"`
		EventType  string `parquet:"event_type"`
		CustomerID string `parquet:"customer_id"`
		Timestamp  int64  `parquet:"timestamp,time(microsecond)"`
	}
	type dateRow struct {
		ID         string `parquet:"id"`
		EventType  string `parquet:"event_type"`
		CustomerID string `parquet:"customer_id"`
		Timestamp  int32  `parquet:"timestamp,date"`
	}
	dir := t.TempDir()
	for name, write := range map[string]func(string) error{
		"time": func(p string) error {
			return parquet.WriteFile(p, []timeRow{{"e1", "api.request", "c1", 3_600_000_000}})
		},
		"date": func(p string) error { return parquet.WriteFile(p, []dateRow{{"e1", "api.request", "c1", 20_000}}) },
	} {
		path := filepath.Join(dir, name+".parquet")
		if err := write(path); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), Spec{Kind: KindParquet, Path: path})
		if err == nil || !strings.Contains(err.Error(), `column "timestamp"`) || !strings.Contains(err.Error(), "not an instant") && name == "time" {
			t.Errorf("%s column as timestamp: Open error %v; want a refusal naming the column", name, err)
		}
	}
}
