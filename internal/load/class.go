package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/billharness/billharness/internal/billing"
)

// Class is the status class a request is counted in.
type Class int

// The status classes. 429 is apart from the other 4xx: throttling is the
// API protecting itself, not a bad request. ClassError is every request
// that got no HTTP answer (refused, reset, timed out) or an unusable one.
const (
	Class2xx Class = iota
	Class4xx
	Class429
	Class5xx
	ClassError
	// NumClasses is the number of classes: iterate with
	// for c := range NumClasses, in report order.
	NumClasses
)

// String names the class as reports and metrics label it.
func (c Class) String() string {
	switch c {
	case Class2xx:
		return "2xx"
	case Class4xx:
		return "4xx"
	case Class429:
		return "429"
	case Class5xx:
		return "5xx"
	case ClassError:
		return "error"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// ParseClass reads a class name written by String.
func ParseClass(s string) (Class, error) {
	for c := range NumClasses {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown status class %q", s)
}

// Outcome is how one request ended.
type Outcome struct {
	Class Class
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Accepted: the API took the event (202). Duplicate: it already had it
	// (200, accepted false); still a 2xx.
	Accepted, Duplicate bool
	// Uncertain: no answer or a 5xx, so the API may or may not have stored
	// the event. Verification allows for it.
	Uncertain bool
}

// outcomeOf classifies the result of one SendEvent.
func outcomeOf(res *billing.EventResult, err error) Outcome {
	if err == nil {
		if res.Counted() {
			return Outcome{Class: Class2xx, Status: 202, Accepted: true}
		}
		return Outcome{Class: Class2xx, Status: 200, Duplicate: true}
	}
	var apiErr *billing.APIError
	if errors.As(err, &apiErr) {
		o := Outcome{Status: apiErr.Status}
		switch s := apiErr.Status; {
		case s == 429:
			o.Class = Class429
		case s >= 400 && s < 500:
			o.Class = Class4xx
		case s >= 500:
			o.Class, o.Uncertain = Class5xx, true
		default:
			o.Class, o.Uncertain = ClassError, true
		}
		return o
	}
	return Outcome{Class: ClassError, Uncertain: true}
}

// errorKind is the short, bounded-cardinality name an error is counted
// under: "422 invalid_field", "timeout", "connection refused".
func errorKind(err error) string {
	var apiErr *billing.APIError
	if errors.As(err, &apiErr) {
		if apiErr.Code != "" {
			return fmt.Sprintf("%d %s", apiErr.Status, apiErr.Code)
		}
		return fmt.Sprintf("%d", apiErr.Status)
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE):
		return "connection reset"
	}
	var te *billing.TransportError
	if errors.As(err, &te) {
		msg := te.Err.Error()
		// fasthttp reports a closed keep-alive connection in words only.
		if strings.Contains(msg, "closed") || strings.Contains(msg, "reset") {
			return "connection reset"
		}
		return "transport: " + truncate(msg, 60)
	}
	return "other: " + truncate(err.Error(), 60)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
