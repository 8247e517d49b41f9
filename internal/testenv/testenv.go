// Package testenv decides what a test does when something it needs from
// its environment is missing (a database, an object store, a browser):
// outside CI it is skipped, so that go test runs on any machine; in CI
// (CI set), where make test provides all of them, it fails, because a test
// that silently skips there proves nothing.
package testenv

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
)

// Missing ends the test for want of what: skipped, or failed in CI. how
// says how to provide it.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s in CI, where make test provides it: the tests that need it must run (%s)", what, how)
	}
	t.Skipf("%s: %s to run the tests that need it", what, how)
}

// Getenv returns the variable name, which tells where a server the test
// needs is; unset, it is Missing.
func Getenv(t testing.TB, name, how string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, name+" is not set", how)
	}
	return v
}

// Serve listens on a free 127.0.0.1 port and runs serve on it until the
// test ends, then stops it and reports an error it ended with (the
// cancellation aside), naming what. It returns the listening address.
func Serve(t testing.TB, what string, serve func(context.Context, net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%s: listen: %v", what, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", what, err)
		}
	})
	return ln.Addr().String()
}
