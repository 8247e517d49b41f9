package replay

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// Dead-letter kinds: why a record was not delivered.
const (
	KindInvalid  = "invalid"  // the record failed validation in the source
	KindTooOld   = "too_old"  // older than Config.MaxAge
	KindRejected = "rejected" // the API refused it with a 4xx
	KindFailed   = "failed"   // the API kept failing; retries exhausted
)

// Letter is one line of the dead-letter file: the original record, why it
// was not delivered, and where it is in the source.
type Letter struct {
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind"`
	Reason   string          `json:"reason"`
	Status   int             `json:"status,omitempty"`
	Code     string          `json:"code,omitempty"`
	Field    string          `json:"field,omitempty"`
	Position source.Position `json:"position"`
	Event    *source.Event   `json:"event,omitempty"`
	Raw      json.RawMessage `json:"raw,omitempty"`
}

// DeadLetter appends Letters as JSON lines to a file. It is safe for
// concurrent use. Lines are buffered; Sync makes them durable, and replay
// calls it before every checkpoint so that no checkpoint ever covers a
// record whose dead letter could still be lost.
type DeadLetter struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
	path string
}

// OpenDeadLetter opens path for appending, creating it when missing, so a
// resumed run adds to the letters of the runs before it.
func OpenDeadLetter(path string) (*DeadLetter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open dead-letter file: %w", err)
	}
	w := bufio.NewWriter(f)
	return &DeadLetter{f: f, w: w, enc: json.NewEncoder(w), path: path}, nil
}

// Path is the file's path.
func (d *DeadLetter) Path() string { return d.path }

// Write appends one letter.
func (d *DeadLetter) Write(l Letter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enc.Encode(l); err != nil {
		return fmt.Errorf("write dead letter to %s: %w", d.path, err)
	}
	return nil
}

// Sync flushes buffered letters and fsyncs the file.
func (d *DeadLetter) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("flush dead-letter file %s: %w", d.path, err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("sync dead-letter file %s: %w", d.path, err)
	}
	return nil
}

// Close syncs and closes the file.
func (d *DeadLetter) Close() error {
	err := d.Sync()
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close dead-letter file %s: %w", d.path, cerr)
	}
	return err
}

// apiLetter fills a letter from an API error.
func apiLetter(kind string, rec source.Record, err error) Letter {
	l := Letter{Kind: kind, Reason: err.Error(), Position: rec.Pos, Event: &rec.Event}
	if e, ok := asAPIError(err); ok {
		l.Status, l.Code, l.Field = e.Status, e.Code, e.Field
		l.Reason = e.Message
		if l.Reason == "" {
			l.Reason = err.Error()
		}
	}
	return l
}

func asAPIError(err error) (*billing.APIError, bool) {
	var e *billing.APIError
	ok := errors.As(err, &e)
	return e, ok
}
