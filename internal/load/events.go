package load

import (
	"context"
	"log/slog"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// EventsConfig says where a run's events come from: a source, or
// synthetic events over a catalog set up first.
type EventsConfig struct {
	// Spec is the source to send; nil for synthetic events.
	Spec *source.Spec
	// Customers, Name and Seed set up the synthetic events' catalog
	// (Setup) and mix. Admin is the client that sets it up.
	Customers int
	Name      string
	Seed      uint64
	Admin     *billing.Client
	// IDPrefix starts every event id: the run id and shard.
	IDPrefix string
	Logger   *slog.Logger
}

// Events is a run's event feed, opened.
type Events struct {
	// Worker is Config.Events.
	Worker func(id int) Generator
	// Synthetic is the synthetic events' catalog and ledger, nil for a
	// source: what Verify checks.
	Synthetic *Synthetic
	close     func()
}

// OpenEvents sets up the catalog of synthetic events, or opens the source.
func OpenEvents(ctx context.Context, c EventsConfig) (*Events, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if c.Spec == nil {
		log.Info("setting up", "customers", c.Customers, "name", c.Name)
		began := time.Now()
		cat, err := Setup(ctx, c.Admin, SetupConfig{Customers: c.Customers, Name: c.Name})
		if err != nil {
			return nil, err
		}
		log.Info("set up", "customers", len(cat.Accounts), "plan", cat.PlanID, "took", time.Since(began).Round(time.Millisecond).String())
		syn := &Synthetic{Catalog: cat, IDPrefix: c.IDPrefix, Seed: c.Seed, Ledger: NewLedger(len(cat.Accounts))}
		return &Events{Worker: syn.Worker, Synthetic: syn, close: func() {}}, nil
	}
	rd, err := source.Open(ctx, *c.Spec)
	if err != nil {
		return nil, err
	}
	src := StartSource(ctx, rd, c.IDPrefix)
	return &Events{Worker: src.Worker, close: func() {
		src.Stop()
		rd.Close()
		if n := src.Invalid(); n > 0 {
			log.Warn("source records skipped: invalid", "count", n)
		}
	}}, nil
}

// Close stops reading the source, and logs the records it skipped.
func (e *Events) Close() { e.close() }
