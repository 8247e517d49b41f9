// Package faultnet is a TCP proxy that breaks the network between a client
// and a server on purpose: it refuses new connections, delays traffic, and
// cuts responses off part-way, after the server has done the work.
//
// The last fault is the hardest one for exactly-once delivery: the server
// stored the event, but the client never sees the whole answer, so it must
// send the event again and the server must count it once. The sandbox's own
// reset knob closes the connection before any byte of the answer; a cut
// here forwards part of it first, which exercises the client's handling of
// a torn response as well.
//
// Every decision is derived from Config.Seed and a sequence number
// (connections in accept order, chunks in forwarding order), so a run with
// the same seed and the same traffic repeats the same faults. The proxy
// only knows bytes: in HTTP/1.1 without pipelining each chunk read from the
// server is (part of) one response.
package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billharness/billharness/internal/dice"
)

// DefaultDialTimeout bounds connecting to the target.
const DefaultDialTimeout = 5 * time.Second

// chunkSize is the largest read forwarded at a time, in each direction.
const chunkSize = 32 << 10

// Config configures a Proxy. Zero values mean no fault of that kind.
type Config struct {
	// Target is the upstream address, host:port. Required.
	Target string
	// Seed seeds every fault decision.
	Seed int64
	// DropRate is the share of accepted connections closed at once with a
	// TCP reset, before a byte is forwarded.
	DropRate float64
	// DelayMin and DelayMax bound a uniform delay added before forwarding
	// each chunk, in both directions.
	DelayMin, DelayMax time.Duration
	// CutRate is the share of chunks from the target (responses) of which
	// only a strict prefix, possibly empty, is forwarded before both
	// connections are closed.
	CutRate float64
	// DialTimeout bounds connecting to the target. Default DefaultDialTimeout.
	DialTimeout time.Duration
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Target == "" {
		errs = append(errs, errors.New("target is required"))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"drop rate", c.DropRate}, {"cut rate", c.CutRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			errs = append(errs, fmt.Errorf("%s %v: must be in [0, 1]", r.name, r.v))
		}
	}
	if c.DelayMin < 0 || c.DelayMax < c.DelayMin {
		errs = append(errs, fmt.Errorf("delay %s..%s: want 0 <= min <= max", c.DelayMin, c.DelayMax))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("dial timeout %s: must be >= 0", c.DialTimeout))
	}
	return errors.Join(errs...)
}

// Stats counts what a Proxy did.
type Stats struct {
	// Conns counts accepted client connections, dropped ones included.
	Conns int64 `json:"conns"`
	// Dropped counts connections reset at once.
	Dropped int64 `json:"dropped"`
	// Cut counts responses cut off part-way.
	Cut int64 `json:"cut"`
	// Chunks counts chunks forwarded whole, both directions.
	Chunks int64 `json:"chunks"`
	// Delayed is the sum of the delays added.
	Delayed time.Duration `json:"delayed"`
	// DialErrors counts connections closed because the target refused.
	DialErrors int64 `json:"dial_errors"`
}

type counters struct {
	conns, dropped, cut, chunks, delayed, dialErrors atomic.Int64
}

// Proxy forwards TCP connections to Config.Target, injecting faults.
// Create it with New and run it with Serve.
type Proxy struct {
	cfg      Config
	dice     dice.Dice
	stats    counters
	connSeq  atomic.Uint64
	chunkSeq atomic.Uint64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// New validates cfg and returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("faultnet: %w", err)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	return &Proxy{cfg: cfg, dice: dice.New(cfg.Seed, numSalts), conns: map[net.Conn]struct{}{}}, nil
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	return Stats{
		Conns:      p.stats.conns.Load(),
		Dropped:    p.stats.dropped.Load(),
		Cut:        p.stats.cut.Load(),
		Chunks:     p.stats.chunks.Load(),
		Delayed:    time.Duration(p.stats.delayed.Load()),
		DialErrors: p.stats.dialErrors.Load(),
	}
}

// Serve accepts connections on ln until ctx ends or ln fails, then closes
// ln and every open connection and returns once their goroutines are gone:
// nil after ctx ended, else the listener's error. Call it once.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	err := p.accept(ctx, ln, &wg)
	ln.Close()
	p.closeAll()
	wg.Wait()
	return err
}

func (p *Proxy) accept(ctx context.Context, ln net.Listener, wg *sync.WaitGroup) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("faultnet: accept: %w", err)
		}
		p.track(c)
		n := p.connSeq.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.untrack(c)
			p.handle(ctx, c, n)
		}()
	}
}

// track registers c so that shutdown can close it.
func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// handle serves client, the n-th connection accepted, until either side
// closes.
func (p *Proxy) handle(ctx context.Context, client net.Conn, n uint64) {
	defer client.Close()
	p.stats.conns.Add(1)
	if p.cfg.DropRate > 0 && p.dice.ByN(saltDrop, n) < p.cfg.DropRate {
		p.stats.dropped.Add(1)
		reset(client)
		return
	}
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	up, err := d.DialContext(ctx, "tcp", p.cfg.Target)
	if err != nil {
		p.stats.dialErrors.Add(1)
		return
	}
	defer up.Close()
	// Closing both connections when either pump ends unblocks the other:
	// a proxied connection lives exactly as long as its shorter half.
	var once sync.Once
	closeBoth := func() { once.Do(func() { client.Close(); up.Close() }) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer closeBoth()
		p.pump(ctx, up, client, false)
	}()
	p.pump(ctx, client, up, true)
	closeBoth()
	<-done
}

// pump copies src to dst chunk by chunk, delaying each chunk and, for the
// responses direction (down), cutting some. It returns when either side
// fails or a cut closes the connection.
func (p *Proxy) pump(ctx context.Context, dst, src net.Conn, down bool) {
	buf := make([]byte, chunkSize)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			seq := p.chunkSeq.Add(1)
			if !p.delay(ctx, seq) {
				return
			}
			chunk := buf[:k]
			if down && p.cfg.CutRate > 0 {
				if p.dice.ByN(saltCut, seq) < p.cfg.CutRate {
					p.stats.cut.Add(1)
					// A strict prefix: the client must never get a whole
					// response from a cut, or the fault would not be one.
					keep := int(p.dice.ByN(saltCutAt, seq) * float64(k))
					_, _ = dst.Write(chunk[:keep])
					return
				}
			}
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
			p.stats.chunks.Add(1)
		}
		if err != nil {
			return
		}
	}
}

// delay waits the delay of chunk seq; false when ctx ended first.
func (p *Proxy) delay(ctx context.Context, seq uint64) bool {
	lo, hi := p.cfg.DelayMin, p.cfg.DelayMax
	if hi <= 0 {
		return true
	}
	d := lo + time.Duration(p.dice.ByN(saltDelay, seq)*float64(hi-lo))
	p.stats.delayed.Add(int64(d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reset closes c with a TCP RST (SO_LINGER 0), the way an overloaded or
// crashed middlebox refuses a connection.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
