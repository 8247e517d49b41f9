package source

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// KindDeadLetter is a replay's dead-letter file read back as a source, to
// re-drive the records whose delivery failed: "deadletter:PATH".
const KindDeadLetter = "deadletter"

// RetryableLetter is the kind of dead letter whose record may succeed if
// sent again: the API kept failing (5xx, 429, connection errors) until the
// retries ran out. Every other kind (invalid, rejected, too old,
// conflicting) would fail the same way again.
const RetryableLetter = "failed"

// maxLetterLine bounds one dead-letter line: an event with 2 MiB of
// properties, escaped.
const maxLetterLine = 16 << 20

// letterLine is the part of a dead letter a re-drive reads.
type letterLine struct {
	Kind  string `json:"kind"`
	Event *Event `json:"event"`
}

// LetterKind returns the kind of one dead-letter line, or "" when the line
// is not a letter.
func LetterKind(line []byte) string {
	var l letterLine
	if json.Unmarshal(line, &l) != nil {
		return ""
	}
	return l.Kind
}

// dlReader yields the events of a dead-letter file's retryable letters, in
// file order; the other letters are counted as Kept. A line that is not a
// letter is a *RecordError carrying the line, so it is dead-lettered again
// rather than lost.
type dlReader struct {
	spec  Spec
	where string // the file, or the table and name
	// nextLine returns the next letter and its line (file) or seq (table);
	// ok is false at the end.
	nextLine func(ctx context.Context) (row int64, line []byte, ok bool, err error)
	close    func() error
	stats    Stats
	err      error
}

func openDeadLetterSource(ctx context.Context, spec Spec) (*dlReader, error) {
	if spec.DSN != "" {
		return openPGLetterSource(ctx, spec)
	}
	f, err := os.Open(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("source: dead-letter file: %w", err)
	}
	r := &dlReader{spec: spec, where: spec.Path, close: f.Close}
	sc := newLineScanner(f)
	for sc.Scan() {
		r.stats.Declared++
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("source: dead-letter file %s: %w", spec.Path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("source: dead-letter file %s: %w", spec.Path, err)
	}
	sc = newLineScanner(f)
	var line int64
	r.nextLine = func(context.Context) (int64, []byte, bool, error) {
		if !sc.Scan() {
			return 0, nil, false, sc.Err()
		}
		line++
		return line, sc.Bytes(), true, nil
	}
	return r, nil
}

func newLineScanner(f *os.File) *bufio.Scanner {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLetterLine)
	return sc
}

// Next implements Reader.
func (r *dlReader) Next(ctx context.Context) (Record, error) {
	for r.err == nil {
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
		n, b, ok, err := r.nextLine(ctx)
		if err != nil {
			r.err = fmt.Errorf("source: dead letters %s after %d: %w", r.where, n, err)
			break
		}
		if !ok {
			r.err = io.EOF
			break
		}
		pos := Position{Kind: KindDeadLetter, File: r.where, Row: n}
		var l letterLine
		if err := json.Unmarshal(b, &l); err != nil || l.Kind == "" {
			r.stats.Invalid++
			raw, _ := json.Marshal(map[string]string{"line": string(b)})
			return Record{}, &RecordError{Pos: pos, Reason: fmt.Sprintf("%s is not a dead letter", pos), Raw: raw}
		}
		if l.Kind != RetryableLetter {
			r.stats.Kept++
			continue
		}
		if l.Event == nil {
			r.stats.Invalid++
			return Record{}, &RecordError{Pos: pos, Reason: fmt.Sprintf("%s: a %s letter without its event", pos, l.Kind)}
		}
		ev := *l.Event
		if !r.spec.Shard.Contains(ev.CustomerID) {
			r.stats.SkippedShard++
			continue
		}
		if !r.spec.Window.Contains(ev.Timestamp) {
			r.stats.SkippedWindow++
			continue
		}
		rw := row{id: ev.ID, eventType: ev.EventType, customerID: ev.CustomerID, subscriptionID: ev.SubscriptionID, ts: ev.Timestamp, props: ev.Properties}
		if field, reason := rw.check(); field != "" {
			r.stats.Invalid++
			return Record{}, rw.recordError(pos, field, reason)
		}
		r.stats.Emitted++
		return Record{Event: ev, Pos: pos}, nil
	}
	return Record{}, r.err
}

func (r *dlReader) Stats() Stats {
	s := r.stats
	s.Through = s.Emitted + s.Invalid + s.SkippedWindow + s.SkippedShard + s.Kept
	return s
}

// Cover implements Reader: a re-drive keeps no checkpoint.
func (r *dlReader) Cover(Position) Coverage { return Coverage{} }

func (r *dlReader) Close() error { return r.close() }
