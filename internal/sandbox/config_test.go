package sandbox_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/billharness/billharness/internal/sandbox"
)

func TestParseLatency(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in      string
		want    sandbox.Latency
		wantErr bool
	}{
		{"", sandbox.Latency{}, false},
		{"10ms", sandbox.Latency{Min: 10 * ms, Max: 10 * ms}, false},
		{"5ms..50ms", sandbox.Latency{Min: 5 * ms, Max: 50 * ms}, false},
		{" 1s .. 2s ", sandbox.Latency{Min: time.Second, Max: 2 * time.Second}, false},
		{"50ms..5ms", sandbox.Latency{}, true},
		{"-1ms", sandbox.Latency{}, true},
		{"5..50", sandbox.Latency{}, true},
		{"5ms..", sandbox.Latency{}, true},
		{"fast", sandbox.Latency{}, true},
	}
	for _, tt := range tests {
		got, err := sandbox.ParseLatency(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLatency(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			if back, _ := sandbox.ParseLatency(got.String()); back != got {
				t.Errorf("ParseLatency(%q).String() = %q does not parse back", tt.in, got.String())
			}
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	_, err := sandbox.New(sandbox.Config{
		FailRate: 1.5, ResetRate: -0.1, DropRate: math.NaN(), DoubleRate: 2,
		RateLimit: -1, RateBurst: -2, UsageLag: -time.Second,
		Latency: sandbox.Latency{Min: time.Second, Max: time.Millisecond},
	})
	if err == nil {
		t.Fatal("New(bad config) = nil error")
	}
	for _, want := range []string{"admin token is required", "fail rate", "reset rate", "drop rate", "double rate", "rate limit", "rate burst", "usage lag", "latency"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New(bad config) error = %q, want it to mention %q", err, want)
		}
	}
	if _, err := sandbox.New(sandbox.Config{AdminToken: "same", CustomerToken: "same"}); err == nil {
		t.Errorf("New with equal admin and customer tokens = nil error, want one")
	}
	if _, err := sandbox.New(sandbox.Config{AdminToken: "bsk_test_x"}); err != nil {
		t.Errorf("New(minimal config) = %v, want nil", err)
	}
}

func TestGenerateToken(t *testing.T) {
	a, err := sandbox.GenerateToken()
	b, _ := sandbox.GenerateToken()
	if err != nil || !strings.HasPrefix(a, "bsk_test_") || len(a) != len("bsk_test_")+32 || a == b {
		t.Errorf("GenerateToken() = %q, %q, %v; want two distinct bsk_test_ + 32 hex", a, b, err)
	}
}
