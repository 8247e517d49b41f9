package billing

import "testing"

// One classification of an answered event serves replay, heal and
// loadgen: who counted the event, this call or another one.
func TestEventResultCounted(t *testing.T) {
	for _, tt := range []struct {
		name               string
		res                EventResult
		counted, ambiguous bool
	}{
		{"accepted", EventResult{Accepted: true}, true, false},
		{"duplicate answer", EventResult{Duplicate: true}, false, false},
		{"replayed for an earlier call", EventResult{Accepted: true, Replayed: true}, false, false},
		{"replayed after our unanswered attempt", EventResult{Accepted: true, Replayed: true, Uncertain: true}, true, true},
		{"duplicate replayed after our attempt", EventResult{Duplicate: true, Replayed: true, Uncertain: true}, false, false},
	} {
		if c, a := tt.res.Counted(), tt.res.Ambiguous(); c != tt.counted || a != tt.ambiguous {
			t.Errorf("%s: Counted %v, Ambiguous %v; want %v, %v", tt.name, c, a, tt.counted, tt.ambiguous)
		}
	}
}
