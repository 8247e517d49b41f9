package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/billharness/billharness/internal/replay"
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

// resend reads the source again and re-sends, through replay (its
// workers, its classification of the answers, its stop on a systemic
// failure), the first copy of each event of the subscriptions and types
// given. A failure is counted, not dead-lettered: verify reports it.
func (v *verifier) resend(ctx context.Context, types map[string]map[string]bool, hs *HealStats) error {
	spec := v.cfg.Source
	spec.Window, spec.Shard, spec.After = v.cfg.Window, v.cfg.Shard, source.Position{}
	r, err := source.Open(ctx, spec)
	if err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	defer r.Close()
	letters := &healLetters{}
	st, err := replay.Run(ctx, replay.Config{
		Source: &healSource{Reader: r, v: v, types: types, ids: newIDSet(0)}, Client: v.cfg.Client,
		DeadLetter: letters, Concurrency: v.cfg.Concurrency, Logger: v.log,
	})
	hs.Resent, hs.Accepted, hs.Duplicates, hs.Failed = st.Read, st.Accepted, st.Duplicate, st.DeadLettered
	hs.FirstError = letters.first
	if err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	return nil
}

// healSource yields the events heal re-sends: the first copy of each id
// (the one the API counts) of the subscriptions and event types given.
// Records the reader finds invalid are skipped, as the comparison skipped
// them.
type healSource struct {
	source.Reader
	v     *verifier
	types map[string]map[string]bool
	ids   *idSet
}

func (h *healSource) Next(ctx context.Context) (source.Record, error) {
	for {
		rec, err := h.Reader.Next(ctx)
		if re := (*source.RecordError)(nil); errors.As(err, &re) {
			continue
		}
		if err != nil {
			return rec, err
		}
		st, why := h.v.l.attribute(&rec.Event)
		if why != attributed || !h.types[st.id][rec.Event.EventType] {
			continue
		}
		if fresh, _ := h.ids.add(rec.Event.ID, 0); fresh {
			return rec, nil
		}
	}
}

// healLetters counts the events heal could not re-send and keeps the first
// reason: heal has no dead-letter file, its report says what failed.
type healLetters struct {
	mu    sync.Mutex
	first string
}

func (l *healLetters) Write(letter replay.Letter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == "" {
		l.first = letter.Reason
	}
	return nil
}

func (l *healLetters) Sync() error                     { return nil }
func (l *healLetters) Close() error                    { return nil }
func (l *healLetters) EarlierCounts() map[string]int64 { return nil }
func (l *healLetters) String() string                  { return "heal" }
