package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// Request bodies. They list only the fields a client may set; ids and
// timestamps are the server's.
type (
	customerIn struct {
		DisplayName string `json:"display_name"`
		Email       string `json:"email"`
		Currency    string `json:"currency"`
		AccountType string `json:"account_type"`
	}
	productIn struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	planIn struct {
		ProductID      string `json:"product_id"`
		Name           string `json:"name"`
		Description    string `json:"description"`
		BillingCadence string `json:"billing_cadence"`
		TrialDays      int    `json:"trial_days"`
		Currency       string `json:"currency"`
	}
	skuIn struct {
		PlanID          string          `json:"plan_id"`
		Name            string          `json:"name"`
		PricingModel    string          `json:"pricing_model"`
		UnitAmountNanos json.RawMessage `json:"unit_amount_nanos"`
		MeterEventType  string          `json:"meter_event_type"`
		MeterProperty   string          `json:"meter_property"`
		Aggregation     string          `json:"aggregation"`
		Currency        string          `json:"currency"`
		Tiers           []billing.Tier  `json:"tiers"`
		PackageSize     int64           `json:"package_size"`
	}
	subscriptionIn struct {
		CustomerID string     `json:"customer_id"`
		PlanID     string     `json:"plan_id"`
		Currency   string     `json:"currency"`
		TrialDays  *int       `json:"trial_days"`
		StartDate  *time.Time `json:"start_date"`
	}
)

// subscriptionList is the page returned by GET /v1/subscriptions.
type subscriptionList struct {
	Data    []billing.Subscription `json:"data"`
	HasMore bool                   `json:"has_more"`
}

func (s *Server) createCustomer(c *call) response {
	var in customerIn
	if resp, ok := s.decode(c, &in, false); !ok {
		return resp
	}
	out, fe := s.cat.addCustomer(billing.Customer{
		DisplayName: in.DisplayName, Email: in.Email, Currency: in.Currency, AccountType: in.AccountType,
	}, c.now)
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	return s.json(c, http.StatusCreated, out)
}

func (s *Server) createProduct(c *call) response {
	var in productIn
	if resp, ok := s.decode(c, &in, false); !ok {
		return resp
	}
	out, fe := s.cat.addProduct(billing.Product{Name: in.Name, Description: in.Description}, c.now)
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	return s.json(c, http.StatusCreated, out)
}

func (s *Server) createPlan(c *call) response {
	var in planIn
	if resp, ok := s.decode(c, &in, false); !ok {
		return resp
	}
	out, fe := s.cat.addPlan(billing.Plan{
		ProductID: in.ProductID, Name: in.Name, Description: in.Description,
		BillingCadence: in.BillingCadence, TrialDays: in.TrialDays, Currency: in.Currency,
	}, c.now)
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	return s.json(c, http.StatusCreated, out)
}

func (s *Server) createSKU(c *call) response {
	var in skuIn
	if resp, ok := s.decode(c, &in, false); !ok {
		return resp
	}
	var price billing.Money
	switch {
	case len(in.UnitAmountNanos) != 0 && string(in.UnitAmountNanos) != "null":
		if err := price.UnmarshalJSON(in.UnitAmountNanos); err != nil {
			return s.invalid(c, "unit_amount_nanos", "unit_amount_nanos must be a base-10 integer string of pico-units: "+err.Error())
		}
	case in.PricingModel != billing.PricingGraduated && in.PricingModel != billing.PricingVolume:
		return s.invalid(c, "unit_amount_nanos", "unit_amount_nanos is required (a string of pico-units)")
	}
	out, fe := s.cat.addSKU(billing.SKU{
		PlanID: in.PlanID, Name: in.Name, PricingModel: in.PricingModel, UnitAmountNanos: price,
		MeterEventType: in.MeterEventType, MeterProperty: in.MeterProperty,
		Aggregation: in.Aggregation, Currency: in.Currency, Tiers: in.Tiers, PackageSize: in.PackageSize,
	}, c.now)
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	return s.json(c, http.StatusCreated, out)
}

func (s *Server) createSubscription(c *call) response {
	var in subscriptionIn
	if resp, ok := s.decode(c, &in, false); !ok {
		return resp
	}
	sub := billing.Subscription{CustomerID: in.CustomerID, PlanID: in.PlanID, Currency: in.Currency, TrialDays: in.TrialDays}
	if in.StartDate != nil {
		if in.StartDate.After(c.now) || in.StartDate.Year() < minEventYear {
			return s.invalid(c, "start_date", fmt.Sprintf("start_date must be between %d and now: it backdates the subscription's start", minEventYear))
		}
		sub.CreatedAt = in.StartDate.UTC()
	}
	out, fe := s.cat.addSubscription(sub, c.now)
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	return s.json(c, http.StatusCreated, out)
}

func (s *Server) getSubscription(c *call) response {
	sub, _ := s.cat.subscription(c.param)
	if sub == nil {
		return s.notFound(c, "subscription")
	}
	return s.json(c, http.StatusOK, sub.view(c.now))
}

func (s *Server) listSubscriptions(c *call) response {
	q := c.r.URL.Query()
	limit := defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return s.invalid(c, "limit", "limit must be an integer from 1 to "+strconv.Itoa(maxListLimit))
		}
		limit = n
	}
	page, more := s.cat.listSubscriptions(q.Get("starting_after"), limit)
	out := subscriptionList{Data: make([]billing.Subscription, len(page)), HasMore: more}
	for i, sub := range page {
		out.Data[i] = sub.view(c.now)
	}
	return s.json(c, http.StatusOK, out)
}
