package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/billharness/billharness/internal/lock"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/source"
)

// Dead-letter kinds: why a record was not delivered.
const (
	KindInvalid  = "invalid"  // the record failed validation in the source
	KindTooOld   = "too_old"  // older than Config.MaxAge
	KindRejected = "rejected" // the API refused it with a 4xx
	KindFailed   = "failed"   // the API kept failing; retries exhausted
	// KindConflict is a copy of an event id whose payload differs from the
	// copy the API has (409 idempotency_key_reused): the API keeps the
	// first copy sent, and replay sends the copies of an id in source
	// order, so the first in the source is the one counted.
	KindConflict = "conflicting_duplicate"
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

// Letters is where undelivered records go. Write stores one letter whole
// or fails (and every later Write fails too: the run stops); Sync makes the
// letters written so far durable.
type Letters interface {
	Write(l Letter) error
	Sync() error
	Close() error
	// EarlierCounts counts, by kind, the letters of earlier runs found
	// when opening: not re-driven yet.
	EarlierCounts() map[string]int64
	// String names the file or table, without secrets.
	String() string
}

// DeadLetter appends Letters as JSON lines to a file. It is safe for
// concurrent use, and holds an exclusive lock on the file (see package
// lock) from Open to Close, so two runs never interleave their lines.
//
// Each letter is written whole with one write(2): a letter that could not
// be written (a full disk, a file size limit) leaves no partial line, as
// the file is cut back to its last whole line, and Write reports the
// error, which stops the run. Sync makes the letters durable; replay calls
// it before every checkpoint, so that no checkpoint ever covers a record
// whose letter could still be lost. A torn last line left by a crash is
// cut off when the file is opened again (its record lies above the
// checkpoint, so the resumed run meets it again).
type DeadLetter struct {
	mu   sync.Mutex
	f    *os.File
	lk   *lock.Lock
	path string
	size int64 // the file's length: the end of its last whole line
	err  error // the first failed write: later ones fail too
	// Torn is the length of a torn last line cut off at open, 0 when none.
	Torn int64
	// Earlier counts, by kind, the letters the file held when opened: those
	// of earlier runs, not re-driven yet.
	Earlier map[string]int64
}

// OpenDeadLetter opens path for appending, creating it when missing, so a
// resumed run adds to the letters of the runs before it. It fails with a
// *lock.HeldError when another run has the file open.
func OpenDeadLetter(path string) (*DeadLetter, error) {
	lk, err := lock.Take(path, "reconcile replay")
	if err != nil {
		return nil, fmt.Errorf("dead-letter file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		lk.Release()
		return nil, fmt.Errorf("open dead-letter file: %w", err)
	}
	d := &DeadLetter{f: f, lk: lk, path: path}
	if err := d.repair(); err != nil {
		f.Close()
		lk.Release()
		return nil, err
	}
	return d, nil
}

// repair finds the end of the last whole line and cuts off what follows.
func (d *DeadLetter) repair() error {
	st, err := d.f.Stat()
	if err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	end := st.Size()
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := d.f.ReadAt(buf[:n], end-n); err != nil {
			return fmt.Errorf("dead-letter file %s: %w", d.path, err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end < st.Size() {
		if err := d.f.Truncate(end); err != nil {
			return fmt.Errorf("dead-letter file %s: cut off a torn last line: %w", d.path, err)
		}
		d.Torn = st.Size() - end
	}
	d.size = end
	return d.countEarlier()
}

// countEarlier counts the letters already in the file, by kind.
func (d *DeadLetter) countEarlier() error {
	d.Earlier = map[string]int64{}
	sc := bufio.NewScanner(io.NewSectionReader(d.f, 0, d.size))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		k := source.LetterKind(sc.Bytes())
		if k == "" {
			k = "unreadable"
		}
		d.Earlier[k]++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	return nil
}

// Path is the file's path.
func (d *DeadLetter) Path() string { return d.path }

func (d *DeadLetter) String() string { return d.path }

// EarlierCounts implements Letters.
func (d *DeadLetter) EarlierCounts() map[string]int64 { return d.Earlier }

// Write appends one letter, whole, or nothing and an error.
func (d *DeadLetter) Write(l Letter) error {
	line, err := encodeLetter(l)
	if err != nil {
		return fmt.Errorf("dead letter for %s: %w", l.Position, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	n, err := d.f.WriteAt(line, d.size)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		err = fmt.Errorf("write dead letter to %s: %w", d.path, err)
		if terr := d.f.Truncate(d.size); terr != nil {
			err = errors.Join(err, fmt.Errorf("cut %s back to its last whole line: %w", d.path, terr))
		}
		d.err = err
		return err
	}
	d.size += int64(n)
	return nil
}

// encodeLetter renders l as one JSON line. A letter whose event cannot be
// encoded (a value JSON cannot hold) carries the event as Go renders it
// instead, in Raw, so that no record is ever left without its letter.
func encodeLetter(l Letter) ([]byte, error) {
	b, err := json.Marshal(l)
	if err != nil && l.Event != nil {
		raw, _ := json.Marshal(fmt.Sprintf("%+v", *l.Event))
		l.Reason += fmt.Sprintf(" (the event cannot be encoded as JSON: %v; raw holds it as read)", err)
		l.Event, l.Raw = nil, raw
		b, err = json.Marshal(l)
	}
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Sync fsyncs the file. After a failed write the letters before it are
// whole, and Sync still makes them durable, so that the checkpoint can
// cover their records.
func (d *DeadLetter) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("sync dead-letter file %s: %w", d.path, err)
	}
	return nil
}

// Close syncs and closes the file and drops the lock.
func (d *DeadLetter) Close() error {
	err := d.f.Sync()
	if err != nil {
		err = fmt.Errorf("sync dead-letter file %s: %w", d.path, err)
	}
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close dead-letter file %s: %w", d.path, cerr)
	}
	return errors.Join(err, d.lk.Release())
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
