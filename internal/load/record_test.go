package load

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestHotPathAllocs: the pacer's schedule and the recorder allocate
// nothing per request, so a long run's garbage is the client's alone.
func TestHotPathAllocs(t *testing.T) {
	sch := mustStages(t, "10s@1000,10s@5000")
	rec := newRecorder()
	m, err := NewMetrics(prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		n++
		d, _ := sch.Due(n)
		rec.record(int(n), Outcome{Class: Class2xx}, d, d/2)
		m.observe(Class2xx, false, d, d/2)
	})
	if allocs != 0 {
		t.Errorf("allocations per request = %v, want 0", allocs)
	}
}
