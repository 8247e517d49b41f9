package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// HealStats describes a heal: the source events of the subscriptions with
// an Under pair sent again, and what that changed.
type HealStats struct {
	// Subscriptions counts the subscriptions healed.
	Subscriptions int `json:"subscriptions"`
	// Resent counts events sent again: those of the healed subscriptions
	// whose type an Under meter counts.
	Resent int64 `json:"resent"`
	// Accepted counts resent events the API counted for the first time:
	// usage it had lost.
	Accepted int64 `json:"accepted"`
	// Duplicates counts resent events the API already had.
	Duplicates int64 `json:"duplicates"`
	// Failed counts resent events that failed after the client's retries.
	Failed int64 `json:"failed"`
	// FirstError is the first failure, if any.
	FirstError string `json:"first_error,omitempty"`
	// Before and After count the Under pairs of the healed subscriptions
	// before the heal and after it.
	Before int `json:"under_before"`
	After  int `json:"under_after"`
}

// heal re-sends the source events of the subscriptions with Under pairs,
// then fetches (and settles) them again. Over pairs are never touched: an
// event is re-sent with its own id, which the API deduplicates, so a
// re-send can only restore usage the API lost, never add to usage it has.
func (v *verifier) heal(ctx context.Context, subs []*subState) (*HealStats, error) {
	hs := &HealStats{}
	types := map[string]map[string]bool{} // subscription -> event types of its Under meters
	var targets []*subState
	for _, st := range subs {
		for i, c := range st.class {
			if c != Under {
				continue
			}
			hs.Before++
			if types[st.id] == nil {
				types[st.id] = map[string]bool{}
				targets = append(targets, st)
			}
			types[st.id][st.group.meters[i].EventType] = true
		}
	}
	hs.Subscriptions = len(targets)
	if len(targets) == 0 {
		return hs, nil
	}
	v.log.Info("healing", "subscriptions", len(targets))
	if err := v.resend(ctx, types, hs); err != nil {
		return hs, err
	}
	if err := v.fetch(ctx, targets); err != nil {
		return hs, err
	}
	for _, st := range targets {
		st.classify(&v.cfg.Tolerance)
	}
	if err := v.settle(ctx, targets); err != nil {
		return hs, err
	}
	for _, st := range targets {
		for _, c := range st.class {
			if c == Under {
				hs.After++
			}
		}
	}
	v.log.Info("healed", "resent", hs.Resent, "accepted", hs.Accepted, "under_before", hs.Before, "under_after", hs.After)
	return hs, nil
}

// resend reads the source again and sends the events of the subscriptions
// and types given, Concurrency at a time.
func (v *verifier) resend(ctx context.Context, types map[string]map[string]bool, hs *HealStats) error {
	spec := v.cfg.Source
	spec.Window, spec.Shard, spec.After = v.cfg.Window, v.cfg.Shard, source.Position{}
	r, err := source.Open(ctx, spec)
	if err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	defer r.Close()
	var accepted, dups, failed atomic.Int64
	var firstErr atomic.Pointer[string]
	ids := newIDSet(0)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.cfg.Concurrency)
	for {
		rec, err := r.Next(gctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if re := (*source.RecordError)(nil); errors.As(err, &re) {
				continue
			}
			_ = g.Wait()
			return fmt.Errorf("heal: read source: %w", err)
		}
		st, why := v.l.attribute(&rec.Event)
		if why != attributed || !types[st.id][rec.Event.EventType] {
			continue
		}
		if fresh, _ := ids.add(rec.Event.ID, 0); !fresh { // only the first copy of an id is the one counted
			continue
		}
		ev := rec.Event // only the events sent escape to the heap
		hs.Resent++
		// Events stay valid after Next: the reader never reuses their memory.
		g.Go(func() error {
			res, err := v.cfg.Client.SendEvent(gctx, billing.Event(ev))
			switch {
			case err != nil && gctx.Err() != nil:
				return gctx.Err()
			case err != nil:
				failed.Add(1)
				msg := err.Error()
				firstErr.CompareAndSwap(nil, &msg)
			case res.Accepted && !res.Replayed:
				accepted.Add(1)
			default:
				dups.Add(1)
			}
			return nil
		})
	}
	err = g.Wait()
	hs.Accepted, hs.Duplicates, hs.Failed = accepted.Load(), dups.Load(), failed.Load()
	if p := firstErr.Load(); p != nil {
		hs.FirstError = *p
	}
	if err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	return nil
}
