// Package sourcetest holds what the tests that write event sources share:
// the Parquet row layout of the generated sample.
package sourcetest

import (
	"os"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/parquet-go/parquet-go"
)

// Row is one event row of a Parquet file in the layout the sample
// generator writes: dictionary-encoded low-cardinality strings, a nullable
// subscription, microsecond UTC timestamps and JSON-text properties.
type Row struct {
	ID             string    `parquet:"id"`
	EventType      string    `parquet:"event_type,dict"`
	CustomerID     string    `parquet:"customer_id,dict"`
	SubscriptionID *string   `parquet:"subscription_id,optional,dict"`
	Timestamp      time.Time `parquet:"timestamp,timestamp(microsecond:utc)"`
	Properties     string    `parquet:"properties,json"`
}

// Event builds a row; sub "" leaves subscription_id NULL.
func Event(id, typ, cust, sub string, ts time.Time, props string) Row {
	r := Row{ID: id, EventType: typ, CustomerID: cust, Timestamp: ts, Properties: props}
	if sub != "" {
		r.SubscriptionID = &sub
	}
	return r
}

// APIEvent is the row as the client sends it.
func (r Row) APIEvent() billing.Event {
	e := billing.Event{ID: r.ID, EventType: r.EventType, CustomerID: r.CustomerID, Timestamp: r.Timestamp}
	if r.SubscriptionID != nil {
		e.SubscriptionID = *r.SubscriptionID
	}
	if r.Properties != "" {
		e.Properties = []byte(r.Properties)
	}
	return e
}

// WriteFile writes rows to a new Parquet file at path with the writer
// options given (row group size, compression), failing the test on error.
func WriteFile[T any](t testing.TB, path string, rows []T, opts ...parquet.WriterOption) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
