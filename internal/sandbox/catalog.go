package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// Enum values the sandbox accepts [doc].
const (
	cadenceMonthly   = "Monthly"
	pricingPerUnit   = "PerUnit"
	statusActive     = "Active"
	statusTrialing   = "Trialing"
	invoiceTypeSub   = "Subscription"
	maxTrialDays     = 3650
	defaultListLimit = 100
	maxListLimit     = 1000
)

// catalog holds customers, products, plans, SKUs and subscriptions. It is
// read on every event (customer and subscription lookup) and written
// rarely, hence the RWMutex.
//
// Invariant: slices reachable from the maps (customer.subs, plan.skus) are
// append-only. A reader copies the slice header under RLock and may then
// iterate without the lock: appends never rewrite the elements it sees.
type catalog struct {
	mu        sync.RWMutex
	customers map[string]*customer
	products  map[string]*billing.Product
	plans     map[string]*plan
	skus      map[string]*billing.SKU
	subs      map[string]*subscription
	sorted    []*subscription // by id, for GET /v1/subscriptions
	ids       *uuidGen
}

type customer struct {
	billing.Customer
	// subs is in creation order. first takes the events sent without a
	// subscription_id: the earliest created_at, ties broken by the smaller
	// id in byte order [chosen], the rule reconcile's verify applies.
	subs  []*subscription
	first *subscription
}

// takesPrecedence reports whether a comes before b for attribution: an
// earlier created_at, or the same one and a smaller id.
func takesPrecedence(a, b *subscription) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

type plan struct {
	billing.Plan
	skus []*billing.SKU // creation order, which is the order of meters and lines
}

type subscription struct {
	billing.Subscription // fixed at creation; Status and periods are computed
	trialDays            int
	plan                 *plan
	log                  eventLog
}

func newCatalog(ids *uuidGen) *catalog {
	return &catalog{
		customers: map[string]*customer{},
		products:  map[string]*billing.Product{},
		plans:     map[string]*plan{},
		skus:      map[string]*billing.SKU{},
		subs:      map[string]*subscription{},
		ids:       ids,
	}
}

// monthOf returns the calendar month (UTC) containing t: the billing period.
func monthOf(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// view renders the subscription as of now: Trialing until its trial ends,
// and the current period is the month containing now.
func (s *subscription) view(now time.Time) billing.Subscription {
	v := s.Subscription
	td := s.trialDays
	v.TrialDays = &td
	v.Status = statusActive
	if td > 0 && now.Before(v.CreatedAt.AddDate(0, 0, td)) {
		v.Status = statusTrialing
	}
	v.CurrentPeriodStart, v.CurrentPeriodEnd = monthOf(now)
	return v
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// checkCurrency upper-cases c and checks it is an ISO 4217-shaped code.
func checkCurrency(c *string) *fieldError {
	*c = strings.ToUpper(strings.TrimSpace(*c))
	if *c != "" && !validCurrency(*c) {
		return &fieldError{"currency", "currency must be a three-letter ISO 4217 code"}
	}
	return nil
}

func required(field, v string) *fieldError {
	if strings.TrimSpace(v) == "" {
		return &fieldError{field, field + " is required"}
	}
	return nil
}

// newID returns in (a caller-chosen id, kept for seed data) or a fresh
// UUIDv7, and refuses an id already used in m.
func newID[V any](c *catalog, in string, m map[string]V, now time.Time) (string, *fieldError) {
	if in == "" {
		return c.ids.next(now), nil
	}
	if _, dup := m[in]; dup {
		return "", &fieldError{"id", "id " + in + " is already used"}
	}
	return in, nil
}

func (c *catalog) addCustomer(in billing.Customer, now time.Time) (billing.Customer, *fieldError) {
	if fe := required("display_name", in.DisplayName); fe != nil {
		return in, fe
	}
	if in.Email != "" && !strings.Contains(in.Email, "@") {
		return in, &fieldError{"email", "email must contain @"}
	}
	if fe := checkCurrency(&in.Currency); fe != nil {
		return in, fe
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, fe := newID(c, in.ID, c.customers, now)
	if fe != nil {
		return in, fe
	}
	in.ID = id
	if in.CreatedAt.IsZero() {
		in.CreatedAt = now.UTC()
	}
	c.customers[id] = &customer{Customer: in}
	return in, nil
}

func (c *catalog) addProduct(in billing.Product, now time.Time) (billing.Product, *fieldError) {
	if fe := required("name", in.Name); fe != nil {
		return in, fe
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, fe := newID(c, in.ID, c.products, now)
	if fe != nil {
		return in, fe
	}
	in.ID = id
	c.products[id] = &in
	return in, nil
}

func (c *catalog) addPlan(in billing.Plan, now time.Time) (billing.Plan, *fieldError) {
	if fe := required("name", in.Name); fe != nil {
		return in, fe
	}
	switch in.BillingCadence {
	case "":
		in.BillingCadence = cadenceMonthly
	case cadenceMonthly:
	default:
		return in, &fieldError{"billing_cadence", "billing_cadence must be Monthly"}
	}
	if in.TrialDays < 0 || in.TrialDays > maxTrialDays {
		return in, &fieldError{"trial_days", "trial_days must be between 0 and 3650"}
	}
	if fe := checkCurrency(&in.Currency); fe != nil {
		return in, fe
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.ProductID != "" && c.products[in.ProductID] == nil {
		return in, &fieldError{"product_id", "no product " + in.ProductID}
	}
	id, fe := newID(c, in.ID, c.plans, now)
	if fe != nil {
		return in, fe
	}
	in.ID = id
	c.plans[id] = &plan{Plan: in}
	return in, nil
}

// checkSKU applies the SKU rules and fills the defaults: PerUnit pricing
// (Graduated, Volume and Package for meters, see billing.Price), and for a
// meter the aggregation Sum (with a property) or Count.
func checkSKU(in *billing.SKU) *fieldError {
	if fe := required("plan_id", in.PlanID); fe != nil {
		return fe
	}
	if fe := required("name", in.Name); fe != nil {
		return fe
	}
	if in.PricingModel == "" {
		in.PricingModel = pricingPerUnit
	}
	if pe := in.Price().Check(); pe != nil {
		return &fieldError{pe.Field, pe.Msg}
	}
	if in.MeterEventType == "" && in.PricingModel != pricingPerUnit {
		return &fieldError{"pricing_model", "a SKU without meter_event_type is a flat fee: its pricing_model is PerUnit"}
	}
	if in.MeterEventType == "" {
		switch {
		case in.MeterProperty != "":
			return &fieldError{"meter_event_type", "meter_event_type is required when meter_property is set"}
		case in.Aggregation != "":
			return &fieldError{"meter_event_type", "meter_event_type is required when aggregation is set"}
		}
		return checkCurrency(&in.Currency)
	}
	switch in.Aggregation {
	case "":
		in.Aggregation = billing.AggCount
		if in.MeterProperty != "" {
			in.Aggregation = billing.AggSum
		}
	case billing.AggCount:
	case billing.AggSum, billing.AggMax, billing.AggUniqueCount:
		if in.MeterProperty == "" {
			return &fieldError{"meter_property", "meter_property is required for aggregation " + in.Aggregation}
		}
	default:
		return &fieldError{"aggregation", "aggregation must be one of Sum, Count, Max, UniqueCount"}
	}
	return checkCurrency(&in.Currency)
}

func (c *catalog) addSKU(in billing.SKU, now time.Time) (billing.SKU, *fieldError) {
	if fe := checkSKU(&in); fe != nil {
		return in, fe
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.plans[in.PlanID]
	if p == nil {
		return in, &fieldError{"plan_id", "no plan " + in.PlanID}
	}
	if fe := sameCurrency(&in.Currency, p); fe != nil {
		return in, fe
	}
	id, fe := newID(c, in.ID, c.skus, now)
	if fe != nil {
		return in, fe
	}
	in.ID = id
	sku := in
	c.skus[id] = &sku
	p.skus = append(p.skus, &sku)
	return in, nil
}

// sameCurrency checks a SKU's or subscription's currency against its
// plan's [chosen]: a plan prices in one currency, so a SKU or subscription
// in another is refused (422), never summed into one total; an empty one
// takes the plan's.
func sameCurrency(cur *string, p *plan) *fieldError {
	switch {
	case p.Currency == "":
	case *cur == "":
		*cur = p.Currency
	case *cur != p.Currency:
		return &fieldError{"currency", fmt.Sprintf("currency %s differs from plan %s's %s: a plan prices in one currency", *cur, p.ID, p.Currency)}
	}
	return nil
}

func (c *catalog) addSubscription(in billing.Subscription, now time.Time) (billing.Subscription, *fieldError) {
	if fe := required("customer_id", in.CustomerID); fe != nil {
		return in, fe
	}
	if fe := required("plan_id", in.PlanID); fe != nil {
		return in, fe
	}
	if in.TrialDays != nil && (*in.TrialDays < 0 || *in.TrialDays > maxTrialDays) {
		return in, &fieldError{"trial_days", "trial_days must be between 0 and 3650"}
	}
	if fe := checkCurrency(&in.Currency); fe != nil {
		return in, fe
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cust := c.customers[in.CustomerID]
	if cust == nil {
		return in, &fieldError{"customer_id", "no customer " + in.CustomerID}
	}
	p := c.plans[in.PlanID]
	if p == nil {
		return in, &fieldError{"plan_id", "no plan " + in.PlanID}
	}
	if fe := sameCurrency(&in.Currency, p); fe != nil {
		return in, fe
	}
	id, fe := newID(c, in.ID, c.subs, now)
	if fe != nil {
		return in, fe
	}
	trial := p.TrialDays
	if in.TrialDays != nil {
		trial = *in.TrialDays
	}
	if in.Currency == "" {
		in.Currency = p.Currency
	}
	if in.Currency == "" {
		in.Currency = cust.Currency
	}
	in.ID = id
	if in.CreatedAt.IsZero() {
		in.CreatedAt = now.UTC()
	}
	in.Status, in.TrialDays = "", nil
	sub := &subscription{Subscription: in, trialDays: trial, plan: p}
	c.subs[id] = sub
	cust.subs = append(cust.subs, sub)
	if cust.first == nil || takesPrecedence(sub, cust.first) {
		cust.first = sub
	}
	i, _ := slices.BinarySearchFunc(c.sorted, id, func(s *subscription, id string) int { return strings.Compare(s.ID, id) })
	c.sorted = slices.Insert(c.sorted, i, sub)
	return sub.view(now), nil
}

// attribute resolves the subscription an event counts toward: the one it
// names, which must belong to its customer, or else the customer's first
// subscription, or none.
func (c *catalog) attribute(customerID, subscriptionID []byte) (*subscription, *fieldError) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cust := c.customers[string(customerID)]
	if cust == nil {
		return nil, &fieldError{"customer_id", "no customer with this customer_id"}
	}
	if subscriptionID != nil {
		sub := c.subs[string(subscriptionID)]
		switch {
		case sub == nil:
			return nil, &fieldError{"subscription_id", "no subscription with this subscription_id"}
		case sub.CustomerID != cust.ID:
			return nil, &fieldError{"subscription_id", "the subscription belongs to another customer"}
		}
		return sub, nil
	}
	return cust.first, nil
}

// subscription returns the subscription id and its plan's SKUs.
func (c *catalog) subscription(id string) (*subscription, []*billing.SKU) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	sub := c.subs[id]
	if sub == nil {
		return nil, nil
	}
	return sub, sub.plan.skus
}

// listSubscriptions returns up to limit subscriptions with ids above after,
// in id order, and whether more follow.
func (c *catalog) listSubscriptions(after string, limit int) ([]*subscription, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := 0
	if after != "" {
		i, _ = slices.BinarySearchFunc(c.sorted, after, func(s *subscription, id string) int { return strings.Compare(s.ID, id) })
		if i < len(c.sorted) && c.sorted[i].ID == after {
			i++
		}
	}
	end := min(i+limit, len(c.sorted))
	return slices.Clone(c.sorted[i:end]), end < len(c.sorted)
}
