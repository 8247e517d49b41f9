package doctor

import "net/http"

// Tag says where a point of the contract comes from.
type Tag string

// Tags, as in the project's API contract.
const (
	// Doc points are stated in the public API documentation.
	Doc Tag = "doc"
	// Chosen points are undocumented behaviour the harness assumes.
	Chosen Tag = "chosen"
)

// expectation is one point of the contract checked against the target's
// OpenAPI document: an operation exists, takes a parameter, or has fields in
// its JSON request or success response. Field names may descend into
// arrays with "meters[].quantity".
type expectation struct {
	tag      Tag
	method   string
	path     string
	params   []string
	request  []string
	response []string
	// usedBy names the harness commands that rely on the point.
	usedBy string
}

// contract is every operation and field the harness relies on.
func contract() []expectation {
	return []expectation{
		{tag: Doc, method: http.MethodGet, path: "/health", usedBy: "doctor"},
		{tag: Doc, method: http.MethodPost, path: "/v1/events", usedBy: "replay, loadgen",
			request:  []string{"id", "event_type", "customer_id", "subscription_id", "timestamp", "properties"},
			response: []string{"accepted", "event_id"}},
		{tag: Chosen, method: http.MethodPost, path: "/v1/events", usedBy: "replay, loadgen",
			response: []string{"duplicate"}},
		{tag: Doc, method: http.MethodGet, path: "/v1/subscriptions/{id}/usage", usedBy: "verify"},
		{tag: Chosen, method: http.MethodGet, path: "/v1/subscriptions/{id}/usage", usedBy: "verify",
			params: []string{"from", "to"},
			response: []string{"subscription_id", "period_start", "period_end", "meters[].sku_id", "meters[].event_type",
				"meters[].property", "meters[].aggregation", "meters[].quantity"}},
		{tag: Chosen, method: http.MethodGet, path: "/v1/subscriptions", usedBy: "verify",
			params: []string{"limit", "starting_after"}, response: []string{"data[].id", "has_more"}},
		{tag: Doc, method: http.MethodPost, path: "/admin/v1/subscriptions/{id}/bill", usedBy: "bill"},
		{tag: Chosen, method: http.MethodPost, path: "/admin/v1/subscriptions/{id}/bill", usedBy: "bill",
			request: []string{"period_start", "period_end"}},
		{tag: Doc, method: http.MethodPost, path: "/admin/v1/invoices/{id}/finalize", usedBy: "bill",
			response: []string{"invoice_number", "status"}},
		{tag: Doc, method: http.MethodGet, path: "/v1/invoices/{id}", usedBy: "bill",
			response: []string{"id", "status", "subscription_id", "total_nanos", "period_start", "period_end", "line_items[].amount_nanos"}},
		{tag: Chosen, method: http.MethodGet, path: "/v1/invoices/{id}", usedBy: "bill",
			response: []string{"line_items[].sku_id", "line_items[].quantity", "line_items[].unit_amount_nanos"}},
		{tag: Chosen, method: http.MethodGet, path: "/v1/invoices/{id}", usedBy: "bill (Graduated, Volume and Package lines, prorated fees)",
			response: []string{"line_items[].pricing_model=PerUnit|Graduated|Volume|Package", "line_items[].tiers[].up_to",
				"line_items[].tiers[].unit_amount_nanos", "line_items[].tiers[].flat_amount_nanos", "line_items[].package_size"}},
		{tag: Chosen, method: http.MethodGet, path: "/v1/subscriptions/{id}/invoices", usedBy: "bill (double billing, fees outside the term)",
			response: []string{"data[].id", "data[].status", "data[].period_start", "data[].period_end", "data[].total_nanos", "data[].line_items[].amount_nanos", "has_more"}},
		{tag: Chosen, method: http.MethodPost, path: "/admin/v1/catalog/skus", usedBy: "sandbox seed, loadgen -setup (tiered pricing)",
			request: []string{"pricing_model=Graduated|Volume|Package", "tiers[].up_to", "tiers[].unit_amount_nanos", "tiers[].flat_amount_nanos", "package_size"}},
		{tag: Chosen, method: http.MethodGet, path: "/v1/subscriptions", usedBy: "bill (proration from start and trial)",
			response: []string{"data[].created_at", "data[].trial_days"}},
		{tag: Doc, method: http.MethodPost, path: "/admin/v1/customers", usedBy: "loadgen -setup",
			request: []string{"display_name", "email", "currency", "account_type"}, response: []string{"id"}},
		{tag: Doc, method: http.MethodPost, path: "/admin/v1/catalog/products", usedBy: "loadgen -setup", response: []string{"id"}},
		{tag: Doc, method: http.MethodPost, path: "/admin/v1/catalog/plans", usedBy: "loadgen -setup",
			request: []string{"name", "billing_cadence"}, response: []string{"id"}},
		{tag: Doc, method: http.MethodPost, path: "/admin/v1/catalog/skus", usedBy: "loadgen -setup",
			request: []string{"plan_id", "name", "pricing_model", "unit_amount_nanos", "meter_event_type", "meter_property"}, response: []string{"id"}},
		{tag: Chosen, method: http.MethodPost, path: "/admin/v1/catalog/skus", usedBy: "loadgen -setup",
			request: []string{"aggregation"}},
		{tag: Doc, method: http.MethodPost, path: "/v1/subscriptions", usedBy: "loadgen -setup",
			request: []string{"customer_id", "plan_id"}, response: []string{"id", "status"}},
	}
}
