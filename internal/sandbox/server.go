package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billharness/billharness/internal/dice"
)

// maxBody is the largest request body accepted (413 body_too_large above).
const maxBody = 1 << 20

// Server is the sandbox billing API. It is an http.Handler; every method is
// safe for concurrent use.
type Server struct {
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	admin    []byte
	customer []byte // nil when no customer token is configured
	routes   []route

	// The OpenAPI document is built on first request: it costs ~2 ms, and
	// tests and fuzzing create many servers that never serve it.
	openapiOnce sync.Once
	openapi     []byte
	openapiErr  error

	ids      uuidGen
	cat      *catalog
	dedup    dedupSet
	idem     idemCache
	invoices invoiceStore
	limiter  *bucket // nil when RateLimit is 0
	dice     dice.Dice
	bodyHash maphash.Seed

	stats     counters
	reqSeq    atomic.Uint64 // every request: request ids
	authSeq   atomic.Uint64 // authenticated requests: fault decisions
	reqPrefix string
	bufs      sync.Pool // *[]byte
	jsonCT    []string  // shared, never mutated
}

// New validates cfg (and the seed catalog in cfg.Data) and returns a ready
// Server. All problems are reported at once.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox config: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		now:      cfg.Now,
		log:      cfg.Logger,
		admin:    []byte(cfg.AdminToken),
		dice:     dice.New(cfg.Seed, numSalts),
		bodyHash: maphash.MakeSeed(),
		jsonCT:   []string{"application/json"},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.IdempotencyKeys > 0 {
		s.idem.perShard = max(1, cfg.IdempotencyKeys/numShards)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Version == "" {
		s.cfg.Version = "dev"
	}
	if cfg.CustomerToken != "" {
		s.customer = []byte(cfg.CustomerToken)
	}
	if cfg.RateLimit > 0 {
		burst := cfg.RateBurst
		if burst == 0 {
			burst = max(1, int(cfg.RateLimit))
		}
		s.limiter = newBucket(cfg.RateLimit, burst, s.now())
	}
	var p [4]byte
	_, _ = rand.Read(p[:]) // never fails (Go 1.24+)
	s.reqPrefix = "req_" + hex.EncodeToString(p[:]) + "_"
	s.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	s.cat = newCatalog(&s.ids)
	s.invoices.init()
	if cfg.Data != nil {
		if err := s.cat.load(cfg.Data, s.now()); err != nil {
			return nil, fmt.Errorf("sandbox seed data: %w", err)
		}
	}
	s.routes = routes()
	return s, nil
}

// call is one request on its way through the pipeline.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	route *route
	param string // the {id} path parameter, if the route has one
	body  []byte
	reqID string
	n     uint64    // authenticated request number, for fault decisions
	now   time.Time // the clock when the handler started
}

// response is what a handler produces; ServeHTTP records it for
// idempotency and writes it.
type response struct {
	status  int
	body    []byte
	buf     *[]byte // pooled storage behind body, recycled after writing
	noTrace bool    // never record for idempotency (a dropped event)
}

// ServeHTTP runs every request through: request id, routing (404/405),
// auth (401/403), rate limit (429), injected failure (500), body limit
// (413), idempotency, latency, the handler, and the injected reset.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	c := &call{w: w, r: r, reqID: s.requestID()}
	w.Header()["X-Request-Id"] = []string{c.reqID}
	defer s.recoverPanic(c)

	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // the GET answer's headers; net/http drops the body
	}
	rt, param, allow := s.match(method, r.URL.Path)
	if rt == nil {
		if allow != "" {
			w.Header().Set("Allow", allow)
			s.send(c, s.errorResp(c, http.StatusMethodNotAllowed, "method_not_allowed", "", r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+allow))
			return
		}
		s.send(c, s.errorResp(c, http.StatusNotFound, "not_found", "", "no route "+r.URL.Path))
		return
	}
	c.route, c.param = rt, param
	if !acceptsJSON(r.Header["Accept"]) {
		s.send(c, s.errorResp(c, http.StatusNotAcceptable, "not_acceptable", "", "every answer is application/json; the Accept header refuses it"))
		return
	}
	if rt.scope == scopePublic {
		c.now = s.now()
		s.send(c, rt.handle(s, c))
		return
	}
	if resp, ok := s.admit(c); !ok {
		s.send(c, resp)
		return
	}
	if r.Method != http.MethodPost {
		s.sleep(c)
		c.now = s.now()
		s.send(c, rt.handle(s, c))
		return
	}
	body, buf, err := s.readBody(r)
	if buf != nil {
		defer s.putBuf(buf)
	}
	if err != nil {
		if errors.Is(err, errTooLarge) {
			s.send(c, s.errorResp(c, http.StatusRequestEntityTooLarge, "body_too_large", "", "the request body exceeds 1 MiB"))
		} else {
			s.send(c, s.errorResp(c, http.StatusBadRequest, "unreadable_body", "", "could not read the request body"))
		}
		return
	}
	if len(body) > 0 && !isJSON(r.Header.Get("Content-Type")) {
		s.send(c, s.errorResp(c, http.StatusUnsupportedMediaType, "unsupported_media_type", "", "a request body must be sent with Content-Type: application/json"))
		return
	}
	c.body = body
	s.serveMutation(c)
}

// isJSON reports whether a Content-Type is JSON: application/json or
// application/<x>+json, any parameters.
func isJSON(ct string) bool {
	if ct == "application/json" {
		return true // what clients send: no parsing on the event path
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")))
}

// acceptsJSON reports whether Accept headers admit application/json; no
// header admits anything.
func acceptsJSON(accept []string) bool {
	if len(accept) == 0 || (len(accept) == 1 && (accept[0] == "application/json" || accept[0] == "*/*")) {
		return true // what clients send: no parsing on the event path
	}
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
				continue // q=0: not acceptable
			}
			switch mt {
			case "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// admit applies auth, the rate limit and the injected failure rate.
func (s *Server) admit(c *call) (response, bool) {
	sc, ok := s.authenticate(c.r)
	switch {
	case !ok:
		c.w.Header()["Www-Authenticate"] = []string{`Bearer realm="billing API"`}
		return s.errorResp(c, http.StatusUnauthorized, "unauthorized", "", "missing or invalid API key: send Authorization: Bearer <key> or X-API-Key: <key>"), false
	case c.route.scope == scopeAdmin && sc != scopeAdmin:
		return s.errorResp(c, http.StatusForbidden, "forbidden", "", "this route needs an admin-scope key"), false
	}
	if s.limiter != nil {
		ok, remaining, wait := s.limiter.take(s.now())
		h := c.w.Header()
		h["X-Ratelimit-Limit"] = []string{strconv.FormatFloat(s.cfg.RateLimit, 'f', -1, 64)}
		h["X-Ratelimit-Remaining"] = []string{strconv.Itoa(remaining)}
		if !ok {
			h["Retry-After"] = []string{strconv.Itoa(wait)}
			s.stats.rateLimited.Add(1)
			return s.errorResp(c, http.StatusTooManyRequests, "rate_limited", "", "rate limit exceeded; retry after "+strconv.Itoa(wait)+"s"), false
		}
	}
	c.n = s.authSeq.Add(1)
	if s.cfg.ThrottleRate > 0 && s.dice.ByN(saltThrottle, c.n) < s.cfg.ThrottleRate {
		c.w.Header()["Retry-After"] = []string{"0"}
		s.stats.rateLimited.Add(1)
		return s.errorResp(c, http.StatusTooManyRequests, "rate_limited", "", "injected throttling (sandbox throttle rate); retry at once"), false
	}
	if s.cfg.FailRate > 0 && s.dice.ByN(saltFail, c.n) < s.cfg.FailRate {
		return s.errorResp(c, http.StatusInternalServerError, "internal_error", "", "injected failure (sandbox fail rate)"), false
	}
	return response{}, true
}

// serveMutation runs a POST handler under the idempotency protocol.
func (s *Server) serveMutation(c *call) {
	key := ""
	if v := c.r.Header["Idempotency-Key"]; len(v) > 0 {
		key = v[0]
	}
	if key == "" {
		s.sleep(c)
		c.now = s.now()
		s.finish(c, c.route.handle(s, c))
		return
	}
	ikey := c.r.Method + " " + c.r.URL.Path + "\n" + key
	sum := canonicalHash(s.bodyHash, c.body)
	c.now = s.now()
	state, stored := s.idem.begin(ikey, sum, c.now)
	switch state {
	case idemReplay:
		c.w.Header()["X-Idempotency-Replayed"] = []string{"true"}
		if id := storedRequestID(stored.body); id != "" {
			c.w.Header()["X-Request-Id"] = []string{id} // the answer's own, as its body says
		}
		s.finish(c, response{status: int(stored.status), body: []byte(stored.body)})
		return
	case idemReused:
		s.finish(c, s.errorResp(c, http.StatusConflict, "idempotency_key_reused", "", "this Idempotency-Key was used with a different body"))
		return
	case idemInProgress:
		s.finish(c, s.errorResp(c, http.StatusConflict, "idempotency_request_in_progress", "", "a request with this Idempotency-Key is still in progress"))
		return
	}
	done := false
	defer func() {
		if !done { // the handler panicked or the client went away
			s.idem.abandon(ikey)
		}
	}()
	if s.sleep(c) {
		c.now = s.now()
	}
	resp := c.route.handle(s, c)
	if recordable(resp) {
		s.idem.complete(ikey, sum, resp.status, resp.body, c.now)
	} else {
		s.idem.abandon(ikey)
	}
	done = true
	s.finish(c, resp)
}

// storedRequestID returns the request_id of a stored error body, "" when
// it has none: a replayed error names the request that produced it, in
// the body and the X-Request-Id header alike.
func storedRequestID(body string) string {
	const field = `"request_id":"`
	i := strings.Index(body, field)
	if i < 0 {
		return ""
	}
	rest := body[i+len(field):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// recordable reports whether a response is kept for idempotent replay:
// 2xx and 4xx, except auth and rate-limit answers, which say nothing about
// the request itself.
func recordable(resp response) bool {
	switch {
	case resp.noTrace:
		return false
	case resp.status >= 200 && resp.status < 300:
		return true
	case resp.status == http.StatusUnauthorized, resp.status == http.StatusForbidden, resp.status == http.StatusTooManyRequests:
		return false
	}
	return resp.status >= 400 && resp.status < 500
}

// finish writes resp, unless the route is the event route and the reset
// fault picks this request: then the connection is closed unanswered.
func (s *Server) finish(c *call, resp response) {
	if c.route.resettable && s.cfg.ResetRate > 0 && s.dice.ByN(saltReset, c.n) < s.cfg.ResetRate {
		if resp.buf != nil {
			s.putBuf(resp.buf)
		}
		s.stats.resets.Add(1)
		s.resetConn(c.w)
		return
	}
	s.send(c, resp)
}

// resetConn closes the client connection without a response. SO_LINGER 0
// makes the close a TCP RST, which is what a crashed or cut-off server
// looks like to a client.
func (s *Server) resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Server) send(c *call, resp response) {
	h := c.w.Header()
	h["Content-Type"] = s.jsonCT
	if resp.status >= 500 {
		s.stats.serverErrors.Add(1)
	}
	c.w.WriteHeader(resp.status)
	_, _ = c.w.Write(resp.body)
	if resp.buf != nil {
		s.putBuf(resp.buf)
	}
}

func (s *Server) recoverPanic(c *call) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler { //nolint:errorlint // identity is the contract
		panic(p)
	}
	s.log.Error("sandbox handler panic", "method", c.r.Method, "path", c.r.URL.Path, "request_id", c.reqID, "panic", fmt.Sprint(p))
	s.send(c, s.errorResp(c, http.StatusInternalServerError, "internal_error", "", "internal error"))
}

// authenticate returns the scope of the request's key. The Authorization
// header wins when present; X-API-Key is the documented alternative.
func (s *Server) authenticate(r *http.Request) (scope, bool) {
	var tok string
	if v := r.Header["Authorization"]; len(v) > 0 {
		scheme, rest, ok := strings.Cut(v[0], " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return 0, false
		}
		tok = strings.TrimSpace(rest)
	} else if v := r.Header["X-Api-Key"]; len(v) > 0 {
		tok = strings.TrimSpace(v[0])
	}
	if tok == "" {
		return 0, false
	}
	// Constant-time, so response timing does not reveal how much of a
	// guessed key was right.
	if subtle.ConstantTimeCompare([]byte(tok), s.admin) == 1 {
		return scopeAdmin, true
	}
	if s.customer != nil && subtle.ConstantTimeCompare([]byte(tok), s.customer) == 1 {
		return scopeCustomer, true
	}
	return 0, false
}

// sleep applies the configured latency, uniformly drawn from the seed, and
// reports whether it slept.
func (s *Server) sleep(c *call) bool {
	l := s.cfg.Latency
	if l.Max <= 0 {
		return false
	}
	d := l.Min + time.Duration(s.dice.ByN(saltLatency, c.n)*float64(l.Max-l.Min))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.r.Context().Done():
	}
	return true
}

func (s *Server) requestID() string {
	var b [40]byte
	out := append(b[:0], s.reqPrefix...)
	out = strconv.AppendUint(out, s.reqSeq.Add(1), 10)
	return string(out)
}

var errTooLarge = errors.New("body too large")

// readBody reads the whole body into a pooled buffer, refusing more than
// maxBody bytes.
func (s *Server) readBody(r *http.Request) ([]byte, *[]byte, error) {
	if r.ContentLength > maxBody {
		return nil, nil, errTooLarge
	}
	bufp := s.bufs.Get().(*[]byte)
	buf := (*bufp)[:0]
	if n := int(r.ContentLength); n > cap(buf) {
		buf = make([]byte, 0, n+1) // +1: room to observe EOF without growing
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxBody {
			*bufp = buf
			return nil, bufp, errTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*bufp = buf
			return nil, bufp, fmt.Errorf("read body: %w", err)
		}
	}
	*bufp = buf
	return buf, bufp, nil
}

func (s *Server) getBuf() *[]byte {
	b := s.bufs.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putBuf recycles a buffer unless it grew large: one huge body must not pin
// a megabyte per pooled buffer.
func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		s.bufs.Put(b)
	}
}
