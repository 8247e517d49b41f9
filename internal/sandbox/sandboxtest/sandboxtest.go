// Package sandboxtest starts a sandbox billing server for a test: fresh
// state, the fault knobs the test asks for, shut down at cleanup.
package sandboxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/billing"
	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/testenv"
)

// Sandbox is a running sandbox server.
type Sandbox struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// AdminToken and CustomerToken are the keys of the two scopes.
	AdminToken, CustomerToken string
	// Server is the in-process server, for Stats and Faults.
	Server *sandbox.Server
}

// Start runs a sandbox on a free 127.0.0.1 port until the test ends.
// Empty tokens in cfg are filled with random bsk_test_ keys. It fails the
// test on a bad cfg.
func Start(t testing.TB, cfg sandbox.Config) *Sandbox {
	t.Helper()
	for _, tok := range []*string{&cfg.AdminToken, &cfg.CustomerToken} {
		if *tok == "" {
			v, err := sandbox.GenerateToken()
			if err != nil {
				t.Fatalf("sandboxtest: %v", err)
			}
			*tok = v
		}
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	addr := testenv.Serve(t, "sandboxtest", srv.Serve)
	return &Sandbox{
		URL:           "http://" + addr,
		AdminToken:    cfg.AdminToken,
		CustomerToken: cfg.CustomerToken,
		Server:        srv,
	}
}

// FailingProxy fronts target (a sandbox's URL) until the test ends and
// answers 500 internal_error, as a failing API would, for the paths given;
// every other request goes through. It returns the proxy's URL.
func FailingProxy(t testing.TB, target string, paths ...string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(paths, r.URL.Path) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"code":"internal_error","message":"injected by the test"}}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// StartSample is Start with the catalog of the committed sample
// (testdata/sample/seed.json), for tests that replay or verify its events.
func StartSample(t testing.TB, cfg sandbox.Config) *Sandbox {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	seed, err := sandbox.LoadSeedFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "testdata", "sample", "seed.json"))
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	cfg.Data = seed
	return Start(t, cfg)
}

// AdminClient is a client of the sandbox with the admin token, whose
// retries wait milliseconds rather than the default's seconds.
func (sb *Sandbox) AdminClient(t testing.TB) *billing.Client {
	t.Helper()
	c, err := billing.New(billing.Config{BaseURL: sb.URL, Token: sb.AdminToken, RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	return c
}
