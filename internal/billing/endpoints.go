package billing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Health calls GET /health (no auth needed).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/health"}, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// OpenAPI fetches GET /openapi.json as raw bytes (no auth needed).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	var raw rawJSON
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/openapi.json"}, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// rawJSON keeps a response body as it came.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// SendEvent calls POST /v1/events with the event id as Idempotency-Key, so
// a retried send is counted once. A duplicate id is not an error: the result
// has Accepted false and Duplicate true. Within the server's 24 h
// idempotency window a re-sent event is instead answered with its first
// response, replayed: the result then has Replayed true.
func (c *Client) SendEvent(ctx context.Context, ev Event) (*EventResult, error) {
	if ev.ID == "" {
		return nil, errors.New("billing: send event: empty id")
	}
	body, err := appendEvent(make([]byte, 0, 256+len(ev.Properties)), &ev)
	if err != nil {
		return nil, fmt.Errorf("billing: send event %s: %w", ev.ID, err)
	}
	r := request{method: http.MethodPost, path: "/v1/events", body: body, key: ev.ID}
	var res EventResult
	out, err := c.do(ctx, r, &res)
	if err != nil {
		return nil, err
	}
	res.Replayed, res.Attempts, res.Uncertain = out.replayed, out.attempts, out.uncertain
	return &res, nil
}

// Usage calls GET /v1/subscriptions/{id}/usage for the half-open window
// [from, to). Zero times leave the bound to the server (the current period).
func (c *Client) Usage(ctx context.Context, subscriptionID string, from, to time.Time) (*Usage, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	r := request{method: http.MethodGet, path: "/v1/subscriptions/" + url.PathEscape(subscriptionID) + "/usage", query: q}
	var u Usage
	if _, err := c.do(ctx, r, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Bill calls POST /admin/v1/subscriptions/{id}/bill for period, or for the
// period that ended last when period is nil. The server keeps one invoice
// per subscription and period; created reports whether this call made it
// (201) or found it (200).
func (c *Client) Bill(ctx context.Context, subscriptionID string, period *Period) (inv *Invoice, created bool, err error) {
	var body any = struct{}{}
	key := "bill-" + subscriptionID
	if period != nil {
		body = period
		key += "-" + strconv.FormatInt(period.Start.Unix(), 10) + "-" + strconv.FormatInt(period.End.Unix(), 10)
	} else {
		key = newKey()
	}
	r, err := jsonRequest(http.MethodPost, "/admin/v1/subscriptions/"+url.PathEscape(subscriptionID)+"/bill", body, key)
	if err != nil {
		return nil, false, err
	}
	inv = new(Invoice)
	out, err := c.do(ctx, r, inv)
	if err != nil {
		return nil, false, err
	}
	// Within 24 h a repeated call gets the first answer replayed, 201
	// included: only a fresh 201 means this call created the invoice. The
	// replayed invoice is as it was then: read it as it is now.
	if out.replayed {
		if inv, err = c.Invoice(ctx, inv.ID); err != nil {
			return nil, false, err
		}
	}
	return inv, out.status == http.StatusCreated && !out.replayed, nil
}

// FinalizeInvoice calls POST /admin/v1/invoices/{id}/finalize: Draft → Open
// with the next invoice number.
func (c *Client) FinalizeInvoice(ctx context.Context, invoiceID string) (*Invoice, error) {
	r := request{method: http.MethodPost, path: "/admin/v1/invoices/" + url.PathEscape(invoiceID) + "/finalize",
		body: []byte("{}"), key: "finalize-" + invoiceID}
	var inv Invoice
	if _, err := c.do(ctx, r, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// Invoice calls GET /v1/invoices/{id}.
func (c *Client) Invoice(ctx context.Context, invoiceID string) (*Invoice, error) {
	var inv Invoice
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/invoices/" + url.PathEscape(invoiceID)}, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// Invoices calls GET /v1/subscriptions/{id}/invoices [chosen]: every
// invoice of the subscription, by period start.
func (c *Client) Invoices(ctx context.Context, subscriptionID string) ([]Invoice, error) {
	var page struct {
		Data    []Invoice `json:"data"`
		HasMore bool      `json:"has_more"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/subscriptions/" + url.PathEscape(subscriptionID) + "/invoices"}, &page); err != nil {
		return nil, err
	}
	if page.HasMore {
		return nil, fmt.Errorf("invoices of %s: the API paged the list, which the harness does not follow", subscriptionID)
	}
	return page.Data, nil
}

// CreateCustomer calls POST /admin/v1/customers.
func (c *Client) CreateCustomer(ctx context.Context, in Customer) (*Customer, error) {
	return create(ctx, c, "/admin/v1/customers", in)
}

// CreateProduct calls POST /admin/v1/catalog/products.
func (c *Client) CreateProduct(ctx context.Context, in Product) (*Product, error) {
	return create(ctx, c, "/admin/v1/catalog/products", in)
}

// CreatePlan calls POST /admin/v1/catalog/plans.
func (c *Client) CreatePlan(ctx context.Context, in Plan) (*Plan, error) {
	return create(ctx, c, "/admin/v1/catalog/plans", in)
}

// CreateSKU calls POST /admin/v1/catalog/skus.
func (c *Client) CreateSKU(ctx context.Context, in SKU) (*SKU, error) {
	return create(ctx, c, "/admin/v1/catalog/skus", in)
}

// CreateSubscription calls POST /v1/subscriptions.
func (c *Client) CreateSubscription(ctx context.Context, in Subscription) (*Subscription, error) {
	return create(ctx, c, "/v1/subscriptions", in)
}

// Subscription calls GET /v1/subscriptions/{id}.
func (c *Client) Subscription(ctx context.Context, id string) (*Subscription, error) {
	var s Subscription
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/subscriptions/" + url.PathEscape(id)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// SubscriptionPage is one page of GET /v1/subscriptions [chosen].
type SubscriptionPage struct {
	Data    []Subscription `json:"data"`
	HasMore bool           `json:"has_more"`
}

// ListSubscriptions calls GET /v1/subscriptions, ordered by id, starting
// after the id given ("" for the first page).
func (c *Client) ListSubscriptions(ctx context.Context, limit int, startingAfter string) (*SubscriptionPage, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if startingAfter != "" {
		q.Set("starting_after", startingAfter)
	}
	var p SubscriptionPage
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/subscriptions", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// create POSTs in with a fresh idempotency key, so that retries after a
// lost response can never create the resource twice.
func create[T any](ctx context.Context, c *Client, path string, in T) (*T, error) {
	r, err := jsonRequest(http.MethodPost, path, in, newKey())
	if err != nil {
		return nil, err
	}
	out := new(T)
	if _, err := c.do(ctx, r, out); err != nil {
		return nil, err
	}
	return out, nil
}
