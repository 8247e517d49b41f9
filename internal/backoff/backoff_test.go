package backoff

import (
	"context"
	"testing"
	"time"
)

func TestCeilingAndJitter(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		if got := Ceiling(lo, hi, n); got != want {
			t.Errorf("Ceiling(%v, %v, %d) = %v, want %v", lo, hi, n, got, want)
		}
	}
	for range 1000 {
		if j := FullJitter(hi); j < 0 || j > hi {
			t.Fatalf("FullJitter(%v) = %v, outside [0, %v]", hi, j, hi)
		}
	}
}

// Sleep ends with its context, not after the wait.
func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
}
