package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/billharness/billharness/internal/atomicfile"
	"github.com/billharness/billharness/internal/duration"
	"github.com/billharness/billharness/internal/progress"
	"github.com/billharness/billharness/internal/source"
)

// Stats counts what a run did. Every record the source yielded ends in
// exactly one of Accepted, Duplicate, Rejected, Failed, Invalid, TooOld, or
// (only when interrupted) Abandoned.
type Stats struct {
	// Read counts records the source yielded, valid or not.
	Read int64 `json:"read"`
	// Accepted counts events the API counted for the first time.
	Accepted int64 `json:"accepted"`
	// Duplicate counts events the API already had: answered as duplicates,
	// or replayed from its idempotency cache on the first attempt.
	Duplicate int64 `json:"duplicate"`
	// Rejected counts events refused with a 4xx (dead-lettered).
	Rejected int64 `json:"rejected"`
	// Failed counts events that still failed after every retry
	// (dead-lettered).
	Failed int64 `json:"failed"`
	// Invalid counts records that failed validation (dead-lettered).
	Invalid int64 `json:"invalid"`
	// TooOld counts events refused by the MaxAge guard (dead-lettered).
	TooOld int64 `json:"too_old"`
	// Conflicting counts copies of an id whose payload differs from the
	// copy the API counted, an earlier one in source order (dead-lettered).
	Conflicting int64 `json:"conflicting_duplicates"`
	// Abandoned counts records read but not finished when an interruption
	// ended the drain; a resumed run reads them again.
	Abandoned int64 `json:"abandoned,omitempty"`
	// Retried counts delivered events that needed more than one attempt.
	Retried int64 `json:"retried"`
	// Ambiguous counts accepted events whose answer was replayed after an
	// attempt of theirs went unanswered: most likely their own, but when
	// the source repeats the id it may be the other copy's. Totals are exact
	// either way (the API counts an id once); only the split between
	// Accepted and Duplicate is uncertain, by at most this many.
	Ambiguous int64 `json:"ambiguous,omitempty"`
	// DeadLettered is Rejected + Failed + Invalid + TooOld + Conflicting.
	DeadLettered int64 `json:"dead_lettered"`
	// Valid counts events that passed validation (DryRun counts these).
	Valid int64 `json:"valid"`
	// Source is the reader's own accounting (declared rows, skips).
	Source source.Stats `json:"source"`
	// Checkpoint is the last watermark written, if any.
	Checkpoint *Checkpoint       `json:"checkpoint,omitempty"`
	Elapsed    duration.Duration `json:"elapsed"`
}

// Progress is a snapshot for live display.
type Progress struct {
	Stats
	// Sent is how many events got a final answer from the API.
	Sent int64
	// Rate is events finished per second over the last interval.
	Rate float64
	// Consumed and Declared are source rows done and in total (Declared 0
	// when the source cannot tell): ETA's basis.
	Consumed, Declared int64
	// ETA is the time left, from a smoothed rate (progress.ETA); negative
	// when unknown: no total, or nothing done yet.
	ETA time.Duration
	// LastError is the latest failed request's cause (retried ones
	// included), "" when none has failed: why the rate dropped.
	LastError string
	// PausedUntil is when the API's 429 pause (Retry-After) ends, zero
	// when no pause is in force: the run is waiting, not stuck.
	PausedUntil time.Time
	// Stopped, on the final snapshot, is why the run stopped early: a
	// systemic failure, a stuck record; "" otherwise.
	Stopped string
	Final   bool
}

// WriteText writes the summary a command prints at the end: where every
// record went, and (sent, not a dry run) how fast.
func (st Stats) WriteText(w io.Writer, dryRun bool) {
	el := time.Duration(st.Elapsed)
	fmt.Fprintf(w, "replay summary (%s)\n", el.Round(time.Millisecond))
	rows := [][2]any{
		{"source rows declared", st.Source.Declared},
		{"skipped: window / shard / before checkpoint", fmt.Sprintf("%d / %d / %d", st.Source.SkippedWindow, st.Source.SkippedShard, st.Source.SkippedResume)},
		{"late rows the checkpoint had not covered", st.Source.Late},
	}
	if s := st.Source; s.Requests > 0 {
		rows = append(rows, [2]any{"object store: bytes fetched / requests / retries", fmt.Sprintf("%d / %d / %d", s.BytesRead, s.Requests, s.Retries)})
	}
	rows = append(rows, [][2]any{
		{"records read", st.Read},
		{"invalid (dead-lettered)", st.Invalid},
		{"too old (dead-lettered)", st.TooOld},
	}...)
	if dryRun {
		rows = append(rows, [2]any{"valid, would be sent", st.Valid - st.TooOld})
	} else {
		rows = append(rows,
			[2]any{"accepted", st.Accepted},
			[2]any{"duplicate (already counted)", st.Duplicate},
			[2]any{"rejected (dead-lettered)", st.Rejected},
			[2]any{"failed after retries (dead-lettered)", st.Failed},
			[2]any{"conflicting duplicates (dead-lettered)", st.Conflicting},
			[2]any{"delivered after a retry", st.Retried})
		if st.Ambiguous > 0 {
			rows = append(rows, [2]any{"of which after an unanswered attempt", st.Ambiguous})
		}
		if st.Abandoned > 0 {
			rows = append(rows, [2]any{"left for the resumed run", st.Abandoned})
		}
		if el > 0 {
			rows = append(rows, [2]any{"events/s", fmt.Sprintf("%.0f", float64(st.Accepted+st.Duplicate+st.Rejected+st.Failed)/el.Seconds())})
		}
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-45s %v\n", r[0], r[1])
	}
	if st.Checkpoint != nil {
		fmt.Fprintf(w, "  %-45s %s\n", "checkpoint", st.Checkpoint.Position.String())
	}
}

// WriteJSON writes the statistics as indented JSON to path, atomically.
func (st Stats) WriteJSON(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// Status is the status line of a replay: rows done of the total the
// source declared, events per second, the smoothed ETA, and the counters
// that say where events went.
func (p Progress) Status() progress.Status {
	st := progress.Status{
		Verb: "replay", Done: p.Consumed, Total: p.Declared, Unit: "rows", Elapsed: time.Duration(p.Elapsed),
		Rate: p.Rate, RateUnit: "ev/s", ETA: p.ETA, LastError: p.LastError, Final: p.Final,
		Counts: []progress.Count{{Name: "accepted", N: p.Accepted}, {Name: "duplicate", N: p.Duplicate},
			{Name: "dead-lettered", N: p.DeadLettered}, {Name: "retried", N: p.Retried}},
	}
	switch {
	case p.Stopped != "":
		st.Note = "STOPPED: " + p.Stopped
	case !p.PausedUntil.IsZero():
		st.Note = "paused by the API (Retry-After) until " + p.PausedUntil.UTC().Format(time.TimeOnly)
	}
	if p.Final {
		st.LastError = "" // the summary and the dead-letter file say what failed
	}
	return st
}

// Log writes the progress as one log record, with the fields of the live
// line, for log collectors.
func (p Progress) Log(log *slog.Logger) {
	paused := ""
	if !p.PausedUntil.IsZero() {
		paused = p.PausedUntil.UTC().Format(time.RFC3339)
	}
	log.Info("replay progress", "done", p.Consumed, "total", p.Declared, "percent", p.Status().Percent(),
		"rate", int64(p.Rate), "eta", progress.Short(p.ETA), "elapsed", time.Duration(p.Elapsed).Round(time.Second).String(),
		"sent", p.Sent, "accepted", p.Accepted, "duplicate", p.Duplicate, "dead_lettered", p.DeadLettered,
		"rejected", p.Rejected, "failed", p.Failed, "invalid", p.Invalid, "retried", p.Retried,
		"paused_until", paused, "last_error", p.LastError)
}
