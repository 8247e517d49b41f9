package sandbox

import (
	"net/http"
	"strings"

	"github.com/billharness/billharness/internal/billing"
)

// scope is the key scope a route needs.
type scope uint8

const (
	scopePublic   scope = iota // no key
	scopeCustomer              // customer or admin key
	scopeAdmin                 // admin key
)

// route is one served endpoint. The table in routes() drives both the
// router and the OpenAPI document, so the two cannot drift apart.
type route struct {
	method, pattern string // pattern segments "{id}" match one path segment
	scope           scope
	resettable      bool // subject to Config.ResetRate
	handle          func(*Server, *call) response
	doc             opDoc
}

// opDoc describes a route for /openapi.json.
type opDoc struct {
	id, tag, summary string
	request          string // components/schemas name of the JSON body, if any
	requestOptional  bool
	query            []queryParam
	responses        []docResponse // the non-error responses
	errors           []int         // error statuses the route can answer
}

type queryParam struct {
	name, desc, typ, format string
}

type docResponse struct {
	status       int
	desc, schema string
}

// routes is the table of every endpoint the sandbox serves. At most one
// "{id}" per pattern (call.param holds it).
func routes() []route {
	auth := []int{401, 403, 429, 500}
	withAuth := func(codes ...int) []int { return append(codes, auth...) }
	// create is a POST that creates a thing from a JSON body and answers
	// 201 with it.
	create := func(pattern string, sc scope, handle func(*Server, *call) response, id, tag, summary, request, schema string) route {
		return route{method: http.MethodPost, pattern: pattern, scope: sc, handle: handle, doc: opDoc{
			id: id, tag: tag, summary: summary, request: request,
			responses: []docResponse{{201, "Created", schema}},
			errors:    withAuth(400, 409, 413, 422),
		}}
	}
	// get is a GET of the customer scope that answers 200 with one thing
	// (desc, schema), or 404.
	get := func(pattern string, handle func(*Server, *call) response, id, tag, summary, desc, schema string) route {
		return route{method: http.MethodGet, pattern: pattern, scope: scopeCustomer, handle: handle, doc: opDoc{
			id: id, tag: tag, summary: summary,
			responses: []docResponse{{200, desc, schema}},
			errors:    withAuth(404),
		}}
	}
	return []route{
		{method: http.MethodPost, pattern: "/v1/events", scope: scopeCustomer, resettable: true, handle: (*Server).postEvent, doc: opDoc{
			id: "ingestEvent", tag: "events", summary: "Ingest one usage event; the event id is the deduplication key",
			request: "Event",
			responses: []docResponse{
				{202, "Accepted for the first time", "EventResult"},
				{200, "Duplicate: this event id was seen before (any Idempotency-Key)", "EventResult"},
			},
			errors: withAuth(400, 409, 413, 422),
		}},
		create("/v1/subscriptions", scopeCustomer, (*Server).createSubscription, "createSubscription", "subscriptions",
			"Subscribe a customer to a plan", "SubscriptionCreate", "Subscription"),
		{method: http.MethodGet, pattern: "/v1/subscriptions", scope: scopeCustomer, handle: (*Server).listSubscriptions, doc: opDoc{
			id: "listSubscriptions", tag: "subscriptions", summary: "List subscriptions ordered by id",
			query: []queryParam{
				{name: "limit", desc: "Page size, 1 to 1000 (default 100)", typ: "integer"},
				{name: "starting_after", desc: "Return subscriptions with ids after this one", typ: "string"},
			},
			responses: []docResponse{{200, "A page of subscriptions", "SubscriptionList"}},
			errors:    withAuth(422),
		}},
		get("/v1/subscriptions/{id}", (*Server).getSubscription, "getSubscription", "subscriptions",
			"Get a subscription", "The subscription", "Subscription"),
		{method: http.MethodGet, pattern: "/v1/subscriptions/{id}/usage", scope: scopeCustomer, handle: (*Server).getUsage, doc: opDoc{
			id: "getSubscriptionUsage", tag: "subscriptions", summary: "Aggregated usage per meter over a half-open window [from, to) of event timestamps",
			query: []queryParam{
				{name: "from", desc: "Window start, inclusive (default: start of the current billing period)", typ: "string", format: "date-time"},
				{name: "to", desc: "Window end, exclusive (default: end of the current billing period)", typ: "string", format: "date-time"},
			},
			responses: []docResponse{{200, "Usage per metered SKU of the plan", "Usage"}},
			errors:    withAuth(404, 422),
		}},
		get("/v1/subscriptions/{id}/invoices", (*Server).listInvoices, "listSubscriptionInvoices", "invoices",
			"Every invoice of a subscription, by period start (at most one per billing period)", "The subscription's invoices", "InvoiceList"),
		get("/v1/invoices/{id}", (*Server).getInvoice, "getInvoice", "invoices",
			"Get an invoice", "The invoice", "Invoice"),
		{method: http.MethodPost, pattern: "/v1/invoices/{id}/finalize", scope: scopeCustomer, handle: (*Server).finalize, doc: opDoc{
			id: "finalizeInvoice", tag: "invoices", summary: "Finalize a Draft invoice: Open, with the next invoice number",
			responses: []docResponse{{200, "The finalized invoice", "Invoice"}},
			errors:    withAuth(400, 404, 409, 413),
		}},
		create("/admin/v1/customers", scopeAdmin, (*Server).createCustomer, "createCustomer", "admin",
			"Create a customer", "CustomerCreate", "Customer"),
		create("/admin/v1/catalog/products", scopeAdmin, (*Server).createProduct, "createProduct", "admin",
			"Create a product", "ProductCreate", "Product"),
		create("/admin/v1/catalog/plans", scopeAdmin, (*Server).createPlan, "createPlan", "admin",
			"Create a plan", "PlanCreate", "Plan"),
		create("/admin/v1/catalog/skus", scopeAdmin, (*Server).createSKU, "createSKU", "admin",
			"Create a SKU: a flat fee, or with meter_event_type a meter priced PerUnit, Graduated, Volume or Package", "SKUCreate", "SKU"),
		{method: http.MethodPost, pattern: "/admin/v1/subscriptions/{id}/bill", scope: scopeAdmin, handle: (*Server).bill, doc: opDoc{
			id: "billSubscription", tag: "admin", summary: "Bill a subscription for one billing cycle (default: the month that ended last); one invoice per cycle",
			request: "BillRequest", requestOptional: true,
			responses: []docResponse{
				{201, "A new Draft invoice", "Invoice"},
				{200, "The invoice already made for this subscription and period", "Invoice"},
			},
			errors: withAuth(400, 404, 409, 413, 422),
		}},
		{method: http.MethodPost, pattern: "/admin/v1/invoices/{id}/finalize", scope: scopeAdmin, handle: (*Server).finalize, doc: opDoc{
			id: "adminFinalizeInvoice", tag: "admin", summary: "Finalize a Draft invoice: Open, with the next invoice number",
			responses: []docResponse{{200, "The finalized invoice", "Invoice"}},
			errors:    withAuth(400, 404, 409, 413),
		}},
		{method: http.MethodGet, pattern: "/sandbox/v1/faults", scope: scopeAdmin, handle: (*Server).getFaults, doc: opDoc{
			id: "getSandboxFaults", tag: "sandbox", summary: "Sandbox extension: the events the sandbox dropped or doubled on purpose",
			responses: []docResponse{{200, "Event ids by subscription id", "FaultLog"}},
			errors:    auth,
		}},
		{method: http.MethodGet, pattern: "/health", scope: scopePublic, handle: (*Server).getHealth, doc: opDoc{
			id: "getHealth", tag: "meta", summary: "Liveness",
			responses: []docResponse{{200, "OK", "Health"}},
		}},
		{method: http.MethodGet, pattern: "/openapi.json", scope: scopePublic, handle: (*Server).getOpenAPI, doc: opDoc{
			id: "getOpenAPI", tag: "meta", summary: "This OpenAPI 3.0.3 document",
			responses: []docResponse{{200, "The OpenAPI document", ""}},
		}},
	}
}

// match finds the route for method and path. When the path exists under
// other methods only, allow lists them (for 405).
func (s *Server) match(method, path string) (rt *route, param, allow string) {
	for i := range s.routes {
		r := &s.routes[i]
		p, ok := matchPattern(r.pattern, path)
		if !ok {
			continue
		}
		if r.method == method {
			return r, p, ""
		}
		m := r.method
		if m == http.MethodGet {
			m += ", " + http.MethodHead
		}
		if allow == "" {
			allow = m
		} else {
			allow += ", " + m
		}
	}
	return nil, "", allow
}

// matchPattern matches path against a pattern whose "{name}" segments each
// match one non-empty path segment; it returns the last such segment.
func matchPattern(pattern, path string) (param string, ok bool) {
	for {
		if pattern == "" {
			if path != "" {
				return "", false
			}
			return param, true
		}
		if strings.HasPrefix(pattern, "/{") {
			end := strings.IndexByte(pattern, '}')
			pattern = pattern[end+1:]
			if path == "" || path[0] != '/' {
				return "", false
			}
			seg := path[1:]
			j := strings.IndexByte(seg, '/')
			if j < 0 {
				j = len(seg)
			}
			if j == 0 {
				return "", false
			}
			param, path = seg[:j], seg[j:]
			continue
		}
		k := strings.Index(pattern, "/{")
		if k < 0 {
			k = len(pattern)
		}
		if !strings.HasPrefix(path, pattern[:k]) {
			return "", false
		}
		pattern, path = pattern[k:], path[k:]
	}
}

// getFaults serves GET /sandbox/v1/faults.
func (s *Server) getFaults(c *call) response {
	return s.json(c, http.StatusOK, s.Faults())
}

// getHealth serves GET /health.
func (s *Server) getHealth(c *call) response {
	return s.json(c, http.StatusOK, billing.Health{Status: "ok", Version: s.cfg.Version})
}

// getOpenAPI serves GET /openapi.json.
func (s *Server) getOpenAPI(c *call) response {
	s.openapiOnce.Do(func() { s.openapi, s.openapiErr = openAPIDocument(s.routes, s.cfg.Version) })
	if s.openapiErr != nil {
		s.log.Error("sandbox openapi document", "err", s.openapiErr)
		return s.errorResp(c, http.StatusInternalServerError, "internal_error", "", "internal error")
	}
	return response{status: http.StatusOK, body: s.openapi}
}
