package billing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxErrorSnippet bounds how much of a non-JSON error body an APIError keeps.
const maxErrorSnippet = 256

// APIError is any non-2xx answer of the API. Callers branch with errors.As.
type APIError struct {
	Method, Path string
	Status       int
	// Code, Message, Field and RequestID come from the JSON error envelope.
	// For a body that is not the envelope (a proxy's HTML page, plain text),
	// Code is empty and Message holds the start of the body.
	Code      string
	Message   string
	Field     string
	RequestID string
	// RetryAfter is the server's Retry-After, 0 when absent or unparsable.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "billing: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		if e.Field != "" && !strings.Contains(e.Message, e.Field) {
			b.WriteString(e.Field + ": ")
		}
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Temporary reports whether a retry may succeed (429, 5xx but 501).
func (e *APIError) Temporary() bool { return shouldRetry(e.Status, e) }

// newAPIError decodes an error response. body is already bounded; token is
// scrubbed from anything kept, in case a misbehaving proxy echoes headers.
func newAPIError(ex exchange, method, path string, body []byte, token string) *APIError {
	e := &APIError{
		Method:     method,
		Path:       path,
		Status:     ex.status,
		RequestID:  ex.requestID,
		RetryAfter: parseRetryAfter(ex.retryAfter, time.Now()),
	}
	var env ErrorBody
	if json.Unmarshal(body, &env) == nil && (env.Error.Code != "" || env.Error.Message != "") {
		e.Code, e.Message, e.Field = env.Error.Code, env.Error.Message, env.Error.Field
		if env.Error.RequestID != "" {
			e.RequestID = env.Error.RequestID
		}
	} else {
		e.Message = snippet(body)
	}
	if token != "" {
		e.Message = strings.ReplaceAll(e.Message, token, "[REDACTED]")
		e.Code = strings.ReplaceAll(e.Code, token, "[REDACTED]")
		e.Field = strings.ReplaceAll(e.Field, token, "[REDACTED]")
		e.RequestID = strings.ReplaceAll(e.RequestID, token, "[REDACTED]")
	}
	return e
}

// snippet is the start of a non-JSON body, as one printable line.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > maxErrorSnippet {
		s = s[:maxErrorSnippet]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n > 24*3600 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		// The same bound as delay-seconds: a 429 pauses every caller of
		// the client, and a date years ahead must not stop a run for good.
		if d := t.Sub(now); d > 0 && d <= 24*time.Hour {
			return d
		}
	}
	return 0
}
