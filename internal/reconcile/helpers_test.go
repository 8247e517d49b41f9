package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/pgtest"
	"github.com/billharness/billharness/internal/source/sourcetest"
	"github.com/jackc/pgx/v5"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
	"github.com/billharness/billharness/internal/source"
)

// october is the window of every test.
var october = source.Window{
	From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
	To:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
}

// at is a time in October.
func at(day, hour int) time.Time { return time.Date(2026, 10, day, hour, 0, 0, 0, time.UTC) }

// row is the sample generator's Parquet row layout.
type row = sourcetest.Row

// event builds a row; sub "" leaves subscription_id NULL.
var event = sourcetest.Event

// writeParquet writes rows to a Parquet file in a fresh directory and
// returns the spec reading it.
func writeParquet(t testing.TB, rows []row) source.Spec {
	t.Helper()
	dir := t.TempDir()
	sourcetest.WriteFile(t, filepath.Join(dir, "events.parquet"), rows, parquet.MaxRowsPerRowGroup(64))
	return source.Spec{Kind: source.KindParquet, Path: dir}
}

// writePostgres loads rows into a table of a new schema of the test
// server (make test starts one) and returns the source that reads it.
func writePostgres(t testing.TB, rows []row) source.Spec {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Connect(t)
	schema := fmt.Sprintf("reconcile_test_%d", time.Now().UnixNano())
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+schema+`.usage_events (id text, event_type text, customer_id text,
		subscription_id text, "timestamp" timestamptz, properties jsonb)`); err != nil {
		t.Fatal(err)
	}
	data := make([][]any, len(rows))
	for i, r := range rows {
		data[i] = []any{r.ID, r.EventType, r.CustomerID, r.SubscriptionID, r.Timestamp, r.Properties}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{schema, "usage_events"},
		[]string{"id", "event_type", "customer_id", "subscription_id", "timestamp", "properties"}, pgx.CopyFromRows(data)); err != nil {
		t.Fatal(err)
	}
	return source.Spec{Kind: source.KindPostgres, DSN: pgtest.DSN(t), Table: schema + ".usage_events"}
}

// The test catalog: one plan with a meter of each aggregation.
const (
	planID = "plan_usage"
	skuReq = "sku_requests" // api.request Count
	skuByt = "sku_bytes"    // api.request bytes Sum
	skuTok = "sku_tokens"   // llm.completion tokens Sum
	skuMod = "sku_models"   // llm.completion model UniqueCount
	skuPk  = "sku_peak"     // storage bytes Max
)

// catalog returns a seed with customers cus_<name> holding subscriptions
// sub_<name> (created in the order given) on the test plan.
func catalog(subs ...string) *sandbox.SeedData {
	d := &sandbox.SeedData{
		Products: []billing.Product{{ID: "prod", Name: "Harness"}},
		Plans:    []billing.Plan{{ID: planID, ProductID: "prod", Name: "Usage", Currency: "USD"}},
	}
	sku := func(id, name, typ, prop, agg, price string) billing.SKU {
		return billing.SKU{ID: id, PlanID: planID, Name: name, PricingModel: "PerUnit", UnitAmountNanos: billing.MustMoney(price),
			MeterEventType: typ, MeterProperty: prop, Aggregation: agg, Currency: "USD"}
	}
	d.SKUs = []billing.SKU{
		sku(skuReq, "Requests", "api.request", "", billing.AggCount, "100000000"),
		sku(skuByt, "Bytes", "api.request", "bytes", billing.AggSum, "50"),
		sku(skuTok, "Tokens", "llm.completion", "tokens", billing.AggSum, "3000000"),
		sku(skuMod, "Models", "llm.completion", "model", billing.AggUniqueCount, "1000000000000"),
		sku(skuPk, "Peak", "storage", "bytes", billing.AggMax, "20"),
	}
	created := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	custs := map[string]bool{}
	for i, s := range subs {
		cust := "cus_" + s
		if len(s) > 2 && s[len(s)-2] == '_' { // "x_2" is a second subscription of customer x
			cust = "cus_" + s[:len(s)-2]
		}
		if !custs[cust] {
			custs[cust] = true
			d.Customers = append(d.Customers, billing.Customer{ID: cust, DisplayName: cust, Currency: "USD"})
		}
		d.Subscriptions = append(d.Subscriptions, billing.Subscription{ID: "sub_" + s, CustomerID: cust, PlanID: planID,
			Currency: "USD", CreatedAt: created.Add(time.Duration(i) * time.Second)})
	}
	return d
}

// startSandbox starts a sandbox with cfg and returns an admin client.
func startSandbox(t testing.TB, cfg sandbox.Config) (*sandboxtest.Sandbox, *billing.Client) {
	t.Helper()
	sb := sandboxtest.Start(t, cfg)
	return sb, sb.AdminClient(t)
}

// send posts rows to the API, 8 at a time.
func send(t testing.TB, c *billing.Client, rows []row) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(8)
	for _, r := range rows {
		g.Go(func() error {
			_, err := c.SendEvent(ctx, r.APIEvent())
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("send events: %v", err)
	}
}

// fakeClock is a clock tests move by hand, shared by the sandbox (usage
// lag) and Verify (settling).
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Sleep advances the clock instead of waiting.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// ids returns n event ids prefix-0, prefix-1…
func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(i)
	}
	return out
}

// pairsBy indexes discrepancies by "subscription/meter".
func pairsBy(res *Result) map[string]Pair {
	m := map[string]Pair{}
	for _, p := range res.Discrepancies {
		m[p.SubscriptionID+"/"+p.Meter] = p
	}
	return m
}
