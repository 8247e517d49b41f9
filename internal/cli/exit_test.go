package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/billharness/billharness/internal/replay"
)

func TestExitCode(t *testing.T) {
	failure := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"help", flag.ErrHelp, 0},
		{"wrapped help", fmt.Errorf("x: %w", flag.ErrHelp), 0},
		{"failure", failure, 1},
		{"canceled", fmt.Errorf("replay: %w", context.Canceled), 1},
		{"usage sentinel", fmt.Errorf("x: %w", ErrUsage), 2},
		{"usage error", &UsageError{Cmd: "reconcile", Err: errors.New("bad")}, 2},
		{"wrapped usage error", fmt.Errorf("x: %w", Usagef("bad")), 2},
		{"discrepancies", fmt.Errorf("verify: 3 subscriptions: %w", ErrDiscrepancies), 3},
		{"thresholds", fmt.Errorf("run: p99: %w", ErrThresholds), 4},
		{"dead-lettered", fmt.Errorf("replay: 12 records: %w", replay.ErrDeadLettered), 1},
		{"failure beats discrepancies", errors.Join(ErrDiscrepancies, failure), 1},
		{"failure beats discrepancies, multi %w", fmt.Errorf("%w; %w", ErrDiscrepancies, failure), 1},
		{"dead-lettered beats discrepancies", errors.Join(ErrDiscrepancies, replay.ErrDeadLettered), 1},
		{"usage beats failure", errors.Join(failure, Usagef("bad")), 2},
		{"thresholds beat discrepancies", errors.Join(ErrDiscrepancies, ErrThresholds), 4},
		{"joined discrepancies", errors.Join(ErrDiscrepancies, fmt.Errorf("b: %w", ErrDiscrepancies)), 3},
		{"wrapper of nothing", &UsageError{}, 2},
		{"nil wrapper", fmt.Errorf("%w", nil), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestUsageErrorMessage(t *testing.T) {
	tests := []struct {
		err  *UsageError
		want string
	}{
		{&UsageError{Err: errors.New("bad")}, "bad"},
		{&UsageError{Cmd: "reconcile replay", Err: errors.New("bad")}, "reconcile replay: bad\nrun 'reconcile replay -h' for usage"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}
