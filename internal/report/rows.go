package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
)

// Row is one line of discrepancies.csv and discrepancies.jsonl: a pair
// that is not a match. Quantities and amounts are exact decimal strings;
// RelDelta is (observed - expected) / |expected|, null when expected is 0.
type Row struct {
	SubscriptionID  string           `json:"subscription_id"`
	CustomerID      string           `json:"customer_id"`
	Meter           string           `json:"meter"`
	SKUID           string           `json:"sku_id"`
	EventType       string           `json:"event_type"`
	Property        string           `json:"property"`
	Aggregation     string           `json:"aggregation"`
	Measure         string           `json:"measure"`
	Class           reconcile.Class  `json:"class"`
	Expected        billing.Quantity `json:"expected"`
	Observed        billing.Quantity `json:"observed"`
	Delta           billing.Quantity `json:"delta"`
	RelDelta        *float64         `json:"rel_delta"`
	NotYetReflected bool             `json:"not_yet_reflected"`
	Events          int64            `json:"events"`
	SampleEventIDs  []string         `json:"sample_event_ids"`
	InvoiceID       string           `json:"invoice_id"`
	// Currency and MoneyNanos are what the row is worth (see
	// reconcile.Pair.Money); Impact says how: under_billed, over_billed,
	// at_risk, or "" for a row without money.
	Currency   string        `json:"currency"`
	MoneyNanos billing.Money `json:"money_nanos"`
	Impact     string        `json:"impact"`
	Detail     string        `json:"detail"`
}

// csvHeader names the CSV columns, in Row's order.
var csvHeader = []string{"subscription_id", "customer_id", "meter", "sku_id", "event_type", "property", "aggregation",
	"measure", "class", "expected", "observed", "delta", "rel_delta", "not_yet_reflected", "events", "sample_event_ids",
	"invoice_id", "currency", "money_nanos", "impact", "detail"}

// rowOf converts a pair; rows are made one at a time, so writing a large
// report does not copy every pair.
func rowOf(p reconcile.Pair) Row {
	row := Row{
		SubscriptionID: p.SubscriptionID, CustomerID: p.CustomerID, Meter: p.Meter, SKUID: p.SKUID,
		EventType: p.EventType, Property: p.Property, Aggregation: p.Aggregation, Measure: p.Measure,
		Class: p.Class, Expected: p.Expected, Observed: p.Observed, Delta: p.Delta,
		NotYetReflected: p.NotYetReflected, Events: p.Events, SampleEventIDs: p.SampleEventIDs,
		InvoiceID: p.InvoiceID, Currency: p.Currency, MoneyNanos: p.Money, Impact: p.Impact(), Detail: p.Detail,
	}
	if row.SampleEventIDs == nil {
		row.SampleEventIDs = []string{}
	}
	if f, ok := p.RelDelta(); ok {
		row.RelDelta = &f
	}
	return row
}

// textCell guards a text cell against formula injection, as OWASP
// recommends: a cell that starts with =, +, -, @, a tab or a carriage
// return is run as a formula by spreadsheet programs, so it gets a leading
// single quote. Numeric cells (quantities, deltas) are left as they are:
// they are ours, and a negative delta must stay a number.
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes discrepancies.csv: a header, then one row per pair that
// is not a match, sorted by subscription, measure and meter; sample ids are
// separated by spaces.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	err := r.each(func(p *reconcile.Pair) error {
		row := rowOf(*p)
		rel := ""
		if row.RelDelta != nil {
			rel = strconv.FormatFloat(*row.RelDelta, 'g', 8, 64)
		}
		t := textCell
		rec := []string{t(row.SubscriptionID), t(row.CustomerID), t(row.Meter), t(row.SKUID), t(row.EventType), t(row.Property),
			t(row.Aggregation), t(row.Measure), t(string(row.Class)), row.Expected.String(), row.Observed.String(),
			row.Delta.String(), rel, strconv.FormatBool(row.NotYetReflected), strconv.FormatInt(row.Events, 10),
			t(strings.Join(row.SampleEventIDs, " ")), t(row.InvoiceID), t(row.Currency), row.MoneyNanos.String(), row.Impact, t(row.Detail)}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSONL writes discrepancies.jsonl: one Row per line.
func WriteJSONL(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := r.each(func(p *reconcile.Pair) error { return enc.Encode(rowOf(*p)) }); err != nil {
		return err
	}
	return bw.Flush()
}
