package cli

import (
	"io"
	"log/slog"
	"os"
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
