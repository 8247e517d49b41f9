package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/billharness/billharness/internal/duration"
)

// Rate is a rate in events per second, written "500/s", "30/m", "2/h",
// per any positive duration ("100/10s"), or as a bare number per second
// ("500", as vegeta's -rate takes it). "0" means unlimited. Rate
// implements flag.Value.
type Rate float64

// ParseRate parses a Rate. A positive count never yields 0 (unlimited),
// however small the rate: such a rate is an error.
func ParseRate(s string) (Rate, error) {
	if s == "0" {
		return 0, nil
	}
	count, per, ok := strings.Cut(s, "/")
	if !ok {
		per = "s"
	}
	n, err := strconv.ParseFloat(count, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("invalid rate %q: count %q is not a non-negative number", s, count)
	}
	var d time.Duration
	switch per {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		d, err = time.ParseDuration(per)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("invalid rate %q: unit %q is not s, m, h or a positive duration", s, per)
		}
	}
	r := n / d.Seconds()
	switch {
	case n == 0:
		return 0, nil // also turns -0 into 0
	case math.IsInf(r, 0):
		return 0, fmt.Errorf("invalid rate %q: too large", s)
	case r == 0:
		return 0, fmt.Errorf("invalid rate %q: too small (0 would mean unlimited)", s)
	}
	return Rate(r), nil
}

// String formats r per second ("0.5/s"), or "0" when unlimited.
func (r Rate) String() string {
	if r == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s"
}

// Set implements flag.Value.
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Duration is a duration flag: see package duration.
type Duration = duration.Duration

// Bytes is a size in bytes, written as a whole number with an optional
// unit: "512MiB", "1GiB", "64KiB", "2GB", "1000000". Bytes implements
// flag.Value.
type Bytes int64

var byteUnits = []struct {
	suffix string
	n      int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// ParseBytes parses a Bytes.
func ParseBytes(s string) (Bytes, error) {
	num, mult := s, int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: want a whole number of bytes with an optional unit, e.g. 512MiB or 2GiB", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return Bytes(n * mult), nil
}

// String formats b in the largest binary unit that divides it.
func (b Bytes) String() string {
	for i := 3; i >= 0; i-- {
		if b != 0 && int64(b)%byteUnits[i].n == 0 {
			return strconv.FormatInt(int64(b)/byteUnits[i].n, 10) + byteUnits[i].suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// Set implements flag.Value.
func (b *Bytes) Set(s string) error {
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
