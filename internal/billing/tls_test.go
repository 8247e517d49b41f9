package billing

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TLS certificates are verified by default on both transports, a failure
// is reported as one, at once (no retry can fix it), and InsecureSkipVerify
// turns verification off.
func TestTLSVerification(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused on purpose
	defer srv.Close()
	transports := []struct {
		name string
		net  bool // net/http instead of fasthttp
	}{{"fasthttp", false}, {"net/http", true}}
	for _, tr := range transports {
		for _, insecure := range []bool{false, true} {
			name := tr.name + "/verify"
			if insecure {
				name = tr.name + "/insecure-skip-verify"
			}
			t.Run(name, func(t *testing.T) {
				var attempts atomic.Int64
				cfg := Config{BaseURL: srv.URL, Token: "bsk_test_tls", InsecureSkipVerify: insecure, RetryWaitMin: time.Millisecond,
					Observer: func(RequestInfo) { attempts.Add(1) }}
				c, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if tr.net {
					c.snd = newNetSender(c.cfg, c.base, newTransport(c.cfg))
				}
				if _, isNet := c.snd.(*netSender); isNet != tr.net {
					t.Fatalf("sender %T, want net/http %v", c.snd, tr.net)
				}
				_, err = c.Health(context.Background())
				switch {
				case insecure && err != nil:
					t.Errorf("Health with InsecureSkipVerify = %v, want nil", err)
				case !insecure && (err == nil || !IsCertificateError(err) || !strings.Contains(err.Error(), "certificate")):
					t.Errorf("Health against a self-signed certificate = %v, want a certificate error", err)
				case !insecure && attempts.Load() != 1:
					t.Errorf("attempts = %d, want 1: a certificate that does not verify is not retried", attempts.Load())
				}
			})
		}
	}
}
