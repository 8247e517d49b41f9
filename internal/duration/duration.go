// Package duration is the one duration type of flags, environment
// variables and JSON: time.Duration's syntax, and whole days ("35d").
package duration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a non-negative time.Duration that also takes whole days as a
// leading "Nd" ("35d", "1d12h"), as dedup windows and backdating limits are
// given in days. Duration implements flag.Value, and encoding.TextMarshaler
// and TextUnmarshaler, so that it reads and writes the same text in JSON.
type Duration time.Duration

// maxDays is the largest day count a time.Duration holds.
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// Parse parses a Duration: time.ParseDuration syntax, optionally
// after a day count.
func Parse(s string) (Duration, error) {
	var days int64
	// Go's duration units never contain a "d", so one marks days.
	before, rest, hasDays := strings.Cut(s, "d")
	if hasDays {
		n, err := strconv.ParseUint(before, 10, 63)
		if err != nil || int64(n) > maxDays {
			return 0, fmt.Errorf("invalid duration %q: day count %q is not a whole number up to %d", s, before, maxDays)
		}
		days = int64(n)
	} else {
		rest = s
	}
	var d time.Duration
	if rest != "" || !hasDays {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("invalid duration %q: want e.g. 30s, 5m, 1h30m or 35d", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	}
	if days > (math.MaxInt64-int64(d))/int64(24*time.Hour) {
		return 0, fmt.Errorf("invalid duration %q: too large", s)
	}
	return Duration(time.Duration(days)*24*time.Hour + d), nil
}

// String formats d as time.Duration does ("840h0m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what Parse reads.
func (d *Duration) UnmarshalText(b []byte) error { return d.Set(string(b)) }
