package cli

import (
	"io"
	"log/slog"
	"os"

	"github.com/billharness/billharness/internal/progress"
)

// NewLogger returns a logger writing to w at level: text when w is a
// terminal, for people, and JSON lines otherwise, for Kubernetes and log
// collectors. Define the level flag with TextVar and a slog.Level.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if IsTerminal(w) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// CheckProgress validates a -progress value: auto, live, log or off.
func CheckProgress(mode string) error {
	switch mode {
	case "auto", "live", "log", "off":
		return nil
	}
	return Usagef("-progress %q: want auto, live, log or off", mode)
}

// ProgressMode resolves a valid -progress value: auto is live when w (the
// progress output) is a terminal and log otherwise.
func ProgressMode(mode string, w io.Writer) string {
	if mode != "auto" {
		return mode
	}
	if IsTerminal(w) {
		return "live"
	}
	return "log"
}

// IsTerminal reports whether w is a character device, as a terminal is.
// (/dev/null is one too; text or JSON makes no difference there.)
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Snapshot is a progress snapshot that renders itself: a status line, and
// a log record with the same fields.
type Snapshot interface {
	Status() progress.Status
	Log(*slog.Logger)
}

// ProgressFunc is the display a valid -progress mode asks for, writing to
// w: a live status line, redrawn in place; or a log record of every
// every-th snapshot but the final one (the summary follows); nil for off.
func ProgressFunc[P Snapshot](mode string, w io.Writer, log *slog.Logger, every int) func(P) {
	switch ProgressMode(mode, w) {
	case "live":
		live := &progress.Live{W: w, Width: progress.TerminalWidth(w)}
		return func(p P) { live.Draw(p.Status()) }
	case "log":
		n := 0
		return func(p P) {
			if n++; !p.Status().Final && n%every == 0 {
				p.Log(log)
			}
		}
	}
	return nil
}
