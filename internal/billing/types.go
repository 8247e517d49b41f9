package billing

import (
	"encoding/json"
	"time"
)

// Event is one usage event, as POSTed to /v1/events.
type Event struct {
	ID             string          `json:"id"`
	EventType      string          `json:"event_type"`
	CustomerID     string          `json:"customer_id"`
	SubscriptionID string          `json:"subscription_id,omitempty"`
	Timestamp      time.Time       `json:"timestamp"`
	Properties     json.RawMessage `json:"properties,omitempty"`
}

// EventResult is the answer to POST /v1/events. Accepted is false, and
// Duplicate true, when the event id had been seen before: a successful,
// distinct outcome, not an error.
type EventResult struct {
	Accepted  bool   `json:"accepted"`
	EventID   string `json:"event_id"`
	Duplicate bool   `json:"duplicate,omitempty"`
	// Replayed reports that the answer came from the server's idempotency
	// cache (X-Idempotency-Replayed): the event had been sent before with
	// the same key.
	Replayed bool `json:"-"`
	// Uncertain reports that an earlier attempt of this call got no answer
	// or a 5xx, so the server may have processed it: a Replayed answer is
	// then most likely that attempt's. Without it, a Replayed answer means
	// another call (an earlier run, a repeated id) sent the event first.
	Uncertain bool `json:"-"`
	// Attempts is how many attempts the send took.
	Attempts int `json:"-"`
}

// Counted reports whether this call is the one that made the API count
// the event, the one classification replay, heal and loadgen share: not
// when the API answered that it had the event already (duplicate), nor
// when it replayed the answer of another call with the same key (an
// earlier run, an earlier copy of the id). An answer replayed after an
// unanswered attempt of this very call is most likely that attempt's, so
// it counts, and Ambiguous says so: totals are exact either way (the API
// counts an id once); only the split between counted and duplicate is
// uncertain, by one.
func (r *EventResult) Counted() bool { return !r.Duplicate && (!r.Replayed || r.Uncertain) }

// Ambiguous reports a Counted answer that was replayed: see Counted.
func (r *EventResult) Ambiguous() bool { return r.Counted() && r.Replayed }

// Aggregation names, as the API spells them [chosen].
const (
	AggSum         = "Sum"
	AggCount       = "Count"
	AggMax         = "Max"
	AggUniqueCount = "UniqueCount"
)

// Usage is the answer to GET /v1/subscriptions/{id}/usage.
type Usage struct {
	SubscriptionID string       `json:"subscription_id"`
	CustomerID     string       `json:"customer_id"`
	PeriodStart    time.Time    `json:"period_start"`
	PeriodEnd      time.Time    `json:"period_end"`
	Meters         []MeterUsage `json:"meters"`
}

// MeterUsage is one meter's aggregated quantity over the usage window.
type MeterUsage struct {
	SKUID       string   `json:"sku_id"`
	Name        string   `json:"name"`
	EventType   string   `json:"event_type"`
	Property    string   `json:"property,omitempty"`
	Aggregation string   `json:"aggregation"`
	Quantity    Quantity `json:"quantity"`
}

// Customer is a billable customer.
type Customer struct {
	ID          string    `json:"id,omitempty"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	AccountType string    `json:"account_type,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// Product groups plans in the catalog.
type Product struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Plan is a priced offer; its SKUs define the meters.
type Plan struct {
	ID             string `json:"id,omitempty"`
	ProductID      string `json:"product_id,omitempty"`
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	BillingCadence string `json:"billing_cadence,omitempty"`
	TrialDays      int    `json:"trial_days"`
	Currency       string `json:"currency,omitempty"`
}

// SKU is a priced line of a plan. A SKU with MeterEventType is a meter.
type SKU struct {
	ID              string `json:"id,omitempty"`
	PlanID          string `json:"plan_id"`
	Name            string `json:"name"`
	PricingModel    string `json:"pricing_model"`
	UnitAmountNanos Money  `json:"unit_amount_nanos"`
	MeterEventType  string `json:"meter_event_type,omitempty"`
	MeterProperty   string `json:"meter_property,omitempty"`
	Aggregation     string `json:"aggregation,omitempty"`
	Currency        string `json:"currency,omitempty"`
	// Tiers price Graduated and Volume SKUs; PackageSize, Package SKUs.
	Tiers       []Tier `json:"tiers,omitempty"`
	PackageSize int64  `json:"package_size,omitempty"`
}

// Price is the SKU's price.
func (s *SKU) Price() Price {
	return Price{Model: s.PricingModel, UnitAmount: s.UnitAmountNanos, Tiers: s.Tiers, PackageSize: s.PackageSize}
}

// Subscription ties a customer to a plan.
type Subscription struct {
	ID                 string    `json:"id,omitempty"`
	CustomerID         string    `json:"customer_id"`
	PlanID             string    `json:"plan_id"`
	Currency           string    `json:"currency,omitempty"`
	TrialDays          *int      `json:"trial_days,omitempty"`
	Status             string    `json:"status,omitempty"`
	CurrentPeriodStart time.Time `json:"current_period_start,omitzero"`
	CurrentPeriodEnd   time.Time `json:"current_period_end,omitzero"`
	CreatedAt          time.Time `json:"created_at,omitzero"`
	// StartDate, on create only, backdates the subscription's start (its
	// CreatedAt) [chosen]: nothing is billed before it.
	StartDate *time.Time `json:"start_date,omitempty"`
}

// Period is a half-open billing period [Start, End).
type Period struct {
	Start time.Time `json:"period_start"`
	End   time.Time `json:"period_end"`
}

// Invoice is a bill for one subscription and period.
type Invoice struct {
	ID             string     `json:"id"`
	InvoiceNumber  string     `json:"invoice_number,omitempty"`
	Status         string     `json:"status"`
	InvoiceType    string     `json:"invoice_type"`
	CustomerID     string     `json:"customer_id"`
	SubscriptionID string     `json:"subscription_id"`
	TotalNanos     Money      `json:"total_nanos"`
	Currency       string     `json:"currency"`
	DueDate        *time.Time `json:"due_date,omitempty"`
	PeriodStart    time.Time  `json:"period_start"`
	PeriodEnd      time.Time  `json:"period_end"`
	LineItems      []LineItem `json:"line_items"`
	FinalizedAt    *time.Time `json:"finalized_at,omitempty"`
}

// LineItem is one line of an invoice. A usage line carries the SKU, its
// price and the quantity: AmountNanos = the price of Quantity (for
// PerUnit, Quantity × UnitAmountNanos). A flat-fee line (no meter) has
// Quantity 1 and, in PeriodStart..PeriodEnd, the part of the invoice's
// period it charges: its amount is the fee prorated by the second.
type LineItem struct {
	ID              string     `json:"id,omitempty"`
	Description     string     `json:"description"`
	SKUID           string     `json:"sku_id,omitempty"`
	PricingModel    string     `json:"pricing_model,omitempty"`
	Quantity        Quantity   `json:"quantity"`
	UnitAmountNanos Money      `json:"unit_amount_nanos"`
	Tiers           []Tier     `json:"tiers,omitempty"`
	PackageSize     int64      `json:"package_size,omitempty"`
	AmountNanos     Money      `json:"amount_nanos"`
	PeriodStart     *time.Time `json:"period_start,omitempty"`
	PeriodEnd       *time.Time `json:"period_end,omitempty"`
}

// Price is the price the line states.
func (l *LineItem) Price() Price {
	return Price{Model: l.PricingModel, UnitAmount: l.UnitAmountNanos, Tiers: l.Tiers, PackageSize: l.PackageSize}
}

// Invoice statuses [doc].
const (
	InvoiceDraft = "Draft"
	InvoiceOpen  = "Open"
	InvoicePaid  = "Paid"
	InvoiceVoid  = "Void"
)

// Health is the answer to GET /health.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

// ErrorBody is the error envelope [chosen]:
// {"error":{"code":"…","message":"…","request_id":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody. Field names the offending field
// of a 422 [chosen].
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}
