package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// obj is a JSON object under construction.
type obj = map[string]any

// openAPIDocument renders the OpenAPI 3.0.3 description of exactly the
// routes in rts. encoding/json sorts map keys, so the output is stable.
func openAPIDocument(rts []route, version string) ([]byte, error) {
	paths := obj{}
	for _, rt := range rts {
		item, _ := paths[rt.pattern].(obj)
		if item == nil {
			item = obj{}
			paths[rt.pattern] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt)
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "billharness sandbox billing API",
			"version": version,
			"description": "Local implementation of the billing API contract followed by billharness " +
				"(docs.bill.sh plus the behaviour billharness chose where the docs are silent). " +
				"Money is an integer string of pico-units (scale 12) in fields ending _nanos; " +
				"quantities are exact decimal strings. The sandbox tag marks extensions of the sandbox only.",
			"contact": obj{"name": "billharness", "url": "https://docs.bill.sh"},
			"license": obj{"name": "The billing platform's terms", "url": "https://docs.bill.sh"},
		},
		"servers": []any{
			obj{"url": "http://127.0.0.1:8080", "description": "The sandbox at its default address (cmd/sandbox -addr)"},
			obj{"url": "https://api.bill.sh", "description": "The billing platform the sandbox imitates"},
		},
		"tags": []any{
			obj{"name": "events", "description": "Usage event ingestion"},
			obj{"name": "subscriptions", "description": "Subscriptions and their usage"},
			obj{"name": "invoices", "description": "Invoices"},
			obj{"name": "admin", "description": "Admin-scope routes: catalog, customers, billing runs"},
			obj{"name": "sandbox", "description": "Sandbox-only extensions, absent from the real API"},
			obj{"name": "meta", "description": "Health and this document"},
		},
		"security": []any{obj{"bearerAuth": []any{}}, obj{"apiKeyAuth": []any{}}},
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{
				"bearerAuth": obj{"type": "http", "scheme": "bearer", "description": "Authorization: Bearer bsk_live_… or bsk_test_…"},
				"apiKeyAuth": obj{"type": "apiKey", "in": "header", "name": "X-API-Key"},
			},
			"parameters": obj{
				"IdempotencyKey": obj{
					"name": "Idempotency-Key", "in": "header", "required": false,
					"description": "The first response (2xx, or 4xx other than 401/403/429) is kept 24 h per method + path + key and " +
						"replayed with X-Idempotency-Replayed: true (a replayed error keeps its request_id, in the body and X-Request-Id); " +
						"the same key with another body is 409 idempotency_key_reused. Bodies compare as JSON values: member order, " +
						"whitespace and escapes do not matter; numbers compare by their text.",
					"schema": obj{"type": "string"},
				},
			},
			"responses": obj{
				"Error": obj{"description": "Error", "content": jsonContent("ErrorBody")},
				"Unauthorized": obj{
					"description": "Missing or invalid API key",
					"headers":     obj{"WWW-Authenticate": header("string", `Bearer realm="billing API"`)},
					"content":     jsonContent("ErrorBody"),
				},
				"RateLimited": obj{
					"description": "Rate limited",
					"headers": obj{
						"Retry-After":           header("integer", "Seconds to wait"),
						"X-RateLimit-Limit":     header("number", "Requests per second allowed"),
						"X-RateLimit-Remaining": header("integer", "Requests left in the bucket"),
					},
					"content": jsonContent("ErrorBody"),
				},
			},
			"schemas": schemas(),
		},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode openapi: %w", err)
	}
	return out, nil
}

func operation(rt route) obj {
	d := rt.doc
	op := obj{"operationId": d.id, "tags": []any{d.tag}, "summary": d.summary, "description": describe(rt)}
	var params []any
	if strings.Contains(rt.pattern, "{id}") {
		params = append(params, obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string"}})
	}
	for _, q := range d.query {
		sch := obj{"type": q.typ}
		if q.format != "" {
			sch["format"] = q.format
		}
		params = append(params, obj{"name": q.name, "in": "query", "required": false, "description": q.desc, "schema": sch})
	}
	if rt.method == "POST" {
		params = append(params, obj{"$ref": "#/components/parameters/IdempotencyKey"})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if d.request != "" {
		op["requestBody"] = obj{"required": !d.requestOptional, "content": jsonContent(d.request)}
	}
	resps := obj{}
	for _, r := range d.responses {
		content := obj{"application/json": obj{"schema": obj{"type": "object"}}}
		if r.schema != "" {
			content = jsonContent(r.schema)
		}
		resps[strconv.Itoa(r.status)] = obj{"description": r.desc, "content": content}
	}
	codes := append([]int{406}, d.errors...) // every route answers 406 to an Accept without JSON
	if rt.method == "POST" {
		codes = append(codes, 415)
	}
	for _, code := range codes {
		ref := "#/components/responses/Error"
		switch code {
		case 429:
			ref = "#/components/responses/RateLimited"
		case 401:
			ref = "#/components/responses/Unauthorized"
		}
		resps[strconv.Itoa(code)] = obj{"$ref": ref}
	}
	op["responses"] = resps
	if rt.scope == scopePublic {
		op["security"] = []any{}
	}
	return op
}

// describe is an operation's description: its summary and what it needs.
func describe(rt route) string {
	d := rt.doc.summary + "."
	switch rt.scope {
	case scopePublic:
		d += " Needs no key."
	case scopeCustomer:
		d += " Needs a customer-scope or admin-scope key."
	case scopeAdmin:
		d += " Needs an admin-scope key."
	}
	if rt.method == "POST" {
		d += " A body is sent as Content-Type: application/json; an Idempotency-Key makes a retry safe."
	}
	return d
}

func jsonContent(schema string) obj {
	return obj{"application/json": obj{"schema": ref(schema)}}
}

func ref(schema string) obj { return obj{"$ref": "#/components/schemas/" + schema} }

func header(typ, desc string) obj {
	return obj{"description": desc, "schema": obj{"type": typ}}
}

func str(desc string) obj {
	if desc == "" {
		return obj{"type": "string"}
	}
	return obj{"type": "string", "description": desc}
}

func dateTime(desc string) obj {
	o := obj{"type": "string", "format": "date-time"}
	if desc != "" {
		o["description"] = desc
	}
	return o
}

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func enum(desc string, values ...string) obj {
	return obj{"type": "string", "enum": values, "description": desc}
}

// schemas are the components/schemas: the wire types of internal/billing.
func schemas() obj {
	aggregation := enum("Meter aggregation", "Sum", "Count", "Max", "UniqueCount")
	pricingModel := enum("Default PerUnit. PerUnit: quantity × unit_amount_nanos. Graduated: each unit at the price of the tier it falls in, "+
		"plus each entered tier's flat amount. Volume: every unit at the price of the tier the whole quantity falls in, plus its flat amount. "+
		"Package: unit_amount_nanos per started package of package_size units. Amounts are exact, rounded once half away from zero; "+
		"Graduated, Volume and Package price a quantity of 0 or less at 0",
		"PerUnit", "Graduated", "Volume", "Package")
	return obj{
		"Money": obj{"type": "string", "pattern": "^-?[0-9]+$",
			"description": "Integer pico-units (scale 12: 1 currency unit = 1000000000000), as a string"},
		"Quantity": obj{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]+)?$`, "description": "Exact decimal quantity"},
		"ErrorBody": object([]string{"error"}, obj{
			"error": object([]string{"code", "message"}, obj{
				"code":       str("snake_case error code, e.g. validation_failed"),
				"message":    str("Human-readable explanation"),
				"field":      str("The offending field of a 422"),
				"request_id": str("Same as the X-Request-Id response header"),
			}),
		}),
		"Event": object([]string{"id", "event_type", "customer_id", "timestamp"}, obj{
			"id":              str("Client-generated; the deduplication key, remembered for ever"),
			"event_type":      str("Matched against the meter_event_type of the plan's SKUs"),
			"customer_id":     str("Must name an existing customer"),
			"subscription_id": str("Optional; must belong to the customer. Default: the customer's first subscription, the earliest created_at, ties broken by the smallest id in byte order"),
			"timestamp":       dateTime("When the usage happened (RFC 3339)"),
			"properties":      obj{"type": "object", "additionalProperties": true, "description": "Meter values: numbers or numeric strings"},
		}),
		"EventResult": object([]string{"accepted", "event_id"}, obj{
			"accepted":  obj{"type": "boolean"},
			"event_id":  str(""),
			"duplicate": obj{"type": "boolean"},
		}),
		"MeterUsage": object([]string{"sku_id", "name", "event_type", "aggregation", "quantity"}, obj{
			"sku_id":      str(""),
			"name":        str(""),
			"event_type":  str(""),
			"property":    str(""),
			"aggregation": aggregation,
			"quantity":    ref("Quantity"),
		}),
		"Usage": object([]string{"subscription_id", "customer_id", "period_start", "period_end", "meters"}, obj{
			"subscription_id": str(""),
			"customer_id":     str(""),
			"period_start":    dateTime("Window start, inclusive"),
			"period_end":      dateTime("Window end, exclusive"),
			"meters":          obj{"type": "array", "items": ref("MeterUsage")},
		}),
		"CustomerCreate": object([]string{"display_name"}, obj{
			"display_name": str(""), "email": str(""), "currency": str("ISO 4217 code"), "account_type": str(""),
		}),
		"Customer": object([]string{"id", "display_name"}, obj{
			"id": str("UUIDv7"), "display_name": str(""), "email": str(""), "currency": str(""),
			"account_type": str(""), "created_at": dateTime(""),
		}),
		"ProductCreate": object([]string{"name"}, obj{"name": str(""), "description": str("")}),
		"Product":       object([]string{"id", "name"}, obj{"id": str("UUIDv7"), "name": str(""), "description": str("")}),
		"PlanCreate": object([]string{"name"}, obj{
			"product_id": str(""), "name": str(""), "description": str(""),
			"billing_cadence": enum("Default Monthly", "Monthly"),
			"trial_days":      obj{"type": "integer", "minimum": 0, "maximum": maxTrialDays},
			"currency":        str(""),
		}),
		"Plan": object([]string{"id", "name", "trial_days"}, obj{
			"id": str("UUIDv7"), "product_id": str(""), "name": str(""), "description": str(""),
			"billing_cadence": enum("", "Monthly"), "trial_days": obj{"type": "integer"}, "currency": str(""),
		}),
		"Tier": object([]string{"up_to", "unit_amount_nanos"}, obj{
			"up_to":             obj{"type": "string", "nullable": true, "pattern": `^-?[0-9]+(\.[0-9]+)?$`, "description": "Inclusive upper bound of the tier; null on the last tier only"},
			"unit_amount_nanos": ref("Money"),
			"flat_amount_nanos": ref("Money"),
		}),
		"SKUCreate": object([]string{"plan_id", "name"}, obj{
			"plan_id": str(""), "name": str(""),
			"pricing_model":     pricingModel,
			"unit_amount_nanos": obj{"allOf": []any{ref("Money")}, "description": "PerUnit: the price of one unit; Package: of one package; the fee of a flat SKU; 0 for Graduated and Volume"},
			"tiers":             obj{"type": "array", "items": ref("Tier"), "description": "Graduated and Volume: bounds increasing, the last one null"},
			"package_size":      obj{"type": "integer", "minimum": 1, "description": "Package: units per package; a started package is charged in full"},
			"meter_event_type":  str("Makes the SKU a meter counting events of this type"),
			"meter_property":    str("Property aggregated by Sum, Max and UniqueCount"),
			"aggregation":       aggregation,
			"currency":          str("Default: the plan's; another than the plan's is 422"),
		}),
		"SKU": object([]string{"id", "plan_id", "name", "pricing_model", "unit_amount_nanos"}, obj{
			"id": str("UUIDv7"), "plan_id": str("The plan the SKU prices"), "name": str("Shown on invoice lines"),
			"pricing_model":     pricingModel,
			"unit_amount_nanos": ref("Money"),
			"tiers":             obj{"type": "array", "items": ref("Tier")},
			"package_size":      obj{"type": "integer"},
			"meter_event_type":  str("Event type counted; empty for a flat fee"), "meter_property": str("Property aggregated"),
			"aggregation": aggregation, "currency": str("Default: the plan's; another than the plan's is 422"),
		}),
		"SubscriptionCreate": object([]string{"customer_id", "plan_id"}, obj{
			"customer_id": str(""), "plan_id": str(""), "currency": str("Default: the plan's, then the customer's; another than the plan's is 422"),
			"trial_days": obj{"type": "integer", "minimum": 0, "maximum": maxTrialDays, "description": "Default: the plan's"},
			"start_date": dateTime("Backdates the subscription's start (its created_at), not in the future; default now. Nothing is billed before it"),
		}),
		"Subscription": object([]string{"id", "customer_id", "plan_id", "status"}, obj{
			"id": str("UUIDv7"), "customer_id": str(""), "plan_id": str(""), "currency": str(""),
			"trial_days":           obj{"type": "integer"},
			"status":               enum("Trialing until the trial ends", "Trialing", "Active"),
			"current_period_start": dateTime("Calendar month (UTC) containing now"),
			"current_period_end":   dateTime(""),
			"created_at":           dateTime(""),
		}),
		"SubscriptionList": object([]string{"data", "has_more"}, obj{
			"data":     obj{"type": "array", "items": ref("Subscription")},
			"has_more": obj{"type": "boolean"},
		}),
		"BillRequest": object(nil, obj{
			"period_start": dateTime("The first instant of a calendar month (UTC); default: start of the month that ended last"),
			"period_end":   dateTime("Exclusive: the first instant of the next month; required with period_start"),
		}),
		"LineItem": object([]string{"description", "quantity", "unit_amount_nanos", "amount_nanos"}, obj{
			"id": str(""), "description": str("The SKU's name"), "sku_id": str(""),
			"pricing_model":     pricingModel,
			"quantity":          obj{"allOf": []any{ref("Quantity")}, "description": "Metered: the usage of the period; flat fee: 1, or 0 when no part of the period is charged"},
			"unit_amount_nanos": ref("Money"),
			"tiers":             obj{"type": "array", "items": ref("Tier")},
			"package_size":      obj{"type": "integer"},
			"amount_nanos":      obj{"allOf": []any{ref("Money")}, "description": "Metered: the price of quantity; flat fee: the fee × seconds charged / seconds of the period, rounded half away from zero"},
			"period_start":      dateTime("Flat fee: start of the part charged, the latest of the period start, the subscription's start and its trial's end"),
			"period_end":        dateTime("Flat fee: end of the part charged"),
		}),
		"Invoice": object([]string{"id", "status", "invoice_type", "customer_id", "subscription_id", "total_nanos", "currency", "period_start", "period_end", "line_items"}, obj{
			"id":              str("UUIDv7"),
			"invoice_number":  str("INV-000001…, given at finalization"),
			"status":          enum("", "Draft", "Open", "Paid", "Void"),
			"invoice_type":    enum("", "Subscription"),
			"customer_id":     str(""),
			"subscription_id": str(""),
			"total_nanos":     ref("Money"),
			"currency":        str(""),
			"due_date":        dateTime("Set at finalization: 30 days later"),
			"period_start":    dateTime(""),
			"period_end":      dateTime(""),
			"line_items":      obj{"type": "array", "items": ref("LineItem")},
			"finalized_at":    dateTime(""),
		}),
		"InvoiceList": object([]string{"data", "has_more"}, obj{
			"data":     obj{"type": "array", "items": ref("Invoice")},
			"has_more": obj{"type": "boolean", "description": "Always false: every invoice is listed"},
		}),
		"Health": object([]string{"status"}, obj{"status": str("ok"), "version": str("")}),
		"FaultLog": object([]string{"dropped", "doubled"}, obj{
			"dropped": idsBySubscription("Events acknowledged 202 on first delivery and never counted"),
			"doubled": idsBySubscription("Events counted twice"),
		}),
	}
}

func idsBySubscription(desc string) obj {
	return obj{
		"type":                 "object",
		"description":          desc + `; keyed by subscription id ("" for none)`,
		"additionalProperties": obj{"type": "array", "items": obj{"type": "string"}},
	}
}

// OpenAPI returns the OpenAPI document GET /openapi.json serves, for
// linters and client generators.
func OpenAPI(version string) ([]byte, error) { return openAPIDocument(routes(), version) }
