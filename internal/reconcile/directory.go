package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// listPage is the page size used to list subscriptions (the sandbox's
// maximum).
const listPage = 1000

// directory is the API's subscriptions, as GET /v1/subscriptions lists
// them: which exist, whose they are, and which one takes a customer's
// events that name no subscription.
type directory struct {
	subs  map[string]*billing.Subscription
	first map[string]string // customer id -> its first subscription's id
	order []string          // subscription ids in id order
	// plans maps every plan of the API, in any shard, to its subscription
	// with the smallest id: the one whose usage names the plan's meters,
	// so that every shard learns the same meters.
	plans map[string]string
	// listed counts the subscriptions listed, of every shard.
	listed int
}

// listDirectory pages through GET /v1/subscriptions, keeping the
// subscriptions of the shard's customers: memory follows the shard, not
// the API.
func listDirectory(ctx context.Context, c *billing.Client, shard source.Shard) (*directory, error) {
	var mine []billing.Subscription
	plans := map[string]string{}
	listed := 0
	after := ""
	for {
		p, err := c.ListSubscriptions(ctx, listPage, after)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		for _, s := range p.Data {
			listed++
			if f, ok := plans[s.PlanID]; !ok || s.ID < f {
				plans[s.PlanID] = s.ID
			}
			if shard.Contains(s.CustomerID) {
				mine = append(mine, s)
			}
		}
		if !p.HasMore || len(p.Data) == 0 {
			break
		}
		after = p.Data[len(p.Data)-1].ID
	}
	d := newDirectory(mine)
	d.plans, d.listed = plans, listed
	return d, nil
}

// newDirectory indexes subs.
//
// Attribution rule [chosen]: an event without subscription_id counts
// toward its customer's first subscription by creation order. The API
// lists created_at, which can tie (subscriptions created in the same
// second); ties are broken by id, the order UUIDv7 ids are minted in.
func newDirectory(subs []billing.Subscription) *directory {
	d := &directory{subs: make(map[string]*billing.Subscription, len(subs)), first: map[string]string{}}
	for i := range subs {
		s := &subs[i]
		if _, dup := d.subs[s.ID]; dup {
			continue
		}
		d.subs[s.ID] = s
		d.order = append(d.order, s.ID)
		if f, ok := d.first[s.CustomerID]; !ok || earlier(s, d.subs[f]) {
			d.first[s.CustomerID] = s.ID
		}
	}
	slices.Sort(d.order)
	return d
}

func earlier(a, b *billing.Subscription) bool {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c < 0
	}
	return cmp.Less(a.ID, b.ID)
}

// Why an event counts toward no subscription.
const (
	attributed   = iota
	unattributed // no subscription_id, and its customer has no subscription in the API
	foreign      // its subscription belongs to another customer: the API refuses it
)
