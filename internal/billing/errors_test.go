package billing

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func response(status int, header http.Header) exchange {
	return exchange{status: status, retryAfter: header.Get("Retry-After"), requestID: header.Get("X-Request-Id")}
}

func TestNewAPIError(t *testing.T) {
	const token = "bsk_test_secret123"
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   APIError
	}{
		{
			name:   "json envelope",
			status: 422,
			body:   `{"error":{"code":"validation_failed","message":"timestamp: not RFC 3339","field":"timestamp","request_id":"req_1"}}`,
			want:   APIError{Status: 422, Code: "validation_failed", Message: "timestamp: not RFC 3339", Field: "timestamp", RequestID: "req_1"},
		},
		{
			name:   "plain text from a proxy",
			status: 502,
			header: http.Header{"X-Request-Id": {"req_2"}},
			body:   "<html>\n  <body>Bad   Gateway</body>\n</html>",
			want:   APIError{Status: 502, Message: "<html> <body>Bad Gateway</body> </html>", RequestID: "req_2"},
		},
		{
			name:   "rate limited",
			status: 429,
			header: http.Header{"Retry-After": {"3"}},
			body:   `{"error":{"code":"rate_limited","message":"slow down"}}`,
			want:   APIError{Status: 429, Code: "rate_limited", Message: "slow down", RetryAfter: 3 * time.Second},
		},
		{
			name:   "empty body",
			status: 503,
			want:   APIError{Status: 503},
		},
		{
			name:   "proxy echoing the authorization header",
			status: 400,
			body:   "bad request; you sent Authorization: Bearer " + token,
			want:   APIError{Status: 400, Message: "bad request; you sent Authorization: Bearer [REDACTED]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newAPIError(response(tt.status, tt.header), "POST", "/v1/events", []byte(tt.body), token)
			tt.want.Method, tt.want.Path = "POST", "/v1/events"
			if *got != tt.want {
				t.Errorf("newAPIError() = %+v, want %+v", *got, tt.want)
			}
			if strings.Contains(got.Error(), token) {
				t.Errorf("error text %q contains the token", got.Error())
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	e := &APIError{Method: "POST", Path: "/v1/events", Status: 422, Code: "validation_failed", Message: "must be an object", Field: "properties", RequestID: "req_9"}
	want := "billing: POST /v1/events: 422 validation_failed: properties: must be an object (request req_9)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	var target *APIError
	if !errors.As(fmt.Errorf("replay: %w", e), &target) || target.Field != "properties" {
		t.Errorf("errors.As through a wrap failed")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"-1", 0},
		{"soon", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Second).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	te := &TransportError{Method: "GET", Path: "/", Err: errors.New("connection reset")}
	tests := []struct {
		status int
		err    error
		want   bool
	}{
		{0, te, true},
		{0, errors.New("decode"), false},
		{429, nil, true},
		{500, nil, true},
		{502, nil, true},
		{503, nil, true},
		{501, nil, false},
		{400, nil, false},
		{409, nil, false},
		{409, &APIError{Status: 409, Code: "idempotency_key_reused"}, false},
		{409, &APIError{Status: 409, Code: CodeRequestInProgress}, true},
		{422, nil, false},
	}
	for _, tt := range tests {
		if got := shouldRetry(tt.status, tt.err); got != tt.want {
			t.Errorf("shouldRetry(%d, %v) = %v, want %v", tt.status, tt.err, got, tt.want)
		}
	}
}
