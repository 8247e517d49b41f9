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
