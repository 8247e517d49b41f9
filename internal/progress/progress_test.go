package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var replayStatus = Status{
	Verb: "replay", Done: 1_234_567, Total: 2_700_000, Unit: "rows", Elapsed: 95 * time.Second,
	Rate: 12345.6, RateUnit: "ev/s", ETA: 130 * time.Second,
	Counts:    []Count{{"accepted", 1_200_000}, {"duplicate", 34_567}, {"dead-lettered", 0}},
	LastError: "billing: POST /v1/events: 503 Service Unavailable\n(retried)",
}

// TestLineFitsTheWidth: at every width the line stays within width-1
// columns (a wrapped line leaves a stale row at every redraw) and keeps
// the essentials.
func TestLineFitsTheWidth(t *testing.T) {
	for w := 10; w <= 220; w++ {
		got := Line(replayStatus, w)
		if n := utf8.RuneCountInString(got); n > w-1 {
			t.Fatalf("width %d: %d runes: %q", w, n, got)
		}
		if strings.ContainsAny(got, "\n\r") {
			t.Fatalf("width %d: line breaks in %q", w, got)
		}
		if w >= 60 && !strings.Contains(got, "45%  1.23M of 2.70M rows  12.3k ev/s  ETA 2m10s") && !strings.Contains(got, "45%  1,234,567 of 2,700,000 rows  12,346 ev/s  ETA 2m10s") {
			t.Errorf("width %d: essentials missing from %q", w, got)
		}
	}
	wide := Line(replayStatus, 240)
	for _, want := range []string{"replay [=========>          ] 45%  1,234,567 of 2,700,000 rows", "accepted 1,200,000  duplicate 34,567  dead-lettered 0",
		"last error: billing: POST /v1/events: 503 Service Unavailable (retried)"} {
		if !strings.Contains(wide, want) {
			t.Errorf("wide line %q lacks %q", wide, want)
		}
	}
	if got := Line(replayStatus, 80); !strings.HasPrefix(got, "replay [=========>          ] 45%  1.23M of 2.70M rows") {
		t.Errorf("80 columns: %q, want the bar and compact numbers", got)
	}
}

func TestLineCases(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Status
		want []string
		not  []string
	}{
		{name: "unknown total", s: Status{Verb: "replay", Done: 5000, Unit: "rows", ETA: -1, RateUnit: "ev/s"},
			want: []string{"replay  5,000 rows  0 ev/s  ETA ?"}, not: []string{"[", "%"}},
		{name: "rate 0 is not ETA 0s", s: Status{Verb: "replay", Done: 10, Total: 100, ETA: -1, RateUnit: "ev/s"},
			want: []string{"ETA ?"}, not: []string{"ETA 0s"}},
		{name: "clock", s: Status{Verb: "load", Elapsed: 8 * time.Second, Duration: 10 * time.Second, Rate: 500, RateUnit: "req/s", ETA: -1},
			want: []string{"load [================>   ] 80%  08s/10s  500 req/s"}, not: []string{"ETA"}},
		{name: "final", s: Status{Verb: "replay", Done: 100, Total: 100, Elapsed: 182 * time.Second, Final: true, RateUnit: "ev/s"},
			want: []string{"[====================] 100%", "done in 3m"}},
		{name: "note", s: Status{Verb: "replay", Done: 1, Total: 2, Note: "paused by the API until 12:00:01", ETA: 5 * time.Second},
			want: []string{"paused by the API until 12:00:01"}, not: []string{"ETA"}},
	} {
		got := Line(tt.s, 120)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tt.name, got, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: %q has %q", tt.name, got, w)
			}
		}
	}
}

// TestETASmooth: one interval at ten times the rate, or at zero, moves
// the estimate by a fraction, not by the factor (the "0s → 13h51m →
// 1h23m" swing); no progress yet is unknown, not 0s.
func TestETASmooth(t *testing.T) {
	var e ETA
	if got := e.Update(0, 1000, 0); got >= 0 {
		t.Errorf("first sample = %v, want unknown", got)
	}
	done := int64(0)
	var eta time.Duration
	for i := 1; i <= 10; i++ { // 10/s
		done += 10
		eta = e.Update(done, 1000, time.Duration(i)*time.Second)
	}
	if eta < 85*time.Second || eta > 95*time.Second {
		t.Fatalf("steady 10/s with 900 left: ETA %v, want 90s", eta)
	}
	stalled := e.Update(done, 1000, 11*time.Second) // nothing in one second
	if stalled < eta || stalled > 2*eta {
		t.Errorf("one idle second: ETA %v after %v, want a bounded rise", stalled, eta)
	}
	burst := e.Update(done+100, 1000, 12*time.Second) // 100 in one second
	if burst > stalled || burst < stalled/3 {
		t.Errorf("one burst second: ETA %v after %v, want a bounded fall", burst, stalled)
	}
	if got := e.Update(1000, 1000, 13*time.Second); got != 0 {
		t.Errorf("all done: ETA %v, want 0", got)
	}
	var never ETA
	never.Update(0, 10, 0)
	if got := never.Update(0, 10, time.Second); got >= 0 {
		t.Errorf("no progress after 1s: ETA %v, want unknown", got)
	}
	if got := (&ETA{}).Update(5, 0, time.Second); got >= 0 {
		t.Errorf("no total: ETA %v, want unknown", got)
	}
}

// TestLiveEndsOnce: the final line ends with a newline and is drawn once;
// every draw clears the line first.
func TestLiveEndsOnce(t *testing.T) {
	var b bytes.Buffer
	l := &Live{W: &b, Width: func() int { return 60 }}
	l.Draw(Status{Verb: "load", Done: 1})
	l.Draw(Status{Verb: "load", Done: 2, Final: true})
	l.Draw(Status{Verb: "load", Done: 2, Final: true})
	out := b.String()
	if strings.Count(out, "\n") != 1 || strings.Count(out, "\r\x1b[2K") != 2 || !strings.HasSuffix(out, "\n") {
		t.Errorf("live output %q: want two cleared draws, one final newline", out)
	}
}

func TestShort(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-1: "?", 45 * time.Second: "45s", 12*time.Minute + 34*time.Second: "12m30s", 2 * time.Minute: "2m", 3*time.Hour + 20*time.Minute: "3h20m",
		52 * time.Hour: "2d4h", 2400 * time.Hour: ">99d",
	} {
		if got := Short(d); got != want {
			t.Errorf("Short(%v) = %q, want %q", d, got, want)
		}
	}
}
