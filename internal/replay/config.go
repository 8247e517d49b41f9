package replay

import (
	"errors"
	"log/slog"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/defaults"
	"github.com/billharness/billharness/internal/source"
)

// DefaultMaxRetryAfter is the longest Retry-After a replay's client waits
// for by default: with the retries, a record then finishes well within
// DefaultStallTimeout.
const DefaultMaxRetryAfter = 2 * time.Minute

// Config configures Run. Zero values mean the documented defaults.
type Config struct {
	// Source is the opened reader, already positioned after the checkpoint.
	Source source.Reader
	// Client sends the events. Unused (may be nil) with DryRun.
	Client *billing.Client
	// Concurrency is the number of workers. Default DefaultConcurrency.
	Concurrency int
	// MaxAge, when set, dead-letters events older than Now-MaxAge unless
	// AllowOld: past the target's deduplication window a replayed event
	// could be counted twice.
	MaxAge   time.Duration
	AllowOld bool
	// DryRun reads and validates everything and counts, sending nothing and
	// writing neither dead letters nor checkpoints.
	DryRun bool
	// DeadLetter receives every record not delivered: a file (OpenDeadLetter)
	// or a PostgreSQL table (PostgresLetters). Required unless DryRun.
	DeadLetter Letters
	// Checkpoint, when set, receives the watermark every CheckpointEvery
	// and at the end. Resume is the caller's: it opens Source after the
	// loaded position and passes that checkpoint as Resumed.
	Checkpoint      Store
	Fingerprint     string
	Resumed         *Checkpoint
	CheckpointEvery time.Duration
	// Progress, when set, is called every ProgressEvery and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// DrainTimeout bounds how long in-flight requests may finish after the
	// context ends. Default DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Window bounds the records between the watermark and the reader.
	Window int
	// StallTimeout stops the run when the watermark has not moved for this
	// long while a record is outstanding, naming that record: whatever its
	// cause, a record that never finishes must not hang a job for ever.
	// Default DefaultStallTimeout.
	StallTimeout time.Duration
	// FailFast and FailFastRejections stop the run when every event
	// fails to get through for FailFast, or that many consecutive events
	// are refused the same way: a target that is down, empty or the wrong
	// one, not bad events. Those events are not dead-lettered; a resumed
	// run sends them. Defaults DefaultFailFast, DefaultFailFastRejections.
	FailFast           time.Duration
	FailFastRejections int
	// Now is the clock for the age guard. Default time.Now.
	Now func() time.Time
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

func (cfg *Config) defaults() error {
	if cfg.Source == nil {
		return errors.New("replay: no source")
	}
	if !cfg.DryRun && (cfg.Client == nil || cfg.DeadLetter == nil) {
		return errors.New("replay: a client and a dead-letter file are required unless dry-run")
	}
	defaults.Set(&cfg.Concurrency, DefaultConcurrency)
	defaults.Set(&cfg.CheckpointEvery, DefaultCheckpointEvery)
	defaults.Set(&cfg.ProgressEvery, DefaultProgressEvery)
	defaults.Set(&cfg.DrainTimeout, DefaultDrainTimeout)
	defaults.Set(&cfg.Window, DefaultWindow)
	defaults.Set(&cfg.FailFast, DefaultFailFast)
	defaults.Set(&cfg.FailFastRejections, DefaultFailFastRejections)
	if cfg.FailFastRejections > cfg.Window/2 {
		cfg.Window = 2 * cfg.FailFastRejections // held failures must not fill the window
	}
	defaults.Set(&cfg.StallTimeout, DefaultStallTimeout)
	if cfg.Window < cfg.Concurrency*4 {
		cfg.Window = cfg.Concurrency * 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// logger is the Logger, or one that discards before defaults ran.
func (cfg *Config) logger() *slog.Logger {
	if cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cfg.Logger
}
