package faultnet

// Fault kinds, each with its own stream of decisions so that raising one
// rate never changes which connections or chunks another fault picks.
const (
	saltDrop = iota
	saltCut
	saltCutAt
	saltDelay
	numSalts
)

// dice turns (seed, sequence number) into uniform numbers in [0, 1).
type dice struct {
	seed [numSalts]uint64
}

func newDice(seed int64) dice {
	var d dice
	for i := range d.seed {
		d.seed[i] = mix64(uint64(seed) ^ mix64(uint64(i)+0x9e3779b97f4a7c15))
	}
	return d
}

// at returns the decision value of salt for the n-th connection or chunk.
func (d *dice) at(salt int, n uint64) float64 {
	h := mix64(n*0x9e3779b97f4a7c15 ^ d.seed[salt])
	return float64(h>>11) / (1 << 53)
}

// mix64 is the SplitMix64 finalizer: a cheap, well-distributed bijection.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
