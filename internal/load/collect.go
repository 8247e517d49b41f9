package load

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// collector turns the recorder's intervals into the run's series, about
// once a second, and reports progress and gauges. It runs on a goroutine
// of its own and is the only writer of the series.
type collector struct {
	r    *runner
	iv   interval       // scratch: the interval being collected
	far  *hdr.Histogram // corrected latency so far, for the progress p99
	last Point          // cumulative counters at the previous point
	prev time.Time      // end of the previous point
	quit chan struct{}
}

func newCollector(r *runner) *collector {
	return &collector{r: r, iv: newInterval(), far: NewHistogram(), prev: r.start, quit: make(chan struct{})}
}

// stop asks run to take a final point and return.
func (c *collector) stop() { close(c.quit) }

func (c *collector) run() {
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for k := 2; ; k++ {
		select {
		case <-c.quit:
			c.point(time.Now(), true)
			return
		case now := <-timer.C:
			c.point(now, false)
			// Steps are aligned on the run's start, so that timer lateness
			// never accumulates into drift.
			timer.Reset(time.Until(c.r.start.Add(time.Duration(k) * time.Second)))
		}
	}
}

// point closes the step that ends at now.
func (c *collector) point(now time.Time, final bool) {
	r := c.r
	r.rec.drainInterval(&c.iv)
	p := Point{
		Time:     c.prev,
		Seconds:  now.Sub(c.prev).Seconds(),
		Asked:    r.asked.Load(),
		Sent:     r.sent.Load(),
		Dropped:  r.dropped.Load(),
		InFlight: r.inflight.Load(),
		Counts:   c.iv.counts,
	}
	// The counters are cumulative; the point holds the step's share.
	p.Asked, c.last.Asked = p.Asked-c.last.Asked, p.Asked
	p.Sent, c.last.Sent = p.Sent-c.last.Sent, p.Sent
	p.Dropped, c.last.Dropped = p.Dropped-c.last.Dropped, p.Dropped
	p.Corrected, p.Service = pointLatency(c.iv.corrected), pointLatency(c.iv.service)
	c.far.Merge(c.iv.corrected)
	for i := range NumClasses {
		c.last.Counts[i] += p.Counts[i]
	}
	c.iv.reset()
	c.prev = now
	if p.Seconds > 0 || p.Completed() > 0 {
		r.res.Series.add(p)
	}

	elapsed := now.Sub(r.start)
	var askedRate float64
	if sch := r.cfg.Schedule; sch != nil {
		askedRate = sch.Rate(elapsed)
	}
	r.cfg.Metrics.gauges(p.InFlight, askedRate)
	if r.cfg.Progress == nil {
		return
	}
	pr := Progress{
		Elapsed: elapsed, Asked: c.last.Asked, Sent: c.last.Sent, Dropped: c.last.Dropped,
		InFlight: p.InFlight, AskedRate: askedRate, Final: final,
		Errors: c.last.Counts[Class4xx] + c.last.Counts[Class429] + c.last.Counts[Class5xx] + c.last.Counts[ClassError],
	}
	for _, n := range c.last.Counts {
		pr.Completed += n
	}
	if p.Seconds > 0 {
		pr.Rate = float64(p.Completed()) / p.Seconds
	}
	if c.far.TotalCount() > 0 {
		pr.P99 = fromHist(c.far.ValueAtPercentile(99))
	}
	if final {
		pr.Rate = 0
		if s := elapsed.Seconds(); s > 0 {
			pr.Rate = float64(pr.Completed) / s
		}
	}
	pr.Total = r.cfg.Duration
	if sch := r.cfg.Schedule; sch != nil {
		pr.Total = sch.Duration()
	}
	if e := r.cfg.Client.LastError(); e != nil {
		pr.LastError = e.Error()
	}
	r.cfg.Progress(pr)
}

func pointLatency(h *hdr.Histogram) PointLatency {
	if h.TotalCount() == 0 {
		return PointLatency{}
	}
	return PointLatency{
		P50: fromHist(h.ValueAtPercentile(50)),
		P90: fromHist(h.ValueAtPercentile(90)),
		P99: fromHist(h.ValueAtPercentile(99)),
		Max: fromHist(h.Max()),
	}
}
