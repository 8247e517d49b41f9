package report

import (
	"cmp"
	"slices"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/reconcile"
)

// MoneyImpact is what a run's discrepancies are worth in one currency,
// exactly: UnderBilled and OverBilled are what invoices charged less or
// more than the source implies; AtRisk is what a finance team must
// look at (usage the API cannot count, usage after an invoice closed,
// a second invoice for the same time). Net is OverBilled - UnderBilled.
type MoneyImpact struct {
	Currency    string        `json:"currency"`
	UnderBilled billing.Money `json:"under_billed_nanos"`
	OverBilled  billing.Money `json:"over_billed_nanos"`
	AtRisk      billing.Money `json:"at_risk_nanos"`
	Net         billing.Money `json:"net_nanos"`
	// Pairs counts the discrepancies with money in the currency.
	Pairs int `json:"pairs"`
}

// addMoney adds p's money to the digest's currency sums and keeps it
// among the largest by absolute money.
func (d *digest) addMoney(p *reconcile.Pair) {
	impact := p.Impact()
	if impact == "" {
		return
	}
	if d.money == nil {
		d.money = map[string]*MoneyImpact{}
	}
	m := d.money[p.Currency]
	if m == nil {
		m = &MoneyImpact{Currency: p.Currency}
		d.money[p.Currency] = m
	}
	m.Pairs++
	abs := p.Money
	if abs.Cmp(billing.Money{}) < 0 {
		abs, _ = billing.Money{}.Sub(abs)
	}
	var err error
	switch impact {
	case reconcile.UnderBilled:
		m.UnderBilled, err = m.UnderBilled.Add(abs)
	case reconcile.OverBilled:
		m.OverBilled, err = m.OverBilled.Add(abs)
	default:
		m.AtRisk, err = m.AtRisk.Add(abs)
	}
	if err != nil {
		d.moneyOverflow = true
	}
	d.nMoney++
	d.topMoney = keepTopBy(d.topMoney, p, TopN, func(p *reconcile.Pair) billing.Quantity { return p.Money.Quantity() })
}

// moneyList returns the currency sums, by currency.
func (d *digest) moneyList() []MoneyImpact {
	out := make([]MoneyImpact, 0, len(d.money))
	for _, m := range d.money {
		v := *m
		v.Net, _ = v.OverBilled.Sub(v.UnderBilled)
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b MoneyImpact) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// priced renders an amount with its currency: "USD 1,234.56".
func priced(currency string, m billing.Money) string {
	s := money(m.Quantity())
	if currency == "" {
		return s
	}
	return currency + " " + s
}
