package reconcile

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIDSet(t *testing.T) {
	for _, presize := range []int64{0, 10, 100_000} {
		t.Run(strconv.FormatInt(presize, 10), func(t *testing.T) {
			s := newIDSet(presize)
			for i := range 50_000 {
				if fresh, _ := s.add("evt-"+strconv.Itoa(i), uint64(i)); !fresh {
					t.Fatalf("add(evt-%d) = false on first sight", i)
				}
			}
			for i := range 50_000 {
				// Even ids come back with their payload, odd ones with another:
				// the set tells the conflicts apart after growing, too.
				payload := uint64(i) + uint64(i%2)
				if fresh, same := s.add("evt-"+strconv.Itoa(i), payload); fresh || same != (i%2 == 0) {
					t.Fatalf("add(evt-%d) again = fresh %v, same payload %v", i, fresh, same)
				}
			}
			if s.len() != 50_000 {
				t.Errorf("len() = %d, want 50000", s.len())
			}
			if presize == 100_000 && s.bytes() != int64(int(float64(presize)/maxLoad)+1)*24 {
				t.Errorf("bytes() = %d: a set sized for the declared rows grew", s.bytes())
			}
		})
	}
}

// TestIDSetHalfCollision checks that two ids sharing the first 64 bits of
// their fingerprint, which a 64-bit set would take for one, are both kept
// (their second halves differ), and that they land in one probe run.
func TestIDSetHalfCollision(t *testing.T) {
	s := newIDSet(0)
	a, b := slot{hi: 42, lo: 1, pay: 7}, slot{hi: 42, lo: 2, pay: 7}
	if fresh, _ := s.insert(a); !fresh {
		t.Fatal("first id: not fresh")
	}
	if fresh, _ := s.insert(b); !fresh {
		t.Fatal("an id sharing only the high 64 bits of the fingerprint was taken for a duplicate")
	}
	if fresh, same := s.insert(a); fresh || !same {
		t.Fatalf("the first id again = fresh %v, same %v, want a duplicate", fresh, same)
	}
	if s.len() != 2 {
		t.Errorf("len() = %d, want 2", s.len())
	}
}

func TestParseMeters(t *testing.T) {
	tests := []struct {
		in, wantErr string
		want        []Meter
	}{
		{in: `[{"event_type":"a","property":"p"},{"event_type":"a"}]`,
			want: []Meter{{EventType: "a", Property: "p", Aggregation: "Sum"}, {EventType: "a", Aggregation: "Count"}}},
		{in: `[{"name":"M","event_type":"a","property":"p","aggregation":"UniqueCount"}]`,
			want: []Meter{{Name: "M", EventType: "a", Property: "p", Aggregation: "UniqueCount"}}},
		{in: `[]`, wantErr: "no meter"},
		{in: `[{"event":"a"}]`, wantErr: "unknown field"},
		{in: `[{"event_type":"a","aggregation":"Max"}]`, wantErr: "meters[0]: aggregation Max needs a property"},
		{in: `[{"event_type":"a","property":"p","aggregation":"Avg"}]`, wantErr: `aggregation "Avg"`},
		{in: `[{"event_type":"a","property":"p"},{"event_type":"a","property":"p","aggregation":"Sum"}]`, wantErr: "same event_type"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMeters(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseMeters(%s) = %v, want error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !cmp.Equal(got, tt.want) {
				t.Errorf("ParseMeters(%s) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}
