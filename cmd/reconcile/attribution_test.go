package main

import (
	"path/filepath"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
)

// Events without subscription_id count toward the customer's first
// subscription: earliest created_at, ties broken by the smaller id. The
// sample holds customers whose subscriptions share created_at, some
// created in the opposite order of their ids; verify and the sandbox must
// pick the same one, so replaying such events and verifying them finds no
// discrepancy.
func TestVerifyAndSandboxAgreeOnTiedSubscriptions(t *testing.T) {
	d, err := sandbox.LoadSeedFile(filepath.Join(sample, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ cust, at string }
	firstSeen := map[key]string{} // the first subscription of each tie, in seed order
	var rows []eventRow
	reversed := 0
	for _, s := range d.Subscriptions {
		k := key{s.CustomerID, s.CreatedAt.String()}
		prev, tied := firstSeen[k]
		if !tied {
			firstSeen[k] = s.ID
			continue
		}
		if s.ID < prev {
			reversed++ // created after a sibling with the same created_at, with a smaller id
		}
	}
	if reversed == 0 {
		t.Fatal("the sample has no tie created in the opposite order of its ids: this test could not fail")
	}
	seen := map[string]bool{}
	for k := range firstSeen {
		if seen[k.cust] {
			continue
		}
		seen[k.cust] = true
		rows = append(rows, eventRow{ID: "tie-" + k.cust, EventType: "api.request", CustomerID: k.cust,
			Timestamp: badInputDay, Properties: `{"bytes":7}`})
	}
	e := newBadEnv(t)
	file := filepath.Join(t.TempDir(), "events.parquet")
	writeParquet(t, file, rows)
	if o := replayBad(t, e, "parquet:"+file); o.code != 0 {
		t.Fatalf("replay: exit %d\n%s", o.code, o.stderr)
	}
	code, out, errOut := runReconcile(t, map[string]string{"BILLING_API_URL": e.sb.URL, "BILLING_TOKEN": e.sb.AdminToken},
		"verify", "-source", "parquet:"+file, "-window", "2026-10-01..2026-11-01", "-out", t.TempDir())
	if code != 0 {
		t.Errorf("verify: exit %d over %d customers (%d ties in reverse id order); want 0\n%s\n%s", code, len(rows), reversed, out, errOut)
	}
}
