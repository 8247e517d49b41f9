package defaults

import (
	"testing"
	"time"
)

// Zero and negative values are unset and take the default; set ones stay.
func TestSet(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{{0, 5 * time.Second}, {-1, 5 * time.Second}, {time.Millisecond, time.Millisecond}} {
		v := tt.in
		if Set(&v, 5*time.Second); v != tt.want {
			t.Errorf("Set(%v, 5s) = %v, want %v", tt.in, v, tt.want)
		}
	}
	n := 3
	if Set(&n, 9); n != 3 {
		t.Errorf("Set(3, 9) = %d, want 3", n)
	}
}
