// Package dice makes the fault knobs' decisions reproducible: it turns a
// seed, a salt (one per kind of decision) and a key (a request or
// connection number, an event id) into a uniform number in [0, 1), the
// same for the same inputs on every run. The sandbox and faultnet use it.
package dice

// Dice holds one seed per salt, derived from the run's seed.
type Dice struct {
	seed []uint64
}

// New returns the dice of seed for salts 0 to salts-1.
func New(seed int64, salts int) Dice {
	d := Dice{seed: make([]uint64, salts)}
	for i := range d.seed {
		d.seed[i] = Mix64(uint64(seed) ^ Mix64(uint64(i)+golden))
	}
	return d
}

// golden is 2^64 divided by the golden ratio, SplitMix64's increment.
const golden = 0x9e3779b97f4a7c15

// ByN returns the decision value of salt for the n-th request, connection
// or chunk: decisions repeat for the same sequence.
func (d *Dice) ByN(salt int, n uint64) float64 {
	return unit(Mix64(n*golden ^ d.seed[salt]))
}

// ByID returns the decision value of salt for an id (FNV-1a): decisions do
// not depend on arrival order, so the same ids are picked at any
// concurrency.
func (d *Dice) ByID(salt int, id []byte) float64 {
	h := uint64(14695981039346656037)
	for _, c := range id {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return unit(Mix64(h ^ d.seed[salt]))
}

// Mix64 is the SplitMix64 finalizer: a cheap, well-distributed bijection.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
