package source

import (
	"strings"
	"testing"
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
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{in: "0/1", want: Shard{0, 1}},
		{in: "3/4", want: Shard{3, 4}},
		{in: "0/2147483647", want: Shard{0, 2147483647}},
		{in: "4/4", wantErr: "below the count"},
		{in: "0/0", wantErr: "positive"},
		{in: "-1/4", wantErr: "index"},
		{in: "+1/4", wantErr: "index"},
		{in: "1/+4", wantErr: "count"},
		{in: " 1/4 ", want: Shard{1, 4}},
		{in: "1", wantErr: "want i/N"},
		{in: "1/2/3", wantErr: "count"},
		{in: "0/2147483648", wantErr: "count"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseShard(%q) = %v, %v, want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
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
