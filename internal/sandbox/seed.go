package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// SeedData is an initial catalog. Entries are created in the order
// customers, products, plans, skus, subscriptions, each list in file order,
// with the same rules as the API; ids given are kept, missing ids are
// generated.
type SeedData struct {
	Customers     []billing.Customer     `json:"customers"`
	Products      []billing.Product      `json:"products"`
	Plans         []billing.Plan         `json:"plans"`
	SKUs          []billing.SKU          `json:"skus"`
	Subscriptions []billing.Subscription `json:"subscriptions"`
}

// Add appends o's entries to d's: two seed files load as one, o's after d's.
func (d *SeedData) Add(o *SeedData) {
	d.Customers = append(d.Customers, o.Customers...)
	d.Products = append(d.Products, o.Products...)
	d.Plans = append(d.Plans, o.Plans...)
	d.SKUs = append(d.SKUs, o.SKUs...)
	d.Subscriptions = append(d.Subscriptions, o.Subscriptions...)
}

// LoadSeedFile reads and checks a JSON seed file. Errors name the file and
// the entry (e.g. "skus[2] \"Input tokens\": plan_id: no plan p1").
func LoadSeedFile(path string) (*SeedData, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt key would silently seed nothing
	var d SeedData
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, describeJSONError(b, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("seed file %s: data after the top-level object", path)
	}
	// Check references and rules against a scratch catalog, so a bad file
	// is reported before the server starts.
	if err := newCatalog(&uuidGen{}).load(&d, time.Now()); err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	return &d, nil
}

// describeJSONError adds the line and column of a syntax error.
func describeJSONError(b []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range b[:min(int(se.Offset), len(b))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("line %d column %d: %w", line, col, err)
	}
	return err
}

// load creates every entry of d; it reports every bad entry, not just the
// first.
func (c *catalog) load(d *SeedData, now time.Time) error {
	var errs []error
	errs = addAll(errs, now, "customers", d.Customers, c.addCustomer, func(x billing.Customer) string { return nameOr(x.ID, x.DisplayName) })
	errs = addAll(errs, now, "products", d.Products, c.addProduct, func(x billing.Product) string { return nameOr(x.ID, x.Name) })
	errs = addAll(errs, now, "plans", d.Plans, c.addPlan, func(x billing.Plan) string { return nameOr(x.ID, x.Name) })
	errs = addAll(errs, now, "skus", d.SKUs, c.addSKU, func(x billing.SKU) string { return nameOr(x.ID, x.Name) })
	errs = addAll(errs, now, "subscriptions", d.Subscriptions, c.addSubscription, func(x billing.Subscription) string { return x.ID })
	return errors.Join(errs...)
}

// addAll adds every entry of list with add, as of now, and appends to errs
// an error naming (by name) each entry refused.
func addAll[T any](errs []error, now time.Time, list string, xs []T, add func(T, time.Time) (T, *fieldError), name func(T) string) []error {
	for i, x := range xs {
		if _, fe := add(x, now); fe != nil {
			errs = append(errs, fmt.Errorf("%s[%d] %q: %s: %s", list, i, name(x), fe.field, fe.msg))
		}
	}
	return errs
}

func nameOr(id, name string) string {
	if name != "" {
		return name
	}
	return id
}

// LoadSeedFiles reads the seed files at paths (surrounding spaces trimmed)
// and adds them up, in order.
func LoadSeedFiles(paths []string) (*SeedData, error) {
	all := &SeedData{}
	for _, path := range paths {
		d, err := LoadSeedFile(strings.TrimSpace(path))
		if err != nil {
			return nil, err
		}
		all.Add(d)
	}
	return all, nil
}
