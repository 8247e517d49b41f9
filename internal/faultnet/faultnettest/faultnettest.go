// Package faultnettest starts a fault-injecting proxy for a test, on a free
// 127.0.0.1 port, stopped at cleanup.
package faultnettest

import (
	"testing"

	"github.com/billharness/billharness/internal/faultnet"
	"github.com/billharness/billharness/internal/testenv"
)

// Proxy is a running faultnet proxy.
type Proxy struct {
	// Addr is the proxy's address, 127.0.0.1:port.
	Addr string
	// URL is "http://" + Addr: a base URL that reaches the target through
	// the proxy.
	URL string
	*faultnet.Proxy
}

// Start runs a proxy for cfg until the test ends; it fails the test on a
// bad cfg.
func Start(t testing.TB, cfg faultnet.Config) *Proxy {
	t.Helper()
	p, err := faultnet.New(cfg)
	if err != nil {
		t.Fatalf("faultnettest: %v", err)
	}
	addr := testenv.Serve(t, "faultnettest", p.Serve)
	return &Proxy{Addr: addr, URL: "http://" + addr, Proxy: p}
}
