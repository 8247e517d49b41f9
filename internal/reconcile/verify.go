package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/billharness/billharness/internal/backoff"
	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/defaults"
	"github.com/billharness/billharness/internal/source"
)

// DefaultConcurrency is the number of API calls in flight when
// Config.Concurrency is zero.
const DefaultConcurrency = 16

// ErrNoMeters means there is nothing to compare: no meters file, and no
// subscription in the API to learn the meters from.
var ErrNoMeters = errors.New("no meters: the API lists no subscription to learn them from; give a meters file")

// Config configures Verify. Zero values mean the documented defaults.
type Config struct {
	// Client reaches the API; its rate limiter and retries apply to every
	// call. Required.
	Client *billing.Client
	// Source is what to read. Its Window, Shard and After are ignored:
	// Window and Shard below decide.
	Source source.Spec
	// Window is the half-open time range compared; both ends are required.
	Window source.Window
	// Shard keeps the customers whose id is in the shard (source.ShardOf):
	// only their events are read and only their subscriptions compared.
	Shard source.Shard
	// Meters, when set, are the meters compared for every subscription
	// (API meters they do not name are ignored). When nil, each
	// subscription's meters are its plan's, as the usage endpoint reports
	// them.
	Meters []Meter
	// Tolerance is how far apart the two sides may be; zero is exact.
	Tolerance Tolerance
	// MemoryLimit is the memory budget of the scan, in bytes; default
	// DefaultMemoryLimit. When the id set of the events the source may
	// hold would take more than half of it, the scan partitions the
	// events by id into files under WorkDir and counts one partition at
	// a time (same answer, bounded memory, a second pass on local disk).
	MemoryLimit int64
	// WorkDir holds the spill files; default os.TempDir(). They are
	// removed when the scan ends.
	WorkDir string
	// Pushdown is PushdownAuto (the default), PushdownOn or PushdownOff:
	// whether a PostgreSQL source computes the totals in the database.
	Pushdown string
	// Concurrency bounds API calls in flight. Default DefaultConcurrency.
	Concurrency int
	// Settle is how long mismatched subscriptions are re-polled before
	// the verdict, for ingestion lag; zero polls once.
	Settle time.Duration
	// SettleEvery is the wait between re-polls. Default Settle/12, within
	// [1s, 15s].
	SettleEvery time.Duration
	// Heal re-sends the source events of subscriptions with an Under pair
	// (same ids: events the API counted are deduplicated, so an Over pair
	// can never grow) and verifies them again.
	Heal bool
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
	// Now and Sleep are the clock settling runs on. Default time.Now and
	// a timer that stops with ctx.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Config) defaults() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("no client"))
	}
	if c.Window.From.IsZero() || c.Window.To.IsZero() || !c.Window.From.Before(c.Window.To) {
		errs = append(errs, errors.New("the window needs a start before its end"))
	}
	if c.Concurrency < 0 || c.Settle < 0 || c.SettleEvery < 0 {
		errs = append(errs, errors.New("concurrency and settle durations must not be negative"))
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	defaults.Set(&c.MemoryLimit, DefaultMemoryLimit)
	switch c.Pushdown {
	case "":
		c.Pushdown = PushdownAuto
	case PushdownAuto, PushdownOn, PushdownOff:
	default:
		errs = append(errs, fmt.Errorf("push-down %q: want auto, on or off", c.Pushdown))
	}
	if c.SettleEvery == 0 {
		c.SettleEvery = min(max(c.Settle/12, time.Second), 15*time.Second)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = backoff.Sleep
	}
	return errors.Join(errs...)
}

// verifier runs one Verify.
type verifier struct {
	cfg Config
	log *slog.Logger
	l   *ledger
	res *Result
}

// Verify computes the source's expected totals per subscription and meter
// over cfg.Window, fetches the API's usage for every subscription in scope,
// classifies each pair, settles and heals as configured.
//
// The Result is nil only when nothing could be compared (bad config, the
// API's subscription list or meters unavailable, an incomplete or failed
// source read). After the scan, an interruption returns the Result so far
// with the context's error.
func Verify(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := &verifier{cfg: cfg, log: cfg.Logger}
	v.res = &Result{Window: cfg.Window, Shard: cfg.Shard, Settle: SettleStats{Budget: cfg.Settle}}
	dir, err := listDirectory(ctx, cfg.Client, cfg.Shard)
	if err != nil {
		return nil, err
	}
	v.l = &ledger{dir: dir, shards: cfg.Shard.Count, memoryLimit: cfg.MemoryLimit, workDir: cfg.WorkDir, subs: map[string]*subState{}}
	if err := v.meters(ctx); err != nil {
		return nil, err
	}
	v.log.Info("subscriptions listed", "listed", dir.listed, "in_shard", len(dir.order), "meters", len(v.res.Meters))

	start := time.Now()
	if err := v.scan(ctx); err != nil {
		return nil, err
	}
	if err := v.resolve(ctx); err != nil {
		return nil, err
	}
	v.res.ScanTime, v.res.SourceBytes = time.Since(start), v.l.sourceBytes
	v.res.Rows = v.l.rows
	v.log.Info("source read", "rows", v.l.rows.Read, "declared", v.l.rows.Declared, "counted", v.l.rows.Counted,
		"duplicates", v.l.rows.Duplicates, "seconds", v.res.ScanTime.Seconds())

	subs := v.scope()
	start = time.Now()
	err = v.fetch(ctx, subs)
	for _, st := range subs {
		st.classify(&cfg.Tolerance)
	}
	v.res.FetchTime = time.Since(start)
	v.log.Info("usage fetched", "subscriptions", len(subs), "seconds", v.res.FetchTime.Seconds())
	if err == nil {
		err = v.settle(ctx, subs)
	}
	if err == nil && cfg.Heal {
		v.res.Heal, err = v.heal(ctx, subs)
	}
	v.res.build(subs)
	if err != nil {
		return v.res, fmt.Errorf("verify: %w", err)
	}
	return v.res, nil
}

// meters sets the meter groups: the file's, or each plan's as its first
// subscription's usage reports them.
func (v *verifier) meters(ctx context.Context) error {
	if v.cfg.Meters != nil {
		v.l.fallback = newMeterGroup(v.cfg.Meters, false)
		v.res.Meters = v.cfg.Meters
		return nil
	}
	v.l.byPlan = map[string]*meterGroup{}
	var union []Meter
	seen := map[string]bool{}
	plans := slices.Sorted(maps.Keys(v.l.dir.plans))
	for _, plan := range plans {
		id := v.l.dir.plans[plan]
		u, err := v.cfg.Client.Usage(ctx, id, v.cfg.Window.From, v.cfg.Window.To)
		if err != nil {
			return fmt.Errorf("meters of plan %s: %w", plan, err)
		}
		ms, err := metersOf(u)
		if err != nil {
			return err
		}
		v.l.byPlan[plan] = newMeterGroup(ms, true)
		v.res.Meters = append(v.res.Meters, ms...)
		for _, m := range ms {
			if !seen[m.key()] {
				seen[m.key()] = true
				m.SKUID = "" // a subscription the API does not know has no SKU
				union = append(union, m)
			}
		}
	}
	if len(union) == 0 {
		return ErrNoMeters
	}
	v.l.fallback = newMeterGroup(union, true)
	slices.SortFunc(v.res.Meters, func(a, b Meter) int {
		return cmp.Or(cmp.Compare(a.Label(), b.Label()), cmp.Compare(a.SKUID, b.SKUID))
	})
	return nil
}

// scan reads the shard's part of the source once into the expected
// totals.
func (v *verifier) scan(ctx context.Context) error {
	spec := v.cfg.Source
	spec.Window, spec.Shard, spec.After = v.cfg.Window, v.cfg.Shard, source.Position{}
	if spec.Kind == source.KindPostgres && v.cfg.Pushdown != PushdownOff {
		err := v.l.pushdown(ctx, spec)
		switch {
		case err == nil:
			v.res.Pushdown = true
			return nil
		case !errors.Is(err, source.ErrNoPushdown) || v.cfg.Pushdown == PushdownOn:
			return err
		}
		v.log.Info("streaming the source", "why", err.Error())
	}
	r, err := source.Open(ctx, spec)
	if err != nil {
		return err
	}
	err = v.l.scan(ctx, r)
	if cerr := r.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close source: %w", cerr)
	}
	return err
}

// scope adds the API's subscriptions of the shard that have no source
// events, and returns every subscription in scope, sorted by id.
func (v *verifier) scope() []*subState {
	for _, id := range v.l.dir.order {
		v.l.state(id)
	}
	subs := make([]*subState, 0, len(v.l.subs))
	for _, st := range v.l.subs {
		if st.expected == nil {
			st.finish() // no source events: every total is zero
		}
		subs = append(subs, st)
	}
	slices.SortFunc(subs, func(a, b *subState) int { return cmp.Compare(a.id, b.id) })
	return subs
}

// fetch gets the usage of the known subscriptions among subs, at most
// Concurrency at a time. A failed call marks its subscription; only the
// end of ctx stops the fetch.
func (v *verifier) fetch(ctx context.Context, subs []*subState) error {
	var g errgroup.Group
	g.SetLimit(v.cfg.Concurrency)
	for _, st := range subs {
		if !st.known {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			u, err := v.cfg.Client.Usage(ctx, st.id, v.cfg.Window.From, v.cfg.Window.To)
			if err != nil {
				if ctx.Err() == nil {
					st.fail(err)
				}
				return nil
			}
			st.observe(u)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	return ctx.Err()
}

// settle re-polls the mismatched subscriptions among subs until they all
// match or the budget runs out.
func (v *verifier) settle(ctx context.Context, subs []*subState) error {
	if v.cfg.Settle <= 0 {
		return nil
	}
	var open []*subState
	for _, st := range subs { // classified by the caller
		if st.known && !st.matched() {
			open = append(open, st)
		}
	}
	start := v.cfg.Now()
	deadline := start.Add(v.cfg.Settle)
	for len(open) > 0 {
		left := deadline.Sub(v.cfg.Now())
		if left <= 0 {
			break
		}
		if err := v.cfg.Sleep(ctx, min(v.cfg.SettleEvery, left)); err != nil {
			return err
		}
		if err := v.fetch(ctx, open); err != nil {
			return err
		}
		v.res.Settle.Polls++
		next := open[:0]
		for _, st := range open {
			if st.classify(&v.cfg.Tolerance) {
				v.res.Settle.Settled++
			} else {
				next = append(next, st)
			}
		}
		open = next
		v.log.Info("settling", "mismatched", len(open), "left", deadline.Sub(v.cfg.Now()).Round(time.Second).String())
	}
	v.res.Settle.Elapsed += v.cfg.Now().Sub(start)
	return nil
}

// resolve looks up the subscriptions the source names that the shard's
// directory lacks, Concurrency at a time. One of another shard's customers
// makes its events foreign (the API refuses them); one the API does not
// have stays unknown, its usage missing; one created since the listing is
// known from now on.
func (v *verifier) resolve(ctx context.Context) error {
	var unknown []*subState
	for _, st := range v.l.subs {
		if !st.known {
			unknown = append(unknown, st)
		}
	}
	found := make([]*billing.Subscription, len(unknown))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.cfg.Concurrency)
	for i, st := range unknown {
		g.Go(func() error {
			s, err := v.cfg.Client.Subscription(gctx, st.id)
			if ae := (*billing.APIError)(nil); errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				return nil
			}
			if err != nil {
				return fmt.Errorf("look up subscription %s, named by source events: %w", st.id, err)
			}
			found[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, st := range unknown {
		s := found[i]
		switch {
		case s == nil:
		case !v.cfg.Shard.Contains(s.CustomerID):
			v.l.foreign(st)
		default:
			st.known, st.customerID = true, s.CustomerID
		}
	}
	return nil
}
