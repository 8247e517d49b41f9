package cli

import (
	"errors"
	"flag"
	"fmt"
)

// Exit codes, as documented in the README. ExitCode is the only place that
// chooses between them.
const (
	ExitOK            = 0 // success, or -h
	ExitFailure       = 1 // the command failed, was interrupted, or dead-lettered records
	ExitUsage         = 2 // bad flags, environment variables or arguments; nothing was done
	ExitDiscrepancies = 3 // the comparison completed and found discrepancies
	ExitThresholds    = 4 // the load test completed and missed its thresholds
)

// Errors a command returns, wrapped with %w, to choose its exit code.
var (
	// ErrUsage marks a command line that cannot be used. UsageError also
	// matches it.
	ErrUsage = errors.New("usage error")
	// ErrDiscrepancies means a comparison ran to completion and the source
	// and the API disagree: the report is complete and worth reading.
	ErrDiscrepancies = errors.New("discrepancies found")
	// ErrThresholds means a load test ran to completion and failed one of its
	// pass/fail thresholds.
	ErrThresholds = errors.New("load thresholds failed")
)

// UsageError reports a command line or environment that cannot be used: an
// unknown flag or command, a bad value, a missing setting. It exits 2.
type UsageError struct {
	// Cmd is the command as typed ("reconcile replay"); when set, the message
	// starts with it and ends with a pointer to its -h.
	Cmd string
	Err error
}

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Error implements error.
func (e *UsageError) Error() string {
	if e.Cmd == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v\nrun '%s -h' for usage", e.Cmd, e.Err, e.Cmd)
}

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUsage) true for every *UsageError.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// ExitCode maps the error a command returned to the process exit code:
// 0 for nil and flag.ErrHelp, 2 for usage errors, 3 for ErrDiscrepancies,
// 4 for ErrThresholds and 1 for anything else (replay.ErrDeadLettered included).
//
// When err joins several errors (errors.Join, or fmt.Errorf with several
// %w), the most severe wins: usage, then failure, then thresholds, then
// discrepancies. So a comparison that found discrepancies but also failed
// exits 1: its report is incomplete and must not pass for a finished one.
func ExitCode(err error) int {
	return classify(err)
}

// classify walks the tree of err. Each chain ends in a known sentinel, which
// decides, or in an unknown error, which is a failure.
func classify(err error) int {
	if err == nil {
		return ExitOK
	}
	for {
		switch err {
		case flag.ErrHelp:
			return ExitOK
		case ErrUsage:
			return ExitUsage
		case ErrDiscrepancies:
			return ExitDiscrepancies
		case ErrThresholds:
			return ExitThresholds
		}
		switch e := err.(type) {
		case *UsageError:
			return ExitUsage
		case interface{ Unwrap() []error }:
			code := ExitOK
			for _, sub := range e.Unwrap() {
				if c := classify(sub); severity(c) > severity(code) {
					code = c
				}
			}
			return code
		case interface{ Unwrap() error }:
			if err = e.Unwrap(); err == nil {
				// A wrapper around nothing: a failure that did not say what.
				return ExitFailure
			}
		default:
			return ExitFailure
		}
	}
}

// severity orders exit codes for joined errors.
func severity(code int) int {
	switch code {
	case ExitUsage:
		return 4
	case ExitFailure:
		return 3
	case ExitThresholds:
		return 2
	case ExitDiscrepancies:
		return 1
	}
	return 0
}
