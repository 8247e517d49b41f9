// Package progress draws the one-line status a long run shows on a
// terminal (a bar, N of M, percent, rate, a smoothed ETA, the counters that
// matter and the last error's cause) and estimates the time left.
//
// It is small on purpose: the line's fields are the run's own (accepted,
// duplicate, dead-lettered; p99, dropped), which general progress-bar
// libraries would only show as a free-form suffix, and they would bring
// their own rendering loop next to the runs' own tickers. What they do well
// and this package copies: never wider than the terminal (a wrapped line
// leaves a stale row behind at every update), the line cleared before it is
// drawn, and an ETA that does not swing with every burst.
package progress

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is what one line shows.
type Status struct {
	// Verb names the run: "replay", "load".
	Verb string
	// Done of Total units of work; Total 0 when unknown (no bar, no
	// percent). Unit names them in the "N of M" ("rows").
	Done, Total int64
	Unit        string
	// Elapsed, and for a run of fixed length its Duration: then the bar
	// and percent follow the clock, k6's "08s/10s".
	Elapsed, Duration time.Duration
	// Rate is per second, recent; RateUnit names it ("ev/s").
	Rate     float64
	RateUnit string
	// ETA is the time left; negative when unknown.
	ETA time.Duration
	// Counts are shown in order, as many as the width allows.
	Counts []Count
	// Note replaces the ETA: "paused by the API until 12:00:01",
	// "STOPPED: …".
	Note string
	// LastError is the cause of the latest failed request, shown last
	// and cut to what fits.
	LastError string
	// Final marks the last line: "done in 3m2s" instead of the ETA.
	Final bool
}

// Count is one named counter on the line.
type Count struct {
	Name string
	N    int64
}

// Fraction is the share done, from 0 to 1, and whether it is known.
func (s Status) Fraction() (float64, bool) {
	switch {
	case s.Duration > 0:
		return min(1, max(0, s.Elapsed.Seconds()/s.Duration.Seconds())), true
	case s.Total > 0:
		return min(1, max(0, float64(s.Done)/float64(s.Total))), true
	}
	return 0, false
}

// Percent is the share done in percent, to one decimal, rounded down; -1
// when unknown. Log records carry it.
func (s Status) Percent() float64 {
	f, ok := s.Fraction()
	if !ok {
		return -1
	}
	return math.Floor(f*1000) / 10
}

// barWidth is the bar's width between its brackets, as k6's.
const barWidth = 20

// Line renders s in at most width-1 columns (the last column left free:
// some terminals wrap on it). Below about 40 columns only the essentials
// are kept. It has no line ending.
func Line(s Status, width int) string {
	if width <= 0 {
		width = 80
	}
	limit := width - 1
	// Full numbers when they leave room for the bar and the essentials,
	// else compact ones (1.23M).
	full, fits := line(s, limit, Count3)
	if !fits {
		short, _ := line(s, limit, Compact)
		return short
	}
	return full
}

// line renders s with numbers written by num; it reports whether it fits
// whole, with its bar when one is wanted.
func line(s Status, limit int, num func(int64) string) (string, bool) {
	frac, known := s.Fraction()
	// Essentials, always shown: verb, percent, N of M or the clock, rate,
	// ETA or note.
	var head []string
	if s.Verb != "" {
		head = append(head, s.Verb)
	}
	bar := ""
	if known {
		filled := int(frac * barWidth)
		arrow := ""
		if filled < barWidth {
			arrow = ">"
		}
		bar = "[" + strings.Repeat("=", filled) + arrow + strings.Repeat(" ", barWidth-filled-len(arrow)) + "]"
		head = append(head, fmt.Sprintf("%.0f%%", math.Floor(frac*100)))
	}
	switch {
	case s.Duration > 0:
		head = append(head, Clock(s.Elapsed)+"/"+Clock(s.Duration))
	case s.Total > 0:
		head = append(head, num(s.Done)+" of "+num(s.Total)+unit(s.Unit))
	default:
		head = append(head, num(s.Done)+unit(s.Unit))
	}
	if s.RateUnit != "" {
		head = append(head, num(int64(math.Round(s.Rate)))+" "+s.RateUnit)
	}
	switch {
	case s.Note != "":
		head = append(head, s.Note)
	case s.Final:
		head = append(head, "done in "+Short(s.Elapsed))
	case s.Duration == 0: // a run of fixed length shows its clock instead
		head = append(head, "ETA "+Short(s.ETA)) // "ETA ?" when unknown
	}
	line := strings.Join(head, "  ")
	barShown := bar == ""
	if bar != "" && runes(line)+1+len(bar) <= limit {
		barShown = true
		// The bar goes after the verb.
		if s.Verb != "" {
			line = s.Verb + " " + bar + " " + strings.TrimPrefix(line, s.Verb+"  ")
		} else {
			line = bar + " " + line
		}
	}
	for _, c := range s.Counts {
		part := "  " + c.Name + " " + num(c.N)
		if runes(line)+len(part) > limit {
			break
		}
		line += part
	}
	if s.LastError != "" {
		prefix := "  last error: "
		if room := limit - runes(line) - len(prefix); room >= 12 {
			line += prefix + cut(oneLine(s.LastError), room)
		}
	}
	return cut(line, limit), barShown && runes(line) <= limit
}

func unit(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to n runes, ending in "…" when cut.
func cut(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	if n <= 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine folds an error's lines and control characters into one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }), " ")
}

// Count3 writes n with thousands separators: 1,234,567.
func Count3(n int64) string { return Group(strconv.FormatInt(n, 10)) }

// Group writes the digits of a decimal string in groups of three:
// "-1234567.5" → "-1,234,567.5".
func Group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}

// Compact writes n in three significant digits past 10,000: 9,999,
// 12.3k, 1.23M, 4.56B.
func Compact(n int64) string {
	a := math.Abs(float64(n))
	switch {
	case a < 10_000:
		return Count3(n)
	case a < 1e6:
		return sig3(float64(n)/1e3) + "k"
	case a < 1e9:
		return sig3(float64(n)/1e6) + "M"
	}
	return sig3(float64(n)/1e9) + "B"
}

func sig3(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Clock writes d as k6 does: "08s", "1m05s", "1h02m".
func Clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, sec)
	}
	return fmt.Sprintf("%02ds", sec)
}

// Short writes a duration to a useful precision: "45s", "12m30s",
// "3h20m", "2d4h"; more than 99 days is ">99d".
func Short(d time.Duration) string {
	switch {
	case d < 0:
		return "?"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		s := d.Round(10 * time.Second).String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		return s
	case d < 24*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	case d < 100*24*time.Hour:
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	return ">99d"
}
