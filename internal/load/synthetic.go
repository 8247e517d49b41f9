package load

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/billharness/billharness/internal/billing"
)

// DefaultSkew is the Zipf exponent of the customer mix: with 1,000
// customers, the busiest sends about 13% of the events and half of them
// come from the top 30.
const DefaultSkew = 1.1

// Synthetic makes realistic usage events for the accounts of a Catalog:
// customers drawn with a Zipf skew (a few busy ones, a long tail), a mix of
// event types (half API requests, 40% LLM completions, 10% storage
// writes) with log-normal token counts and sizes, and ids unique per run:
// IDPrefix followed by the request's sequence number.
type Synthetic struct {
	Catalog *Catalog
	// IDPrefix starts every event id, e.g. "lg-7f3a-2-" (run id, shard).
	IDPrefix string
	// Seed makes the event mix repeatable; each worker draws from its own
	// generator seeded with Seed and the worker number.
	Seed uint64
	// Skew is the Zipf exponent, > 1. Default DefaultSkew.
	Skew float64
	// Ledger, when set, counts what the API accepted per account, for
	// Verify.
	Ledger *Ledger
}

// Worker returns worker id's generator (for Config.Events).
func (s *Synthetic) Worker(id int) Generator {
	skew := s.Skew
	if !(skew > 1) {
		skew = DefaultSkew
	}
	rng := rand.New(rand.NewPCG(s.Seed, uint64(id)+1))
	return &synthWorker{
		s:    s,
		rng:  rng,
		zipf: rand.NewZipf(rng, skew, 1, uint64(len(s.Catalog.Accounts)-1)),
		id:   []byte(s.IDPrefix),
	}
}

// synthWorker is one worker's generator. Its buffers are reused for every
// event: SendEvent copies the properties into the request body before it
// returns.
type synthWorker struct {
	s     *Synthetic
	rng   *rand.Rand
	zipf  *rand.Zipf
	id    []byte
	props []byte
	// last is what the previous event adds to each measure, for Done.
	lastAccount int
	last        [numMeasures]int64
}

var (
	models    = [...]string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "llama-3.1-70b"}
	modelCum  = [...]float64{0.40, 0.75, 0.90, 1}
	endpoints = [...]string{"/v1/chat/completions", "/v1/embeddings", "/v1/files", "/v1/models", "/v1/moderations"}
	regions   = [...]string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"}
	methods   = [...]string{"POST", "POST", "POST", "GET", "POST"} // per endpoint
	buckets   = [...]string{"uploads", "datasets", "checkpoints", "logs"}
)

// Next implements Generator.
func (w *synthWorker) Next(_ context.Context, t Tick, ev *billing.Event) error {
	i := int(w.zipf.Uint64())
	acct := w.s.Catalog.Accounts[i]
	w.lastAccount, w.last = i, [numMeasures]int64{}
	w.id = strconv.AppendInt(w.id[:len(w.s.IDPrefix)], t.Seq, 10)
	*ev = billing.Event{ID: string(w.id), CustomerID: acct.CustomerID, SubscriptionID: acct.SubscriptionID, Timestamp: t.Intended.UTC()}
	region := regions[w.rng.IntN(len(regions))]
	p := w.props[:0]
	switch x := w.rng.Float64(); {
	case x < 0.5:
		ev.EventType = EventAPIRequest
		e := w.rng.IntN(len(endpoints))
		status := 200
		if w.rng.IntN(50) == 0 {
			status = 429
		} else if w.rng.IntN(25) == 0 {
			status = 400
		}
		p = append(p, `{"endpoint":"`...)
		p = append(p, endpoints[e]...)
		p = append(p, `","method":"`...)
		p = append(p, methods[e]...)
		p = append(p, `","status":`...)
		p = strconv.AppendInt(p, int64(status), 10)
		p = append(p, `,"duration_ms":`...)
		p = strconv.AppendInt(p, w.logNormal(4, 0.8, 1, 60000), 10)
		w.last[MeasureAPIRequests] = 1
	case x < 0.9:
		ev.EventType = EventLLMCompletion
		in, out := w.logNormal(6.4, 1.0, 1, 128000), w.logNormal(5.3, 0.9, 1, 16000)
		m, y := 0, w.rng.Float64()
		for y > modelCum[m] {
			m++
		}
		p = append(p, `{"model":"`...)
		p = append(p, models[m]...)
		p = append(p, `","input_tokens":`...)
		p = strconv.AppendInt(p, in, 10)
		p = append(p, `,"output_tokens":`...)
		p = strconv.AppendInt(p, out, 10)
		w.last[MeasureCompletions], w.last[MeasureInputTokens], w.last[MeasureOutputTokens] = 1, in, out
	default:
		ev.EventType = EventStorageWrite
		n := w.logNormal(11, 2, 1, 1<<30) // median ~60 KiB
		p = append(p, `{"bucket":"`...)
		p = append(p, buckets[w.rng.IntN(len(buckets))]...)
		p = append(p, `","bytes":`...)
		p = strconv.AppendInt(p, n, 10)
		w.last[MeasureStorageBytes] = n
	}
	p = append(p, `,"region":"`...)
	p = append(p, region...)
	p = append(p, `"}`...)
	w.props, ev.Properties = p, p
	return nil
}

// logNormal draws exp(N(mu, sigma)) as a whole number in [lo, hi].
func (w *synthWorker) logNormal(mu, sigma float64, lo, hi int64) int64 {
	v := int64(math.Exp(mu + sigma*w.rng.NormFloat64()))
	return min(max(v, lo), hi)
}

// Done implements Generator: it books the event in the ledger.
func (w *synthWorker) Done(_ *billing.Event, o Outcome) {
	if w.s.Ledger != nil {
		w.s.Ledger.book(w.lastAccount, &w.last, o)
	}
}

// Ledger counts, per account and measure, what the API accepted and what
// it may have stored without saying so (no answer, or a 5xx). It is safe
// for concurrent use.
type Ledger struct {
	accounts []ledgerEntry
}

type ledgerEntry struct {
	accepted, uncertain [numMeasures]atomic.Int64
}

// NewLedger returns a ledger for n accounts.
func NewLedger(n int) *Ledger { return &Ledger{accounts: make([]ledgerEntry, n)} }

func (l *Ledger) book(account int, m *[numMeasures]int64, o Outcome) {
	var dst *[numMeasures]atomic.Int64
	switch {
	case o.Accepted:
		dst = &l.accounts[account].accepted
	case o.Uncertain:
		dst = &l.accounts[account].uncertain
	default:
		return
	}
	for i, v := range m {
		if v != 0 {
			dst[i].Add(v)
		}
	}
}

// Accepted returns what the API accepted for account and measure, and the
// most it may hold on top: events it may have stored without answering.
func (l *Ledger) Accepted(account, measure int) (accepted, uncertain int64) {
	e := &l.accounts[account]
	return e.accepted[measure].Load(), e.uncertain[measure].Load()
}
