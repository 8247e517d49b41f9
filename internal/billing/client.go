// Package billing is the HTTP client for the usage-based billing API
// documented at docs.bill.sh and pinned in the project's API contract.
//
// One Client is safe for concurrent use and is shared by replay, reconcile
// and loadgen: it owns the connection pool, the optional rate limiter, the
// retry policy and the client-wide pause that a 429 imposes on every caller.
//
// Cancelling a call's context ends its waits (rate limiter, 429 pause,
// backoff) at once. An attempt already in flight on a direct connection
// ends at its deadline: Config.Timeout, or the context's deadline if sooner.
package billing

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/billharness/billharness/internal/backoff"
	"github.com/billharness/billharness/internal/defaults"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultBaseURL      = "https://api.bill.sh"
	DefaultUserAgent    = "billharness"
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 4
	DefaultRetryWaitMin = 100 * time.Millisecond
	DefaultRetryWaitMax = 10 * time.Second
	DefaultMaxConns     = 64
)

// maxBodyRead bounds how much of any response body is read into memory.
const maxBodyRead = 4 << 20

// Config configures a Client. Every zero value means the documented default.
type Config struct {
	// BaseURL is the API root, e.g. https://api.bill.sh or the sandbox's
	// http://127.0.0.1:8080. Default DefaultBaseURL.
	BaseURL string
	// Token is sent as "Authorization: Bearer <Token>". It never appears in
	// errors or logs produced by this package.
	Token string
	// UserAgent is sent on every request. Default DefaultUserAgent.
	UserAgent string
	// Timeout bounds one attempt, from dial to the last body byte.
	// Default DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a retryable request is retried after the
	// first attempt. Default DefaultMaxRetries; negative disables retries.
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff (full
	// jitter) used when the server gives no Retry-After.
	RetryWaitMin, RetryWaitMax time.Duration
	// Limiter, when set, is waited on before every attempt, so all callers
	// sharing the Client share one request rate.
	Limiter *rate.Limiter
	// MaxConns sizes the idle connection pool; set it to the caller's
	// concurrency so keep-alive connections are reused. Default DefaultMaxConns.
	MaxConns int
	// InsecureSkipVerify turns TLS certificate verification off. Only a
	// user's explicit flag may set it.
	InsecureSkipVerify bool
	// Transport replaces the tuned default transport (proxies, tests).
	Transport http.RoundTripper
	// MaxRetryAfter, when set, is the longest Retry-After the client
	// honours: a longer one is not waited for but returned at once as a
	// *RetryAfterError, so that one answer cannot freeze every caller for
	// an hour unseen.
	MaxRetryAfter time.Duration
	// OnPause, when set, is called when a 429 pauses every caller of the
	// client, with when the pause ends and what the server asked for.
	OnPause func(until time.Time, retryAfter time.Duration)
	// Observer, when set, is called after every attempt of every request.
	// It runs on the caller's goroutine and must be fast and concurrency-safe.
	Observer func(RequestInfo)
}

// RequestInfo describes one attempt, for Config.Observer.
type RequestInfo struct {
	Method  string
	Path    string // path without query
	Status  int    // 0 when no response arrived
	Start   time.Time
	Latency time.Duration
	Attempt int // 1 for the first attempt
	// Replayed reports that the server answered from its idempotency cache.
	Replayed bool
	// RetryAfter is the wait the server asked for, 0 when none.
	RetryAfter time.Duration
	Err        error
}

// Client talks to the billing API. Create it with New.
type Client struct {
	cfg     Config
	base    *url.URL
	prefix  string // the base URL's path, before every request's path
	snd     sender
	jitter  func(time.Duration) time.Duration
	pauseMu sync.Mutex
	// pauseUntil is the unix-nano time before which no attempt may start: a
	// 429's Retry-After applies to every caller of the Client, not just the
	// one that received it, so the whole run slows down together.
	pauseUntil atomic.Int64
	bufs       sync.Pool
	// lastErr is the latest failed attempt's error, for progress displays.
	lastErr atomic.Pointer[error]
}

// New returns a Client for cfg with defaults applied.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	defaults.Set(&cfg.Timeout, DefaultTimeout)
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	defaults.Set(&cfg.RetryWaitMin, DefaultRetryWaitMin)
	defaults.Set(&cfg.RetryWaitMax, DefaultRetryWaitMax)
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = cfg.RetryWaitMin
	}
	defaults.Set(&cfg.MaxConns, DefaultMaxConns)
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("billing: base URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("billing: base URL %q: want http(s)://host[:port]", cfg.BaseURL)
	}
	if base.User != nil {
		return nil, fmt.Errorf("billing: base URL must not carry credentials: use the token")
	}
	c := &Client{
		cfg:    cfg,
		base:   base,
		prefix: base.EscapedPath(),
		snd:    newSender(cfg, base),
		jitter: backoff.FullJitter,
	}
	c.bufs.New = func() any { return new(bytes.Buffer) }
	return c, nil
}

// newTransport is a keep-alive transport sized to the caller's concurrency.
func newTransport(cfg Config) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.MaxConns,
		MaxIdleConnsPerHost:   cfg.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // only set by an explicit user flag
		},
	}
}

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// CloseIdleConnections closes idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.snd.closeIdle() }

// request is one logical API call; do turns it into one or more attempts.
type request struct {
	method string
	path   string // escaped path, no query
	query  url.Values
	body   []byte // nil for no body
	// key is the Idempotency-Key, identical on every attempt. Only requests
	// with a key, and GETs, are retried.
	key string
}

// newKey returns a random idempotency key for a create call, so its retries
// can never create twice.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "bh-" + hex.EncodeToString(b[:])
}

// jsonRequest builds a request whose body is v encoded as JSON.
func jsonRequest(method, path string, v any, key string) (request, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return request{}, fmt.Errorf("encode %s %s: %w", method, path, err)
	}
	return request{method: method, path: path, body: b, key: key}, nil
}

// outcome is what one logical call ended with.
type outcome struct {
	status   int  // final HTTP status, 0 when no response arrived
	attempts int  // attempts made, 1 when the first succeeded
	replayed bool // the final answer came from the server's idempotency cache
	// uncertain: an earlier attempt may have been processed by the server
	// (it got no answer, or a 5xx), so a replayed final answer may be its own.
	uncertain bool
}

// do runs r with retries and decodes a 2xx JSON body into out (when non-nil).
func (c *Client) do(ctx context.Context, r request, out any) (outcome, error) {
	retryable := r.key != "" || r.method == http.MethodGet
	target := c.prefix + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	uncertain := false
	for attempt := 1; ; attempt++ {
		var start time.Time
		for {
			if err := c.waitTurn(ctx); err != nil {
				return outcome{attempts: attempt - 1, uncertain: uncertain}, err
			}
			// A 429 that paused the client after this caller's turn came
			// holds it too: the attempt starts only once no pause is in
			// force at its start time.
			start = time.Now()
			if c.pauseUntil.Load() <= start.UnixNano() {
				break
			}
		}
		info, err := c.attempt(ctx, r, target, attempt, out, start)
		res := outcome{status: info.Status, attempts: attempt, replayed: info.Replayed, uncertain: uncertain}
		if err == nil {
			return res, nil
		}
		uncertain = uncertain || info.Status == 0 || info.Status >= 500
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		var tooLong *RetryAfterError
		if !retryable || attempt > c.cfg.MaxRetries || !shouldRetry(info.Status, err) || errors.As(err, &tooLong) {
			return res, err
		}
		wait := info.RetryAfter
		defaults.Set(&wait, c.jitter(backoff.Ceiling(c.cfg.RetryWaitMin, c.cfg.RetryWaitMax, attempt)))
		if err := backoff.Sleep(ctx, wait); err != nil {
			return res, err
		}
	}
}

// attempt sends r once and reports it to the observer. It returns an error
// for anything but a 2xx.
func (c *Client) attempt(ctx context.Context, r request, target string, n int, out any, start time.Time) (RequestInfo, error) {
	info := RequestInfo{Method: r.method, Path: r.path, Attempt: n, Start: start}
	buf := c.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer c.bufs.Put(buf)
	ex, err := c.snd.send(ctx, r, target, buf)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			err = fmt.Errorf("billing: %s %s: %w", r.method, r.path, err)
		} else {
			err = &TransportError{Method: r.method, Path: r.path, Err: c.redact(err)}
		}
		info.Latency, info.Err = time.Since(info.Start), err
		c.observe(info)
		return info, err
	}
	info.Status, info.Replayed = ex.status, ex.replayed
	info.RetryAfter, err = c.read(ex, buf.Bytes(), r, out)
	info.Latency, info.Err = time.Since(info.Start), err
	c.observe(info)
	return info, err
}

// read decodes a 2xx JSON body into out, or turns anything else into an
// *APIError. A 429 also pauses the whole client.
func (c *Client) read(ex exchange, body []byte, r request, out any) (time.Duration, error) {
	if ex.ok() {
		if out == nil || len(body) == 0 {
			return 0, nil
		}
		if err := decode(body, out); err != nil {
			return 0, fmt.Errorf("billing: %s %s: decode %d response: %w", r.method, r.path, ex.status, err)
		}
		return 0, nil
	}
	apiErr := newAPIError(ex, r.method, r.path, body, c.cfg.Token)
	if m := c.cfg.MaxRetryAfter; m > 0 && apiErr.RetryAfter > m {
		return 0, &RetryAfterError{APIError: apiErr, Max: m}
	}
	if ex.status == http.StatusTooManyRequests {
		wait := apiErr.RetryAfter
		defaults.Set(&wait, c.cfg.RetryWaitMin)
		c.pause(wait)
	}
	return apiErr.RetryAfter, apiErr
}

// RetryAfterError is an answer whose Retry-After exceeds
// Config.MaxRetryAfter: not retried, not waited for.
type RetryAfterError struct {
	*APIError
	Max time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v: the API asked to retry after %s, longer than the %s allowed", e.APIError, e.RetryAfter, e.Max)
}

func (e *RetryAfterError) Unwrap() error { return e.APIError }

// PausedUntil is when the current client-wide 429 pause ends; the zero
// time when none is in force.
func (c *Client) PausedUntil() time.Time {
	until := c.pauseUntil.Load()
	if until == 0 || time.Now().UnixNano() >= until {
		return time.Time{}
	}
	return time.Unix(0, until)
}

// LastError is the error of the latest attempt that failed (a retried one
// included), nil when none has: why a run slows down, before any record
// fails. Its text never holds the token.
func (c *Client) LastError() error {
	if e := c.lastErr.Load(); e != nil {
		return *e
	}
	return nil
}

// pause holds every caller until now+d (never shortening a longer pause).
func (c *Client) pause(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	c.pauseMu.Lock()
	longer := until > c.pauseUntil.Load()
	if longer {
		c.pauseUntil.Store(until)
	}
	c.pauseMu.Unlock()
	if longer && c.cfg.OnPause != nil {
		c.cfg.OnPause(time.Unix(0, until), d)
	}
}

// waitTurn waits out a client-wide 429 pause, then the rate limiter.
func (c *Client) waitTurn(ctx context.Context) error {
	if until := c.pauseUntil.Load(); until > 0 {
		if d := time.Until(time.Unix(0, until)); d > 0 {
			if err := backoff.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	if c.cfg.Limiter != nil {
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("billing: rate limiter: %w", err)
		}
	}
	return nil
}

func (c *Client) observe(info RequestInfo) {
	if info.Err != nil {
		c.lastErr.Store(&info.Err)
	}
	if c.cfg.Observer != nil {
		c.cfg.Observer(info)
	}
}

// redact wraps err so that its text never contains the token, whatever an
// underlying layer (a proxy echoing headers, a URL) put there.
func (c *Client) redact(err error) error {
	if c.cfg.Token == "" || !strings.Contains(err.Error(), c.cfg.Token) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), c.cfg.Token, "[REDACTED]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap keeps errors.Is(err, context.DeadlineExceeded) and the like working.
func (e *redactedError) Unwrap() error { return e.err }

// TransportError is a failure with no HTTP response: dial, TLS, a reset
// connection, a timeout. It is retryable.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("billing: %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the underlying network error.
func (e *TransportError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is one the client would retry: a transport
// error (but a certificate that does not verify), a 429 or a 5xx other
// than 501.
func IsRetryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return shouldRetry(apiErr.Status, err)
	}
	return shouldRetry(0, err)
}

// decode unmarshals a response body; the hot path's answer, EventResult,
// has a decoder of its own.
func decode(body []byte, out any) error {
	if r, ok := out.(*EventResult); ok {
		return decodeEventResult(body, r)
	}
	return json.Unmarshal(body, out)
}

// Limit makes c's client send at most perSecond requests a second (none
// when perSecond is 0), in bursts of 1/burstDiv of a second's worth (at
// least 1), over at most conns connections.
func (c *Config) Limit(perSecond float64, burstDiv, conns int) {
	if perSecond > 0 {
		c.Limiter = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)/burstDiv))
	}
	c.MaxConns = conns
}
