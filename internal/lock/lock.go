// Package lock keeps two runs of a job off the same files: an exclusive,
// non-blocking flock(2) on a lock file beside each file a run writes
// (PATH.lock), holding who took it. The kernel drops the lock when the
// process dies, however it dies, so a crashed run never leaves a stale
// lock; the lock file itself stays, empty of meaning until locked again.
package lock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Holder says who holds a lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s (%s) since %s", h.PID, h.Host, h.Command, h.Since.Format(time.RFC3339))
}

// HeldError is returned when another process holds the lock.
type HeldError struct {
	Path   string // the file the lock guards
	Holder string // who holds it, as far as is known
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is in use by another run (%s): two runs on one file would corrupt it", e.Path, e.Holder)
}

// ErrHeld matches a *HeldError with errors.Is.
var ErrHeld = errors.New("locked by another run")

func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Lock is a held lock.
type Lock struct{ f *os.File }

// Take locks path (through PATH.lock, created when missing) for command,
// or fails at once with a *HeldError naming the holder.
func Take(path, command string) (*Lock, error) {
	lp := path + ".lock"
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, Holder: readHolder(f)}
		}
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Command: command, Since: time.Now().UTC()})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0) // who holds it is information, not the lock
	}
	return &Lock{f: f}, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	var h Holder
	if err := json.Unmarshal(b[:n], &h); err != nil || h.PID == 0 {
		return "holder unknown"
	}
	return h.String()
}

// Release drops the lock. It is safe on a nil Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
