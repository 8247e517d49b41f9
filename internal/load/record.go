package load

import (
	"runtime"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: microseconds from 1 µs to 1 h, 3 significant
// digits (a recorded value is within 0.1% of the true one). Every run
// uses the same geometry so that histograms merge exactly.
const (
	HistLowest   = 1
	HistHighest  = int64(time.Hour / time.Microsecond)
	HistSigFigs  = 3
	histUnit     = time.Microsecond
	maxErrorKind = 32 // distinct error kinds kept; the rest count as "other"
)

// NewHistogram returns an empty histogram with the geometry every run uses.
func NewHistogram() *hdr.Histogram { return hdr.New(HistLowest, HistHighest, HistSigFigs) }

// toHist converts a latency to the histogram's unit, clamped to its range.
func toHist(d time.Duration) int64 {
	return min(max(int64(d/histUnit), HistLowest), HistHighest)
}

// fromHist converts a histogram value back to a duration.
func fromHist(v int64) time.Duration { return time.Duration(v) * histUnit }

// recorder collects every request's outcome. Workers record into one of a
// few shards, each behind its own mutex: an uncontended lock and four
// histogram increments per request, no allocation, and no single lock that
// every worker of a fast run would queue on.
type recorder struct {
	shards []*recShard

	errMu sync.Mutex
	errs  map[string]int64
}

// recShard holds cumulative histograms per class and the histograms of the
// current interval (one second of the series).
type recShard struct {
	mu                 sync.Mutex
	corrected, service [NumClasses]*hdr.Histogram
	counts             [NumClasses]int64
	duplicates         int64
	iv                 interval
}

// interval is what the series needs of one period: latency over all
// classes, and the count per class.
type interval struct {
	corrected, service *hdr.Histogram
	counts             [NumClasses]int64
}

func newInterval() interval {
	return interval{corrected: NewHistogram(), service: NewHistogram()}
}

func (iv *interval) reset() {
	iv.corrected.Reset()
	iv.service.Reset()
	iv.counts = [NumClasses]int64{}
}

// add merges o into iv.
func (iv *interval) add(o *interval) {
	iv.corrected.Merge(o.corrected)
	iv.service.Merge(o.service)
	for c := range NumClasses {
		iv.counts[c] += o.counts[c]
	}
}

func newRecorder() *recorder {
	n := min(max(2*runtime.GOMAXPROCS(0), 2), 16)
	r := &recorder{shards: make([]*recShard, n), errs: map[string]int64{}}
	for i := range r.shards {
		s := &recShard{iv: newInterval()}
		for c := range NumClasses {
			s.corrected[c], s.service[c] = NewHistogram(), NewHistogram()
		}
		r.shards[i] = s
	}
	return r
}

// record counts one request. worker picks the shard, so one worker always
// records into the same one.
func (r *recorder) record(worker int, o Outcome, corrected, service time.Duration) {
	cv, sv := toHist(corrected), toHist(service)
	s := r.shards[worker%len(r.shards)]
	s.mu.Lock()
	// Values are clamped into range above, so RecordValue cannot fail.
	_ = s.corrected[o.Class].RecordValue(cv)
	_ = s.service[o.Class].RecordValue(sv)
	_ = s.iv.corrected.RecordValue(cv)
	_ = s.iv.service.RecordValue(sv)
	s.counts[o.Class]++
	s.iv.counts[o.Class]++
	if o.Duplicate {
		s.duplicates++
	}
	s.mu.Unlock()
}

// recordError counts err under its kind; after maxErrorKind kinds, new
// ones count as "other", so a storm of distinct messages stays bounded.
func (r *recorder) recordError(err error) {
	kind := errorKind(err)
	r.errMu.Lock()
	if _, ok := r.errs[kind]; !ok && len(r.errs) >= maxErrorKind {
		kind = "other"
	}
	r.errs[kind]++
	r.errMu.Unlock()
}

// drainInterval adds every shard's current interval into dst and starts
// new intervals.
func (r *recorder) drainInterval(dst *interval) {
	for _, s := range r.shards {
		s.mu.Lock()
		dst.add(&s.iv)
		s.iv.reset()
		s.mu.Unlock()
	}
}

// totals merges the shards into the run's histograms and counters. Call
// it once the workers are done.
func (r *recorder) totals(res *Result) {
	for c := range NumClasses {
		res.Corrected[c], res.Service[c] = NewHistogram(), NewHistogram()
	}
	for _, s := range r.shards {
		s.mu.Lock()
		for c := range NumClasses {
			res.Corrected[c].Merge(s.corrected[c])
			res.Service[c].Merge(s.service[c])
			res.Counts[c] += s.counts[c]
		}
		res.Duplicates += s.duplicates
		s.mu.Unlock()
	}
	r.errMu.Lock()
	for k, n := range r.errs {
		res.Errors[k] += n
	}
	r.errMu.Unlock()
}
