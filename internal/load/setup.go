package load

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/defaults"
)

// Measures of the synthetic plan: what each of its metered SKUs counts,
// in Catalog.Meters order.
const (
	MeasureAPIRequests  = iota // api.request, Count
	MeasureCompletions         // llm.completion, Count
	MeasureInputTokens         // llm.completion, Sum of input_tokens
	MeasureOutputTokens        // llm.completion, Sum of output_tokens
	MeasureStorageBytes        // storage.write, Sum of bytes
	numMeasures
)

// Event types of the synthetic events.
const (
	EventAPIRequest    = "api.request"
	EventLLMCompletion = "llm.completion"
	EventStorageWrite  = "storage.write"
)

// meterSKUs are the synthetic plan's metered SKUs, in measure order.
func meterSKUs(planID, currency string) []billing.SKU {
	sku := func(name, event, prop, agg, unit string) billing.SKU {
		return billing.SKU{PlanID: planID, Name: name, PricingModel: "PerUnit", UnitAmountNanos: billing.MustMoney(unit),
			MeterEventType: event, MeterProperty: prop, Aggregation: agg, Currency: currency}
	}
	return []billing.SKU{
		MeasureAPIRequests:  sku("API Requests", EventAPIRequest, "", billing.AggCount, "100000000"),
		MeasureCompletions:  sku("Completions", EventLLMCompletion, "", billing.AggCount, "0"),
		MeasureInputTokens:  sku("Input Tokens", EventLLMCompletion, "input_tokens", billing.AggSum, "3000000"),
		MeasureOutputTokens: sku("Output Tokens", EventLLMCompletion, "output_tokens", billing.AggSum, "15000000"),
		MeasureStorageBytes: sku("Storage Written", EventStorageWrite, "bytes", billing.AggSum, "2000"),
	}
}

// Account is one customer a synthetic run sends events for, and its
// subscription.
type Account struct {
	CustomerID     string `json:"customer_id"`
	SubscriptionID string `json:"subscription_id"`
}

// Catalog is what Setup created.
type Catalog struct {
	ProductID string `json:"product_id"`
	PlanID    string `json:"plan_id"`
	// Meters are the plan's metered SKUs, indexed by the Measure constants.
	Meters []billing.SKU `json:"meters"`
	// Accounts are the customers, the most active first: the synthetic
	// events' Zipf skew favours low indexes.
	Accounts []Account `json:"accounts"`
}

// SetupConfig configures Setup.
type SetupConfig struct {
	// Customers is how many customers (each with a subscription) to create.
	Customers int
	// Name prefixes the names of what is created, e.g. the run id and
	// shard, so that a run's customers can be told apart.
	Name string
	// Concurrency bounds the create calls in flight. Default 16.
	Concurrency int
	// Currency defaults to USD.
	Currency string
}

// Setup creates, through the API, a product, a plan with the synthetic
// meters (API requests, completions, input and output tokens, storage
// bytes) and cfg.Customers customers subscribed to it, at most
// cfg.Concurrency calls at a time. It needs an admin-scope token; the
// client should retry (creates carry idempotency keys).
func Setup(ctx context.Context, c *billing.Client, cfg SetupConfig) (*Catalog, error) {
	if cfg.Customers <= 0 {
		return nil, errors.New("setup: customers must be at least 1")
	}
	defaults.Set(&cfg.Concurrency, 16)
	if cfg.Currency == "" {
		cfg.Currency = "USD"
	}
	prod, err := c.CreateProduct(ctx, billing.Product{Name: cfg.Name + " load test", Description: "created by loadgen"})
	if err != nil {
		return nil, fmt.Errorf("setup: create product: %w", err)
	}
	plan, err := c.CreatePlan(ctx, billing.Plan{ProductID: prod.ID, Name: cfg.Name + " metered", BillingCadence: "Monthly",
		Currency: cfg.Currency})
	if err != nil {
		return nil, fmt.Errorf("setup: create plan: %w", err)
	}
	cat := &Catalog{ProductID: prod.ID, PlanID: plan.ID, Accounts: make([]Account, cfg.Customers)}
	for _, in := range meterSKUs(plan.ID, cfg.Currency) {
		sku, err := c.CreateSKU(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("setup: create SKU %s: %w", in.Name, err)
		}
		cat.Meters = append(cat.Meters, *sku)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for i := range cat.Accounts {
		g.Go(func() error {
			cust, err := c.CreateCustomer(gctx, billing.Customer{
				DisplayName: fmt.Sprintf("%s customer %d", cfg.Name, i),
				Email:       fmt.Sprintf("customer-%d@loadgen.invalid", i),
				Currency:    cfg.Currency, AccountType: "Business",
			})
			if err != nil {
				return fmt.Errorf("setup: create customer %d: %w", i, err)
			}
			sub, err := c.CreateSubscription(gctx, billing.Subscription{CustomerID: cust.ID, PlanID: plan.ID, Currency: cfg.Currency})
			if err != nil {
				return fmt.Errorf("setup: subscribe customer %s: %w", cust.ID, err)
			}
			// Each goroutine writes its own element: no lock needed.
			cat.Accounts[i] = Account{CustomerID: cust.ID, SubscriptionID: sub.ID}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return cat, nil
}
