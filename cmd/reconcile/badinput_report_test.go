package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// After a replay of good and bad records together, verify's report
// accounts for every row of the source and flags exactly what the API
// refused: the reader's invalid rows and the rows outside the window are
// counted apart, a repeated id counts once, and the events the API
// rejected show as usage it lacks.
func TestVerifyReportAccountsForBadInput(t *testing.T) {
	e := newBadEnv(t)
	p := func(s string) *string { return &s }
	ts := badInputDay
	var rows []nullableRow
	for _, g := range e.good(5) {
		rows = append(rows, nullableRow{ID: p(g.ID), EventType: p(g.EventType), CustomerID: p(g.CustomerID), SubscriptionID: g.SubscriptionID,
			Timestamp: &ts, Properties: p(g.Properties)})
	}
	row := func(id string) nullableRow {
		return nullableRow{ID: p(id), EventType: p("api.request"), CustomerID: p(e.cust), SubscriptionID: p(e.sub), Timestamp: &ts, Properties: p(`{"bytes":1}`)}
	}
	noID, noCust := row(""), row("null-customer")
	noID.ID, noCust.CustomerID = nil, nil
	huge := row("huge")
	huge.Properties = p(`{"bytes":1,"blob":"` + strings.Repeat("x", 2<<20) + `"}`)
	unknown := row("unknown-subscription")
	unknown.SubscriptionID = p("01944b1f-0000-7000-8000-00000000dead")
	late := row("late")
	after := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	late.Timestamp = &after
	rows = append(rows, noID, noCust, huge, unknown, late, rows[0])
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "mixed.parquet"), rows)
	const window = "2026-10-01..2026-11-01"

	o := replayBad(t, e, "parquet:"+dir, "-window", window)
	if o.code != 1 || len(o.letters) != 4 || o.summary == nil || o.summary.Accepted != 5 || o.summary.Duplicate != 1 {
		for k, l := range o.letters {
			t.Logf("%s: %s %s %d %.80s", k, l.Kind, l.Field, l.Status, l.Reason)
		}
		t.Fatalf("replay: exit %d, %d dead letters, summary %+v; want 1, 4 (2 invalid, 2 rejected), 5 accepted and 1 duplicate\n%s",
			o.code, len(o.letters), o.summary, o.stderr)
	}
	out := t.TempDir()
	code, _, stderr := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"verify", "-source", "parquet:"+dir, "-window", window, "-out", out)
	if code != 3 {
		t.Fatalf("verify: exit %d, want 3 (the API lacks the rejected events)\n%s", code, stderr)
	}
	s := checkSummary(t, out)
	r := s.Rows
	if !s.RowsComplete || r.Declared != int64(len(rows)) || r.Declared != r.Events+r.Invalid+r.OutsideWindow {
		t.Errorf("report rows %+v: want all %d declared rows read and declared = events + invalid + outside window", r, len(rows))
	}
	if r.Invalid != 2 || r.OutsideWindow != 1 || r.Duplicates != 1 {
		t.Errorf("report rows: invalid %d, outside window %d, duplicates %d; want 2, 1, 1", r.Invalid, r.OutsideWindow, r.Duplicates)
	}
	// The huge event counts toward the subscription's request count and
	// bytes, which the API lacks; the unknown subscription is not in the API.
	want := map[string][]string{e.sub: {"under", "under"}, "01944b1f-0000-7000-8000-00000000dead": {"missing", "missing"}}
	if got := checkFlagged(t, out); !cmp.Equal(got, want, cmpopts.SortSlices(func(a, b string) bool { return a < b })) {
		t.Errorf("flagged pairs = %v, want %v", got, want)
	}
}
