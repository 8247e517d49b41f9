package billing

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// exchange is what the client needs of one HTTP response. retryAfter and
// requestID only serve an error answer's APIError, so they are read only
// for those.
type exchange struct {
	status     int
	retryAfter string
	requestID  string
	replayed   bool
}

// ok reports a 2xx answer.
func (e exchange) ok() bool { return e.status >= 200 && e.status < 300 }

// sender performs one HTTP exchange: a seam with two implementations, so
// the retry policy, observer and error decoding above it are shared.
// target is the request's path and query; the response body, bounded by
// maxBodyRead, is appended to dst.
type sender interface {
	send(ctx context.Context, r request, target string, dst *bytes.Buffer) (exchange, error)
	closeIdle()
}

// headers are the request headers every call carries.
type headers struct {
	auth, userAgent string
}

// headersFor returns the headers of every request made with cfg.
func headersFor(cfg Config) headers {
	h := headers{userAgent: cfg.UserAgent}
	if cfg.Token != "" {
		h.auth = "Bearer " + cfg.Token
	}
	return h
}

// newSender picks fasthttp for a direct connection to the API, and net/http
// when the caller brought a transport or the environment names a proxy.
//
// Why two: on this project's 2-core benchmarks, net/http's client spends
// about 90 µs of CPU per event (a read and a write goroutine per connection,
// header maps, channel hand-offs), more than the server it measures;
// fasthttp's HostClient needs a fraction of that. net/http stays for what
// fasthttp lacks: proxies (HTTP_PROXY and friends) and HTTP/2.
func newSender(cfg Config, base *url.URL) sender {
	if cfg.Transport != nil {
		return newNetSender(cfg, base, cfg.Transport)
	}
	probe := &http.Request{URL: base, Header: http.Header{}}
	if p, err := http.ProxyFromEnvironment(probe); err != nil || p != nil {
		return newNetSender(cfg, base, newTransport(cfg))
	}
	host := base.Host
	if base.Port() == "" {
		if base.Scheme == "https" {
			host += ":443"
		} else {
			host += ":80"
		}
	}
	s := &fastSender{timeout: cfg.Timeout, hc: &fasthttp.HostClient{
		Addr:                          host,
		IsTLS:                         base.Scheme == "https",
		TLSConfig:                     &tls.Config{MinVersion: tls.VersionTLS12, ServerName: base.Hostname(), InsecureSkipVerify: cfg.InsecureSkipVerify}, //nolint:gosec // only set by an explicit user flag
		MaxConns:                      cfg.MaxConns,
		MaxConnWaitTimeout:            cfg.Timeout,
		MaxIdleConnDuration:           90 * time.Second,
		ReadTimeout:                   cfg.Timeout,
		WriteTimeout:                  cfg.Timeout,
		MaxResponseBodySize:           maxBodyRead,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		// The client above retries, and counts, every attempt itself.
		MaxIdemponentCallAttempts: 1,
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
	}}
	// The headers every request carries are set, and validated, once.
	hdr := headersFor(cfg)
	s.common.DisableNormalizing()
	s.common.SetHost(base.Host)
	s.common.SetUserAgent(hdr.userAgent)
	s.common.Set("Accept", "application/json")
	if hdr.auth != "" {
		s.common.Set("Authorization", hdr.auth)
	}
	return s
}

// netSender sends through net/http.
type netSender struct {
	hc   *http.Client
	base string // scheme://host
	hdr  headers
}

func newNetSender(cfg Config, base *url.URL, rt http.RoundTripper) *netSender {
	return &netSender{base: base.Scheme + "://" + base.Host, hdr: headersFor(cfg), hc: &http.Client{Transport: rt, Timeout: cfg.Timeout}}
}

func (s *netSender) closeIdle() { s.hc.CloseIdleConnections() }

func (s *netSender) send(ctx context.Context, r request, target string, dst *bytes.Buffer) (exchange, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hdr := &s.hdr
	req, err := http.NewRequestWithContext(ctx, r.method, s.base+target, body)
	if err != nil {
		return exchange{}, err
	}
	// net/http re-sends a request with an Idempotency-Key on its own when a
	// reused connection breaks; without GetBody it cannot, so every attempt
	// is the client's, counted and reported to the observer.
	req.GetBody = nil
	req.Header.Set("User-Agent", hdr.userAgent)
	req.Header.Set("Accept", "application/json")
	if hdr.auth != "" {
		req.Header.Set("Authorization", hdr.auth)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return exchange{}, err
	}
	defer resp.Body.Close()
	ex := exchange{status: resp.StatusCode, replayed: resp.Header.Get("X-Idempotency-Replayed") == "true"}
	if !ex.ok() {
		ex.retryAfter, ex.requestID = resp.Header.Get("Retry-After"), resp.Header.Get("X-Request-Id")
	}
	if _, err := dst.ReadFrom(io.LimitReader(resp.Body, maxBodyRead)); err != nil {
		return exchange{}, err
	}
	return ex, nil
}

// fastSender sends through a fasthttp.HostClient.
type fastSender struct {
	hc      *fasthttp.HostClient
	timeout time.Duration
	// common holds the headers of every request (Host, User-Agent, Accept,
	// Authorization), copied into each request: setting them one by one
	// re-validated the same bytes on every call, 1 µs per event.
	common fasthttp.RequestHeader
}

func (s *fastSender) closeIdle() { s.hc.CloseIdleConnections() }

// errBodyTooLarge is a response over maxBodyRead: not worth a retry.
var errBodyTooLarge = fmt.Errorf("response body over %d bytes", maxBodyRead)

func (s *fastSender) send(ctx context.Context, r request, target string, dst *bytes.Buffer) (exchange, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	s.common.CopyTo(&req.Header)
	req.Header.SetMethod(r.method)
	req.Header.SetRequestURI(target)
	if s.hc.IsTLS {
		req.URI().SetScheme("https") // a path-only URI reads as http
	}
	if r.body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(r.body)
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	// fasthttp cannot abort a call in flight: it ends at its deadline, the
	// timeout or ctx's deadline, whichever is first. Running it on a
	// goroutine of its own to return at a cancellation cost ~7% of replay's
	// CPU; callers that must not wait (replay's drain) stop waiting instead.
	if err := ctx.Err(); err != nil {
		return exchange{}, err
	}
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	err := s.hc.DoDeadline(req, resp, deadline)
	if err != nil {
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			return exchange{}, errBodyTooLarge
		}
		if errors.Is(err, fasthttp.ErrTimeout) {
			err = fmt.Errorf("%w (timeout %s)", context.DeadlineExceeded, s.timeout)
		}
		return exchange{}, err
	}
	ex := exchange{status: resp.StatusCode(), replayed: string(resp.Header.Peek("X-Idempotency-Replayed")) == "true"}
	if !ex.ok() {
		ex.retryAfter, ex.requestID = string(resp.Header.Peek("Retry-After")), string(resp.Header.Peek("X-Request-Id"))
	}
	dst.Write(resp.Body())
	return ex, nil
}
