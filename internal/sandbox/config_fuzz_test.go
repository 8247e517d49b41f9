package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseLatency parses -latency values: what parses is a valid range
// and prints to a value that parses to the same range.
func FuzzParseLatency(f *testing.F) {
	for _, s := range []string{"10ms", "5ms..50ms", " 1s .. 2s ", "0", "50ms..5ms", "-1ms", "1h..", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLatency(s)
		if err != nil {
			return
		}
		if l.validate() != nil {
			t.Fatalf("ParseLatency(%q) = %v, an invalid range", s, l)
		}
		if again, err := ParseLatency(l.String()); err != nil || again != l {
			t.Fatalf("ParseLatency(%q) = %v, whose String %q parses to %v, %v", s, l, l.String(), again, err)
		}
	})
}

// FuzzLoadSeedFile reads -seed-file catalogs: it never panics, and a file
// it accepts starts a server.
func FuzzLoadSeedFile(f *testing.F) {
	sample, err := os.ReadFile("testdata/seed.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`{"customers":[{"id":"c1","display_name":"A"}],"plans":[{"id":"p1","name":"P"}],` +
		`"skus":[{"plan_id":"p1","name":"s","meter_event_type":"e","meter_property":"n","aggregation":"Max"}],` +
		`"subscriptions":[{"id":"s1","customer_id":"c1","plan_id":"p1"}]}`))
	f.Add([]byte(`{"skus":[{"plan_id":"nope"}]}`))
	f.Add([]byte(`{"customers":[{}]} {}`))
	// One file per fuzzing process, rewritten for each input: a temporary
	// directory per input slows the engine to a crawl.
	path := filepath.Join(f.TempDir(), "seed.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := LoadSeedFile(path)
		if err != nil {
			return
		}
		if _, err := New(Config{AdminToken: "bsk_test_fuzz", Data: d}); err != nil {
			t.Fatalf("LoadSeedFile accepted %q, but New refuses it: %v", b, err)
		}
	})
}
