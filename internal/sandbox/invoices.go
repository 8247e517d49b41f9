package sandbox

import (
	"fmt"
	"net/http"
	"slices"
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
	bySub    map[string][]*billing.Invoice // creation order
	seq      int                           // last invoice number given
}

func (st *invoiceStore) init() {
	st.byID = map[string]*billing.Invoice{}
	st.byPeriod = map[periodKey]string{}
	st.bySub = map[string][]*billing.Invoice{}
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

// billingPeriod checks that [start, end) is one billing cycle of sub
// [chosen]: a calendar month in UTC that does not end before the
// subscription starts. It returns the error to answer, or nil.
func billingPeriod(sub *subscription, start, end time.Time) *fieldError {
	if !start.Before(end) {
		return &fieldError{"period_end", "period_end must be after period_start"}
	}
	if !billing.IsCycle(billing.Period{Start: start, End: end}) {
		ms, me := monthOf(start)
		return &fieldError{"period_start", fmt.Sprintf("a billing period is one calendar month in UTC (Monthly cadence): the cycle containing period_start is %s..%s",
			ms.Format(time.RFC3339), me.Format(time.RFC3339))}
	}
	if !end.After(sub.CreatedAt) {
		return &fieldError{"period_end", fmt.Sprintf("the subscription starts at %s: a period ending before it has nothing to bill", sub.CreatedAt.UTC().Format(time.RFC3339))}
	}
	return nil
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
	if s.cfg.LaxBilling {
		if !start.Before(end) {
			return s.invalid(c, "period_end", "period_end must be after period_start")
		}
	} else if fe := billingPeriod(sub, start, end); fe != nil {
		return s.invalid(c, fe.field, fe.msg)
	}

	st := &s.invoices
	st.mu.Lock()
	defer st.mu.Unlock()
	key := periodKey{sub: sub.ID, start: clampNanos(start), end: clampNanos(end)}
	if id, ok := st.byPeriod[key]; ok {
		inv := st.byID[id]
		if fe := s.reprice(inv, c.now); fe != nil {
			return s.errorResp(c, http.StatusUnprocessableEntity, "amount_overflow", fe.field, fe.msg)
		}
		return s.json(c, http.StatusOK, inv)
	}
	inv := &billing.Invoice{
		ID:             s.ids.next(c.now),
		Status:         billing.InvoiceDraft,
		InvoiceType:    invoiceTypeSub,
		CustomerID:     sub.CustomerID,
		SubscriptionID: sub.ID,
		Currency:       sub.Currency,
		PeriodStart:    start,
		PeriodEnd:      end,
	}
	if fe := s.price(inv, sub, skus, c.now); fe != nil {
		return s.errorResp(c, http.StatusUnprocessableEntity, "amount_overflow", fe.field, fe.msg)
	}
	st.byID[inv.ID] = inv
	st.byPeriod[key] = inv.ID
	st.bySub[sub.ID] = append(st.bySub[sub.ID], inv)
	return s.json(c, http.StatusCreated, inv)
}

// chargedPart is the part of [start, end) a flat fee is charged for
// [chosen]: from the later of the period start, the subscription's start
// and the end of its trial, to the period end. Empty: end, end.
func chargedPart(sub *subscription, start, end time.Time) (time.Time, time.Time) {
	from := start
	for _, t := range []time.Time{sub.CreatedAt, sub.CreatedAt.AddDate(0, 0, sub.trialDays)} {
		if t.After(from) {
			from = t
		}
	}
	if !from.Before(end) {
		return end, end
	}
	return from.UTC(), end
}

// price (re)computes inv's lines and total from the usage visible at now:
// one line per SKU of the plan. A metered SKU's line prices its usage over
// the period with the SKU's model; a flat SKU's line charges its fee for
// the chargedPart of the period, prorated by the second. Amounts are exact
// and fit 128 bits. A Draft is priced again each time it is billed and
// when it is finalized or read; an Open invoice never changes.
func (s *Server) price(inv *billing.Invoice, sub *subscription, skus []*billing.SKU, now time.Time) *fieldError {
	start, end := inv.PeriodStart, inv.PeriodEnd
	meters := usage(sub, skus, start, end, now)
	qty := make(map[string]billing.Quantity, len(meters))
	for i := range meters {
		qty[meters[i].sku.ID] = meters[i].quantity()
	}
	lines := make([]billing.LineItem, 0, len(skus))
	total := billing.Money{}
	for i, sku := range skus {
		line := billing.LineItem{
			Description:     sku.Name,
			SKUID:           sku.ID,
			PricingModel:    sku.PricingModel,
			UnitAmountNanos: sku.UnitAmountNanos,
			Tiers:           sku.Tiers,
			PackageSize:     sku.PackageSize,
		}
		if i < len(inv.LineItems) && inv.LineItems[i].SKUID == sku.ID {
			line.ID = inv.LineItems[i].ID
		} else {
			line.ID = s.ids.next(now)
		}
		if sku.MeterEventType != "" {
			line.Quantity = qty[sku.ID]
			amount, err := sku.Price().Amount(line.Quantity)
			if err != nil {
				return &fieldError{"total_nanos", fmt.Sprintf("line %q: %v", sku.Name, err)}
			}
			line.AmountNanos = amount
		} else {
			from, to := start, end
			if !s.cfg.LaxBilling {
				from, to = chargedPart(sub, start, end)
			}
			line.Quantity = billing.QuantityFromInt64(0)
			if from.Before(to) {
				line.Quantity = billing.QuantityFromInt64(1)
				line.PeriodStart, line.PeriodEnd = &from, &to
			}
			line.AmountNanos = billing.Prorate(sku.UnitAmountNanos, to.Sub(from), end.Sub(start))
		}
		var err error
		if total, err = total.Add(line.AmountNanos); err != nil {
			return &fieldError{"total_nanos", "the invoice total overflows 128 bits"}
		}
		lines = append(lines, line)
	}
	inv.LineItems, inv.TotalNanos = lines, total
	return nil
}

// finalize serves POST /admin/v1/invoices/{id}/finalize and its /v1 twin:
// Draft -> Open with the next invoice number, priced one last time.
func (s *Server) finalize(c *call) response {
	var in struct{}
	if resp, ok := s.decode(c, &in, true); !ok {
		return resp
	}
	return s.withInvoice(c, func(st *invoiceStore, inv *billing.Invoice) response {
		if inv.Status != billing.InvoiceDraft {
			return s.errorResp(c, http.StatusConflict, "invoice_not_draft", "", "invoice "+inv.ID+" is "+inv.Status+", not Draft")
		}
		if fe := s.reprice(inv, c.now); fe != nil {
			return s.errorResp(c, http.StatusUnprocessableEntity, "amount_overflow", fe.field, fe.msg)
		}
		st.seq++
		at := c.now.UTC()
		due := at.Add(dueAfter)
		inv.InvoiceNumber = fmt.Sprintf("INV-%06d", st.seq)
		inv.Status = billing.InvoiceOpen
		inv.FinalizedAt = &at
		inv.DueDate = &due
		return s.json(c, http.StatusOK, inv)
	})
}

// getInvoice serves GET /v1/invoices/{id}.
func (s *Server) getInvoice(c *call) response {
	return s.withInvoice(c, func(_ *invoiceStore, inv *billing.Invoice) response {
		if fe := s.reprice(inv, c.now); fe != nil {
			return s.errorResp(c, http.StatusUnprocessableEntity, "amount_overflow", fe.field, fe.msg)
		}
		return s.json(c, http.StatusOK, inv)
	})
}

// withInvoice answers with f of the invoice c names, under the invoices'
// lock; an unknown id is a 404.
func (s *Server) withInvoice(c *call, f func(*invoiceStore, *billing.Invoice) response) response {
	st := &s.invoices
	st.mu.Lock()
	defer st.mu.Unlock()
	inv := st.byID[c.param]
	if inv == nil {
		return s.notFound(c, "invoice")
	}
	return f(st, inv)
}

// reprice prices a Draft again, as of now: a Draft shows the usage
// visible when it is read. Open invoices never change.
func (s *Server) reprice(inv *billing.Invoice, now time.Time) *fieldError {
	if inv.Status != billing.InvoiceDraft {
		return nil
	}
	sub, skus := s.cat.subscription(inv.SubscriptionID)
	if sub == nil {
		return nil
	}
	return s.price(inv, sub, skus, now)
}

// listInvoices serves GET /v1/subscriptions/{id}/invoices: every invoice
// of the subscription, by period start, then creation.
func (s *Server) listInvoices(c *call) response {
	if sub, _ := s.cat.subscription(c.param); sub == nil {
		return s.notFound(c, "subscription")
	}
	st := &s.invoices
	st.mu.Lock()
	defer st.mu.Unlock()
	list := slices.Clone(st.bySub[c.param])
	for _, inv := range list {
		if fe := s.reprice(inv, c.now); fe != nil {
			return s.errorResp(c, http.StatusUnprocessableEntity, "amount_overflow", fe.field, fe.msg)
		}
	}
	slices.SortStableFunc(list, func(a, b *billing.Invoice) int { return a.PeriodStart.Compare(b.PeriodStart) })
	if list == nil {
		list = []*billing.Invoice{}
	}
	return s.json(c, http.StatusOK, invoiceList{Data: list})
}

type invoiceList struct {
	Data    []*billing.Invoice `json:"data"`
	HasMore bool               `json:"has_more"`
}
