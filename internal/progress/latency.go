package progress

import (
	"strconv"
	"time"
)

// Latency writes a duration with three significant digits: 812µs, 1.23ms,
// 45.6ms, 1.20s.
func Latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	}
	return sig3(d.Seconds()) + "s"
}
