package source

import (
	"testing"

	"github.com/billharness/billharness/internal/parsetest"
)

// TestShardOf pins the documented split against values computed outside
// Go: Python's int(hashlib.md5(key.encode()).hexdigest()[:15], 16) % n.
func TestShardOf(t *testing.T) {
	tests := []struct {
		key  string
		n    int
		want int
	}{
		{"", 7, 5},
		{"a", 1000, 362},
		{"cus_01HZX3", 4, 3},
		{"ключ", 97, 68},
		{"anything", 1, 0},
		{"anything", 0, 0},
	}
	for _, tt := range tests {
		if got := ShardOf(tt.key, tt.n); got != tt.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	tests := []parsetest.Case[Shard]{
		{In: "0/1", Want: Shard{0, 1}},
		{In: "3/4", Want: Shard{3, 4}},
		{In: "0/2147483647", Want: Shard{0, 2147483647}},
		{In: "4/4", Err: "below the count"},
		{In: "0/0", Err: "positive"},
		{In: "-1/4", Err: "index"},
		{In: "+1/4", Err: "index"},
		{In: "1/+4", Err: "count"},
		{In: " 1/4 ", Want: Shard{1, 4}},
		{In: "1", Err: "want i/N"},
		{In: "1/2/3", Err: "count"},
		{In: "0/2147483648", Err: "count"},
	}
	parsetest.Run(t, "ParseShard", ParseShard, tests)

	if got := (Shard{}).String(); got != "0/1" {
		t.Errorf("Shard{}.String() = %q, want %q", got, "0/1")
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/2", "9999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			return
		}
		if sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("ParseShard(%q) = %v, want 0 <= index < count", s, sh)
		}
		if back, err := ParseShard(sh.String()); err != nil || back != sh {
			t.Fatalf("ParseShard(%q) = %v, %v, want %v", sh.String(), back, err, sh)
		}
	})
}
