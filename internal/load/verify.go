package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/defaults"
)

// Verify defaults.
const (
	DefaultVerifyTimeout = 2 * time.Minute
	DefaultVerifyPoll    = time.Second
	maxMismatches        = 20
)

// VerifyConfig configures Verify.
type VerifyConfig struct {
	// From and To bound the usage window asked for: [From, To) must hold
	// every event the run sent (their timestamps are their intended send
	// times).
	From, To time.Time
	// Timeout is how long usage may take to settle. Default
	// DefaultVerifyTimeout.
	Timeout time.Duration
	// Poll is the wait between two rounds. Default DefaultVerifyPoll.
	Poll time.Duration
	// Concurrency bounds the usage calls in flight. Default 8.
	Concurrency int
}

// Mismatch is one account and meter whose usage does not match the
// ledger.
type Mismatch struct {
	SubscriptionID string `json:"subscription_id"`
	Meter          string `json:"meter"`
	// Accepted is what the API accepted; Uncertain, the most it may have
	// stored on top (requests with no answer or a 5xx); Reported, what its
	// usage says. Reported must be in [Accepted, Accepted+Uncertain].
	Accepted  int64  `json:"accepted"`
	Uncertain int64  `json:"uncertain,omitempty"`
	Reported  string `json:"reported"`
	Error     string `json:"error,omitempty"`
}

// Verification is what Verify found.
type Verification struct {
	Pass          bool   `json:"pass"`
	Subscriptions int    `json:"subscriptions"`
	Matched       int    `json:"matched"`
	Mismatched    int    `json:"mismatched"`
	Rounds        int    `json:"rounds"`
	Elapsed       Millis `json:"elapsed_ms"`
	// Mismatches lists the first few mismatched meters of the last round.
	Mismatches []Mismatch `json:"mismatches,omitempty"`
}

// Verify checks that the usage the API reports for every account of cat
// equals what the ledger says it accepted: load must not lose (or add)
// data. Usage may lag, so accounts are polled until they all match or
// cfg.Timeout passes; the mismatches of the last round are reported. It
// returns an error only when it could not run (ctx done).
func Verify(ctx context.Context, c *billing.Client, cat *Catalog, led *Ledger, cfg VerifyConfig) (*Verification, error) {
	defaults.Set(&cfg.Timeout, DefaultVerifyTimeout)
	defaults.Set(&cfg.Poll, DefaultVerifyPoll)
	defaults.Set(&cfg.Concurrency, 8)
	began := time.Now()
	deadline := began.Add(cfg.Timeout)
	v := &Verification{Subscriptions: len(cat.Accounts)}
	pending := make([]int, len(cat.Accounts))
	for i := range pending {
		pending[i] = i
	}
	var last []Mismatch
	for {
		v.Rounds++
		var err error
		pending, last, err = verifyRound(ctx, c, cat, led, cfg, pending)
		if err != nil {
			return nil, err
		}
		if len(pending) == 0 || !time.Now().Add(cfg.Poll).Before(deadline) {
			break
		}
		t := time.NewTimer(cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("verify: %w", ctx.Err())
		case <-t.C:
		}
	}
	v.Elapsed = Millis(time.Since(began))
	v.Mismatched = len(pending)
	v.Matched = v.Subscriptions - v.Mismatched
	v.Pass = v.Mismatched == 0
	slices.SortFunc(last, func(a, b Mismatch) int {
		return strings.Compare(a.SubscriptionID+"\x00"+a.Meter, b.SubscriptionID+"\x00"+b.Meter)
	})
	v.Mismatches = last[:min(len(last), maxMismatches)]
	return v, nil
}

// verifyRound fetches the usage of the pending accounts and returns those
// that still do not match, with their mismatches.
func verifyRound(ctx context.Context, c *billing.Client, cat *Catalog, led *Ledger, cfg VerifyConfig, pending []int) ([]int, []Mismatch, error) {
	var mu sync.Mutex
	var still []int
	var found []Mismatch
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for _, i := range pending {
		g.Go(func() error {
			ms := checkAccount(gctx, c, cat, led, cfg, i)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			if len(ms) > 0 {
				mu.Lock()
				still = append(still, i)
				found = append(found, ms...)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	slices.Sort(still)
	return still, found, nil
}

// checkAccount compares one account's usage with the ledger.
func checkAccount(ctx context.Context, c *billing.Client, cat *Catalog, led *Ledger, cfg VerifyConfig, i int) []Mismatch {
	sub := cat.Accounts[i].SubscriptionID
	u, err := c.Usage(ctx, sub, cfg.From, cfg.To)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return []Mismatch{{SubscriptionID: sub, Meter: "*", Error: err.Error()}}
	}
	var out []Mismatch
	for m, sku := range cat.Meters {
		acc, unc := led.Accepted(i, m)
		rep := billing.Quantity{}
		for _, mu := range u.Meters {
			if mu.SKUID == sku.ID {
				rep = mu.Quantity
				break
			}
		}
		got, whole := rep.Int64()
		if whole && got >= acc && got <= acc+unc {
			continue
		}
		out = append(out, Mismatch{SubscriptionID: sub, Meter: sku.Name, Accepted: acc, Uncertain: unc, Reported: rep.String()})
	}
	return out
}

// MergeVerifications combines the verifications of several shards, each of
// its own subscriptions.
func MergeVerifications(vs []*Verification) *Verification {
	if len(vs) == 0 {
		return nil
	}
	out := &Verification{Pass: true}
	for _, v := range vs {
		out.Pass = out.Pass && v.Pass
		out.Subscriptions += v.Subscriptions
		out.Matched += v.Matched
		out.Mismatched += v.Mismatched
		out.Rounds = max(out.Rounds, v.Rounds)
		out.Elapsed = max(out.Elapsed, v.Elapsed)
		out.Mismatches = append(out.Mismatches, v.Mismatches...)
	}
	out.Mismatches = out.Mismatches[:min(len(out.Mismatches), 20)]
	return out
}
