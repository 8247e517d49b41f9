package load

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Model names.
const (
	ModelOpen   = "open"
	ModelClosed = "closed"
)

// Result is everything a run measured. It merges exactly with the results
// of the other shards of a distributed run (Merge) and is what the report
// files hold.
type Result struct {
	// RunID names the run; event ids start with it.
	RunID string
	// Shards lists the shards merged into this result ("0/1" for a single
	// run).
	Shards []string
	// Target is the API base URL.
	Target string
	// Model is ModelOpen or ModelClosed; Schedule describes the open
	// model's rate ("500/s for 4s", or the stages).
	Model, Schedule string
	// AskedRate is the mean rate the schedule asked for over the time it
	// ran, in requests per second (summed over shards); 0 in the closed
	// model.
	AskedRate float64
	// Workers, MaxInFlight and Connections are the concurrency settings
	// (summed over shards).
	Workers, MaxInFlight, Connections int
	// Start is when the first request was due; End when the last answer
	// came, or the schedule ended, whichever is later.
	Start, End time.Time
	// Asked counts ticks that came due: Sent + Dropped (+ ticks left unsent
	// because the event source ran out).
	Asked, Sent, Dropped int64
	// Counts are the answers by class; Duplicates, the 2xx answers that said
	// the API already had the event.
	Counts     [NumClasses]int64
	Duplicates int64
	// Errors counts non-2xx outcomes by kind ("429 rate_limited",
	// "timeout"), at most a few dozen kinds.
	Errors map[string]int64
	// Corrected and Service are the latency histograms by class:
	// corrected from the intended send time, service from the actual one.
	Corrected, Service [NumClasses]*hdr.Histogram
	// Series is the per-second time series.
	Series Series
	// Interrupted: the run was stopped (signal) before its schedule ended.
	// Exhausted: the event source ran out first.
	Interrupted, Exhausted bool
}

// newResult returns an empty result with histograms allocated.
func newResult() *Result {
	r := &Result{Errors: map[string]int64{}}
	for c := range NumClasses {
		r.Corrected[c], r.Service[c] = NewHistogram(), NewHistogram()
	}
	return r
}

// Completed is the number of requests that ended, answered or not.
func (r *Result) Completed() int64 {
	var n int64
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// Elapsed is End - Start.
func (r *Result) Elapsed() time.Duration { return r.End.Sub(r.Start) }

// AllCorrected and AllService merge the classes into one histogram.
func (r *Result) AllCorrected() *hdr.Histogram { return mergeClasses(r.Corrected) }

// AllService is the service-time histogram of every class.
func (r *Result) AllService() *hdr.Histogram { return mergeClasses(r.Service) }

func mergeClasses(hs [NumClasses]*hdr.Histogram) *hdr.Histogram {
	all := NewHistogram()
	for _, h := range hs {
		if h != nil {
			all.Merge(h)
		}
	}
	return all
}

// Merge combines the results of concurrent runs, the shards of one
// distributed run, into one. Counters add up, histograms merge exactly
// (the merged counts are the sums), and the series are laid over one time
// axis. Results of different histogram geometry are refused.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, errors.New("merge: no results")
	}
	out := newResult()
	var series []Series
	models, schedules, ids := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, r := range results {
		if err := checkGeometry(r); err != nil {
			return nil, fmt.Errorf("merge: result %d (%s): %w", i+1, r.RunID, err)
		}
		ids[r.RunID], models[r.Model], schedules[r.Schedule] = true, true, true
		out.Target = r.Target
		out.Shards = append(out.Shards, r.Shards...)
		out.AskedRate += r.AskedRate
		out.Workers += r.Workers
		out.MaxInFlight += r.MaxInFlight
		out.Connections += r.Connections
		if out.Start.IsZero() || r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		out.Asked += r.Asked
		out.Sent += r.Sent
		out.Dropped += r.Dropped
		for c := range NumClasses {
			out.Counts[c] += r.Counts[c]
			if out.Corrected[c].Merge(r.Corrected[c]) != 0 || out.Service[c].Merge(r.Service[c]) != 0 {
				return nil, fmt.Errorf("merge: result %d (%s): values out of the histogram's range", i+1, r.RunID)
			}
		}
		out.Duplicates += r.Duplicates
		for k, n := range r.Errors {
			out.Errors[k] += n
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		out.Exhausted = out.Exhausted || r.Exhausted
		series = append(series, r.Series)
	}
	out.RunID, out.Model, out.Schedule = joinKeys(ids), joinKeys(models), joinKeys(schedules)
	out.Series = mergeSeries(series)
	return out, nil
}

func joinKeys(m map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), "+")
}

// checkGeometry refuses histograms that would not merge exactly.
func checkGeometry(r *Result) error {
	for c := range NumClasses {
		for _, h := range []*hdr.Histogram{r.Corrected[c], r.Service[c]} {
			if h == nil {
				return fmt.Errorf("class %s: no histogram", c)
			}
			if h.LowestTrackableValue() != HistLowest || h.HighestTrackableValue() != HistHighest || h.SignificantFigures() != HistSigFigs {
				return fmt.Errorf("class %s: histogram geometry %d..%d/%d, want %d..%d/%d", c,
					h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), HistLowest, HistHighest, HistSigFigs)
			}
		}
	}
	return nil
}
