package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// uuid7 returns a UUIDv7-looking id: the 48-bit millisecond time, the
// version and variant bits, and random bits from r (deterministic by seed).
func uuid7(r *rand.Rand, t time.Time) string {
	ms := uint64(t.UnixMilli())
	a, b := r.Uint64(), r.Uint64()
	hi := ms<<16 | 0x7000 | a&0x0fff
	lo := b&0x3fffffffffffffff | 0x8000000000000000
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// subscription is one generated subscription and its usage profile.
type subscription struct {
	id, customerID string
	model          int     // preferred LLM model
	storage        float64 // stored bytes at the start of the month
}

// world is the generated catalog, customers and subscriptions.
type world struct {
	seed      seedFile
	subs      [][]subscription // by customer
	customers []string
	zipf      *rand.Zipf
	perm      []int // zipf rank -> customer index, so heavy users are spread out
}

var models = []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "llama-3.1-70b"}

var endpoints = []string{"/v1/chat/completions", "/v1/embeddings", "/v1/files", "/v1/models", "/v1/search"}

func newWorld(r *rand.Rand, c config) *world {
	created := c.Month.AddDate(0, -3, 0)
	w := &world{}
	product := billing.Product{ID: uuid7(r, created), Name: "Harness AI Platform", Description: "Metered API, LLM and storage usage"}
	plan := billing.Plan{
		ID: uuid7(r, created), ProductID: product.ID, Name: "Usage Pro", Description: "Pay as you go",
		BillingCadence: "Monthly", TrialDays: 0, Currency: "USD",
	}
	sku := func(name, eventType, property, agg, pico string) billing.SKU {
		return billing.SKU{
			ID: uuid7(r, created), PlanID: plan.ID, Name: name, PricingModel: "PerUnit",
			UnitAmountNanos: billing.MustMoney(pico), MeterEventType: eventType, MeterProperty: property,
			Aggregation: agg, Currency: "USD",
		}
	}
	w.seed = seedFile{
		Products: []billing.Product{product},
		Plans:    []billing.Plan{plan},
		SKUs: []billing.SKU{
			sku("API Requests", "api.request", "", billing.AggCount, "100000000"),               // $0.0001 per request
			sku("API Egress Bytes", "api.request", "bytes", billing.AggSum, "50"),               // $0.05 per GB
			sku("Input Tokens", "llm.completion", "input_tokens", billing.AggSum, "3000000"),    // $3 per million
			sku("Output Tokens", "llm.completion", "output_tokens", billing.AggSum, "15000000"), // $15 per million
			sku("Models Used", "llm.completion", "model", billing.AggUniqueCount, "1000000000000"),
			sku("Peak Storage Bytes", "storage.byte-hour", "bytes", billing.AggMax, "20"), // $0.02 per GB at peak
		},
	}
	periodEnd := c.Month.AddDate(0, 1, 0)
	for i := range c.Customers {
		t := created.Add(time.Duration(i) * time.Minute)
		cust := billing.Customer{
			ID: uuid7(r, t), DisplayName: fmt.Sprintf("Customer %04d", i+1),
			Email: fmt.Sprintf("billing+%04d@example.com", i+1), Currency: "USD", AccountType: "Business", CreatedAt: t,
		}
		w.seed.Customers = append(w.seed.Customers, cust)
		w.customers = append(w.customers, cust.ID)
		n := 1
		if r.Float64() < 0.3 {
			n = 2
		}
		var subs []subscription
		for range n {
			s := billing.Subscription{
				ID: uuid7(r, t.Add(time.Second)), CustomerID: cust.ID, PlanID: plan.ID, Currency: "USD",
				Status: "Active", CurrentPeriodStart: c.Month, CurrentPeriodEnd: periodEnd, CreatedAt: t.Add(time.Second),
			}
			w.seed.Subscriptions = append(w.seed.Subscriptions, s)
			subs = append(subs, subscription{
				id: s.ID, customerID: cust.ID, model: r.IntN(len(models)),
				storage: math.Exp(18 + 3*r.Float64()), // ~65 MB to ~1.3 GB
			})
		}
		w.subs = append(w.subs, subs)
	}
	w.zipf = rand.NewZipf(r, 1.2, 2, uint64(c.Customers-1))
	w.perm = r.Perm(c.Customers)
	return w
}

// event is one generated usage event.
type event struct {
	id, eventType, customerID, subscriptionID string
	ts                                        time.Time
	props                                     []byte
}

// newEvent draws one event at time ts.
func (w *world) newEvent(r *rand.Rand, ts time.Time, monthStart time.Time) event {
	ci := w.perm[w.zipf.Uint64()]
	subs := w.subs[ci]
	s := subs[0]
	if len(subs) > 1 && r.Float64() < 0.3 {
		s = subs[1]
	}
	e := event{id: uuid7(r, ts), customerID: s.customerID, subscriptionID: s.id, ts: ts}
	var p []byte
	switch x := r.Float64(); {
	case x < 0.55:
		e.eventType = "api.request"
		status := 200
		switch y := r.Float64(); {
		case y < 0.02:
			status = 429
		case y < 0.03:
			status = 500
		case y < 0.05:
			status = 404
		}
		p = fmt.Appendf(nil, `{"endpoint":%q,"status":%d,"bytes":%d}`,
			endpoints[r.IntN(len(endpoints))], status, int64(math.Exp(6+2*r.NormFloat64()*0.6)))
	case x < 0.90:
		e.eventType = "llm.completion"
		m := s.model
		if r.Float64() < 0.15 {
			m = r.IntN(len(models))
		}
		in := 1 + int64(math.Exp(6.5+r.NormFloat64()))
		out := 1 + int64(math.Exp(5+0.8*r.NormFloat64()))
		p = fmt.Appendf(nil, `{"input_tokens":%d,"output_tokens":%d,"model":%q}`, min(in, 200_000), min(out, 16_000), models[m])
	default:
		e.eventType = "storage.byte-hour"
		days := ts.Sub(monthStart).Hours() / 24
		p = fmt.Appendf(nil, `{"bytes":%d}`, int64(s.storage*(1+0.02*days)*(1+0.05*r.Float64())))
	}
	e.props = p
	return e
}
