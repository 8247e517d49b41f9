package faultnet_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/faultnet"
	"github.com/billharness/billharness/internal/faultnet/faultnettest"
)

// body is what the test HTTP target answers: larger than one TCP segment,
// smaller than one proxy chunk.
var body = bytes.Repeat([]byte("0123456789abcdef"), 300)

// target serves body and counts the requests it handled.
func target(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// lineServer answers each line it reads with size bytes, then waits for
// the next line; it counts the lines it answered.
func lineServer(t *testing.T, size int) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					n.Add(1)
					if _, err := c.Write(bytes.Repeat([]byte{'x'}, size)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), &n
}

func get(t *testing.T, c *http.Client, url string) ([]byte, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestPassThrough(t *testing.T) {
	srv, handled := target(t)
	p := faultnettest.Start(t, faultnet.Config{Target: srv.Listener.Addr().String()})
	c := &http.Client{Timeout: 10 * time.Second}
	for i := range 50 {
		got, err := get(t, c, p.URL+"/")
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("GET %d through the proxy = %d bytes, %v; want the %d-byte body", i, len(got), err, len(body))
		}
	}
	st := p.Stats()
	if handled.Load() != 50 || st.Conns == 0 || st.Dropped != 0 || st.Cut != 0 || st.Chunks < 100 {
		t.Errorf("target handled %d, proxy stats %+v; want 50 handled, no faults, at least 100 chunks", handled.Load(), st)
	}
}

func TestDropResetsNewConnections(t *testing.T) {
	srv, handled := target(t)
	p := faultnettest.Start(t, faultnet.Config{Target: srv.Listener.Addr().String(), DropRate: 1})
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 5 {
		if got, err := get(t, c, p.URL+"/"); err == nil {
			t.Fatalf("GET %d with DropRate 1 = %d bytes, nil error; want a connection error", i, len(got))
		}
	}
	if st := p.Stats(); st.Dropped != st.Conns || st.Dropped < 5 || handled.Load() != 0 {
		t.Errorf("stats %+v, target handled %d; want every connection dropped, none forwarded", st, handled.Load())
	}
}

// A cut forwards a strict prefix of what the target sent after it handled
// the request: the case where the work is done and the answer is lost.
func TestCutForwardsAStrictPrefix(t *testing.T) {
	const size = 1000
	addr, handled := lineServer(t, size)
	p := faultnettest.Start(t, faultnet.Config{Target: addr, CutRate: 1})
	for i := range 20 {
		c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("request\n")); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("read %d: timed out: the proxy did not close the cut connection", i)
		}
		if len(got) >= size || strings.Trim(string(got), "x") != "" {
			t.Errorf("cut response %d = %d bytes %q…, want a strict prefix of the %d bytes sent", i, len(got), got[:min(len(got), 8)], size)
		}
	}
	if st := p.Stats(); st.Cut != 20 || handled.Load() != 20 {
		t.Errorf("cuts %d, requests handled %d; want 20 and 20", st.Cut, handled.Load())
	}
}

// An HTTP client never takes a cut response for a whole one.
func TestCutResponsesAreNeverWhole(t *testing.T) {
	srv, handled := target(t)
	p := faultnettest.Start(t, faultnet.Config{Target: srv.Listener.Addr().String(), Seed: 7, CutRate: 0.3})
	c := &http.Client{Timeout: 10 * time.Second}
	failed := 0
	for range 200 {
		got, err := get(t, c, p.URL+"/")
		if err != nil {
			failed++
			continue
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("a GET succeeded with %d bytes, want the whole %d-byte body or an error", len(got), len(body))
		}
	}
	st := p.Stats()
	if st.Cut == 0 || int64(failed) < st.Cut {
		t.Errorf("cuts %d, failed requests %d: want cuts, each one failing a request", st.Cut, failed)
	}
	if handled.Load() < 200 {
		t.Errorf("target handled %d requests, want all 200: cuts happen after the work", handled.Load())
	}
}

func TestDelayIsAddedPerChunk(t *testing.T) {
	addr, _ := lineServer(t, 10)
	const d = 30 * time.Millisecond
	p := faultnettest.Start(t, faultnet.Config{Target: addr, DelayMin: d, DelayMax: d})
	c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 2*d {
		t.Errorf("round trip took %v, want at least %v (a delay on the request and one on the response)", took, 2*d)
	}
	if got := p.Stats().Delayed; got != 2*d {
		t.Errorf("Stats().Delayed = %v, want %v", got, 2*d)
	}
}

func TestServeStopsAndClosesConnections(t *testing.T) {
	addr, _ := lineServer(t, 10)
	p, err := faultnet.New(faultnet.Config{Target: addr})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of cancel")
	}
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("read from a connection after Serve returned = %v, want it closed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  faultnet.Config
		want string // "" for valid
	}{
		{"valid", faultnet.Config{Target: "127.0.0.1:1", DropRate: 0.1, CutRate: 1, DelayMin: time.Millisecond, DelayMax: time.Second}, ""},
		{"no target", faultnet.Config{}, "target is required"},
		{"drop rate above 1", faultnet.Config{Target: "x:1", DropRate: 1.5}, "drop rate 1.5"},
		{"negative cut rate", faultnet.Config{Target: "x:1", CutRate: -0.1}, "cut rate -0.1"},
		{"delay max below min", faultnet.Config{Target: "x:1", DelayMin: time.Second, DelayMax: time.Millisecond}, "delay 1s..1ms"},
		{"negative dial timeout", faultnet.Config{Target: "x:1", DialTimeout: -time.Second}, "dial timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate(%+v) = %v, want containing %q", tt.cfg, err, tt.want)
			}
		})
	}
}
