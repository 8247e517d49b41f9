package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/atomicfile"
	"github.com/billharness/billharness/internal/lock"
	"github.com/billharness/billharness/internal/source"
)

// CheckpointVersion is the version of the checkpoint format written. A
// checkpoint of an older version is not resumed: version 1 did not record
// its coverage, and version 2 split shards by subscription, not customer.
const CheckpointVersion = 3

// Checkpoint is the saved progress of a replay: every record at or before
// Position, in the reader's order, was delivered, dead-lettered or
// deliberately skipped. Coverage says what that was, so that a resumed run
// skips exactly that and reads whatever arrived since (late data), and
// refuses a source that changed under it.
type Checkpoint struct {
	Version int `json:"version"`
	// Fingerprint identifies the source, shard and window the position
	// belongs to; resuming with another one would skip the wrong records.
	Fingerprint string          `json:"fingerprint"`
	Position    source.Position `json:"position"`
	// Coverage.Rows is how many source rows this checkpoint covers, over
	// all runs: a resumed run skips exactly that many.
	Coverage  source.Coverage `json:"coverage"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Store saves and loads checkpoints. Load returns nil, nil when there is
// none yet.
type Store interface {
	Load(ctx context.Context) (*Checkpoint, error)
	Save(ctx context.Context, cp Checkpoint) error
	// Lock keeps other runs off this checkpoint until release, or fails
	// at once with a *lock.HeldError naming the holder.
	Lock(ctx context.Context) (release func() error, err error)
	// String names the store for messages, without secrets.
	String() string
}

// Fingerprint identifies what a checkpoint's position means: the source
// kind and location, the column mapping, the shard and the window. A DSN's
// credentials are left out, so rotating a password keeps the checkpoint.
func Fingerprint(spec source.Spec) string {
	loc := spec.Path
	if spec.Kind == source.KindPostgres {
		loc = source.RedactDSN(spec.DSN) + " " + spec.Table + " " + spec.Query
	}
	cols := make([]string, 0, len(spec.Columns))
	for k, v := range spec.Columns {
		cols = append(cols, k+"="+v)
	}
	slices.Sort(cols)
	h := sha256.Sum256([]byte(strings.Join([]string{
		spec.Kind, loc, strings.Join(cols, ","), strings.Join(spec.Properties, ","),
		spec.Shard.String(), spec.Window.String(),
	}, "\x00")))
	return hex.EncodeToString(h[:12])
}

// FileStore keeps the checkpoint in a JSON file, replaced atomically.
type FileStore struct {
	Path string
}

func (s FileStore) String() string { return s.Path }

// Load reads the checkpoint file; a missing file is no checkpoint.
func (s FileStore) Load(context.Context) (*Checkpoint, error) {
	b, err := os.ReadFile(s.Path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", s.Path, err)
	}
	return &cp, nil
}

// Lock takes the lock file beside the checkpoint (see package lock).
func (s FileStore) Lock(context.Context) (func() error, error) {
	l, err := lock.Take(s.Path, "reconcile replay")
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return l.Release, nil
}

// Save replaces the checkpoint file atomically (atomicfile.Write): after a
// crash it holds either the old or the new checkpoint, never a torn one.
func (s FileStore) Save(_ context.Context, cp Checkpoint) error {
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := atomicfile.Write(s.Path, 0o600, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
