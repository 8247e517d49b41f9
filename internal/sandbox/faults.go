package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
)

// Fault kinds, each with its own stream of decisions so that, say, raising
// DropRate never changes which events are doubled.
const (
	saltDrop = iota
	saltDouble
	saltFail
	saltReset
	saltLatency
	saltThrottle
	numSalts
)

// Stats are counters since the server started.
type Stats struct {
	// Requests is every request received, authenticated or not.
	Requests int64 `json:"requests"`
	// EventsStored counts distinct events accepted and kept (dropped events
	// are not stored; a doubled event is stored once).
	EventsStored int64 `json:"events_stored"`
	// Duplicates counts events answered 200 duplicate.
	Duplicates int64 `json:"duplicates"`
	// ServerErrors counts 500 responses, injected or not.
	ServerErrors int64 `json:"server_errors"`
	// RateLimited counts 429 responses.
	RateLimited int64 `json:"rate_limited"`
	// Resets counts connections closed without a response.
	Resets int64 `json:"resets"`
	// Drops counts events acknowledged and lost.
	Drops int64 `json:"drops"`
	// Doubles counts events counted twice.
	Doubles int64 `json:"doubles"`
}

type counters struct {
	requests, stored, duplicates, serverErrors, rateLimited, resets, drops, doubles atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests:     c.requests.Load(),
		EventsStored: c.stored.Load(),
		Duplicates:   c.duplicates.Load(),
		ServerErrors: c.serverErrors.Load(),
		RateLimited:  c.rateLimited.Load(),
		Resets:       c.resets.Load(),
		Drops:        c.drops.Load(),
		Doubles:      c.doubles.Load(),
	}
}

// Stats returns the counters since the server started.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// FaultLog lists the events the sandbox corrupted on purpose, grouped by
// the subscription each was attributed to ("" when none). Ids are sorted.
//
// Dropped holds ids whose first delivery was acknowledged and then lost; a
// later re-send of such an id was (or will be) counted normally. Doubled
// holds ids that count twice in usage and billing.
type FaultLog struct {
	Dropped map[string][]string `json:"dropped"`
	Doubled map[string][]string `json:"doubled"`
}

// Faults returns which events were dropped or doubled so far.
func (s *Server) Faults() FaultLog {
	fl := FaultLog{Dropped: map[string][]string{}, Doubled: map[string][]string{}}
	for i := range s.dedup.shards {
		sh := &s.dedup.shards[i]
		sh.mu.Lock()
		for id, sub := range sh.dropped {
			fl.Dropped[sub] = append(fl.Dropped[sub], id)
		}
		for id, sub := range sh.doubled {
			fl.Doubled[sub] = append(fl.Doubled[sub], id)
		}
		sh.mu.Unlock()
	}
	for _, m := range []map[string][]string{fl.Dropped, fl.Doubled} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	return fl
}

// WriteFaultLog writes Faults as indented JSON to path.
func (s *Server) WriteFaultLog(path string) error {
	b, err := json.MarshalIndent(s.Faults(), "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("write fault log: %w", err)
	}
	return nil
}
