package sandbox

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/billharness/billharness/internal/billing"
)

// dueAfter is the payment term set at finalization [chosen].
const dueAfter = 30 * 24 * time.Hour

type periodKey struct {
	sub        string
	start, end int64
}

// invoiceStore holds invoices. One mutex guards everything: billing is
// rare, and a single lock is what makes "one invoice per subscription and
// period" and gap-free invoice numbers hold under concurrency.
type invoiceStore struct {
	mu       sync.Mutex
	byID     map[string]*billing.Invoice
	byPeriod map[periodKey]string
	seq      int // last invoice number given
}

func (st *invoiceStore) init() {
	st.byID = map[string]*billing.Invoice{}
	st.byPeriod = map[periodKey]string{}
}

type billIn struct {
	PeriodStart *string `json:"period_start"`
	PeriodEnd   *string `json:"period_end"`
}

// previousMonth is the calendar month that ended last before now: the
// default billing period.
func previousMonth(now time.Time) (time.Time, time.Time) {
	start, _ := monthOf(now)
	return start.AddDate(0, -1, 0), start
}

// bill serves POST /admin/v1/subscriptions/{id}/bill.
func (s *Server) bill(c *call) response {
	var in billIn
	if resp, ok := s.decode(c, &in, true); !ok {
		return resp
	}
	sub, skus := s.cat.subscription(c.param)
	if sub == nil {
		return s.notFound(c, "subscription")
	}
	start, end := previousMonth(c.now)
	if in.PeriodStart != nil || in.PeriodEnd != nil {
		for _, p := range []struct {
			name string
			v    *string
			dst  *time.Time
		}{{"period_start", in.PeriodStart, &start}, {"period_end", in.PeriodEnd, &end}} {
			if p.v == nil {
				return s.invalid(c, p.name, p.name+" is required when a period is given")
			}
			t, err := time.Parse(time.RFC3339, *p.v)
			if err != nil {
				return s.invalid(c, p.name, p.name+" must be an RFC 3339 timestamp")
			}
			*p.dst = t.UTC()
		}
	}
	if !start.Before(end) {
		return s.invalid(c, "period_end", "period_end must be after period_start")
	}

	st := &s.invoices
	st.mu.Lock()
	defer st.mu.Unlock()
	key := periodKey{sub: sub.ID, start: clampNanos(start), end: clampNanos(end)}
	if id, ok := st.byPeriod[key]; ok {
		return s.json(c, http.StatusOK, st.byID[id])
	}
	inv, fe := s.buildInvoice(sub, skus, start, end, c.now)
	if fe != nil {
		return s.errorResp(c, http.StatusUnprocessableEntity, "amount_overflow", fe.field, fe.msg)
	}
	st.byID[inv.ID] = inv
	st.byPeriod[key] = inv.ID
	return s.json(c, http.StatusCreated, inv)
}

// buildInvoice prices usage over [start, end): one PerUnit line per SKU of
// the plan, metered SKUs at their usage, flat SKUs at quantity 1. Amounts
// are exact 128-bit products and sums.
func (s *Server) buildInvoice(sub *subscription, skus []*billing.SKU, start, end, now time.Time) (*billing.Invoice, *fieldError) {
	meters := usage(sub, skus, start, end, now)
	qty := make(map[string]billing.Quantity, len(meters))
	for i := range meters {
		qty[meters[i].sku.ID] = meters[i].quantity()
	}
	inv := &billing.Invoice{
		ID:             s.ids.next(now),
		Status:         billing.InvoiceDraft,
		InvoiceType:    invoiceTypeSub,
		CustomerID:     sub.CustomerID,
		SubscriptionID: sub.ID,
		Currency:       sub.Currency,
		PeriodStart:    start,
		PeriodEnd:      end,
		LineItems:      make([]billing.LineItem, 0, len(skus)),
	}
	total := billing.Money{}
	for _, sku := range skus {
		q := billing.QuantityFromInt64(1)
		if sku.MeterEventType != "" {
			q = qty[sku.ID]
		}
		amount, err := sku.UnitAmountNanos.MulQuantity(q)
		if err != nil {
			return nil, &fieldError{"total_nanos", fmt.Sprintf("line %q: %v", sku.Name, err)}
		}
		if total, err = total.Add(amount); err != nil {
			return nil, &fieldError{"total_nanos", "the invoice total overflows 128 bits"}
		}
		inv.LineItems = append(inv.LineItems, billing.LineItem{
			ID:              s.ids.next(now),
			Description:     sku.Name,
			SKUID:           sku.ID,
			PricingModel:    pricingPerUnit,
			Quantity:        q,
			UnitAmountNanos: sku.UnitAmountNanos,
			AmountNanos:     amount,
		})
	}
	inv.TotalNanos = total
	return inv, nil
}

// finalize serves POST /admin/v1/invoices/{id}/finalize and its /v1 twin:
// Draft -> Open with the next invoice number.
func (s *Server) finalize(c *call) response {
	var in struct{}
	if resp, ok := s.decode(c, &in, true); !ok {
		return resp
	}
	st := &s.invoices
	st.mu.Lock()
	defer st.mu.Unlock()
	inv := st.byID[c.param]
	if inv == nil {
		return s.notFound(c, "invoice")
	}
	if inv.Status != billing.InvoiceDraft {
		return s.errorResp(c, http.StatusConflict, "invoice_not_draft", "", "invoice "+inv.ID+" is "+inv.Status+", not Draft")
	}
	st.seq++
	at := c.now.UTC()
	due := at.Add(dueAfter)
	inv.InvoiceNumber = fmt.Sprintf("INV-%06d", st.seq)
	inv.Status = billing.InvoiceOpen
	inv.FinalizedAt = &at
	inv.DueDate = &due
	return s.json(c, http.StatusOK, inv)
}

// getInvoice serves GET /v1/invoices/{id}.
func (s *Server) getInvoice(c *call) response {
	st := &s.invoices
	st.mu.Lock()
	defer st.mu.Unlock()
	inv := st.byID[c.param]
	if inv == nil {
		return s.notFound(c, "invoice")
	}
	return s.json(c, http.StatusOK, inv)
}
