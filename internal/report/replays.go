package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/billharness/billharness/internal/replay"
	"github.com/billharness/billharness/internal/source"
)

// Replays is the replay statistics a report carries: those of the run's
// own replay step under the key "", or, in a merged report, each shard's
// under its shard ("2/8"). In summary.json the first is the statistics
// object itself and the second an object by shard.
type Replays map[string]*replay.Stats

// Own returns the statistics of the run's own replay step, nil when it
// did not replay (or the report is merged).
func (r Replays) Own() *replay.Stats { return r[""] }

// MarshalJSON writes one run's statistics as they are, a merged report's
// by shard.
func (r Replays) MarshalJSON() ([]byte, error) {
	if st, ok := r[""]; ok && len(r) == 1 {
		return json.Marshal(st)
	}
	return json.Marshal(map[string]*replay.Stats(r))
}

// UnmarshalJSON reads what MarshalJSON writes: an object whose keys are
// all shards is a merged report's.
func (r *Replays) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*r = nil
		return nil
	}
	var byKey map[string]json.RawMessage
	if err := json.Unmarshal(b, &byKey); err != nil {
		return fmt.Errorf("replay statistics: %w", err)
	}
	shards := len(byKey) > 0
	for k := range maps.Keys(byKey) {
		if _, err := source.ParseShard(k); err != nil {
			shards = false
		}
	}
	if !shards {
		var st replay.Stats
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("replay statistics: %w", err)
		}
		*r = Replays{"": &st}
		return nil
	}
	m := map[string]*replay.Stats{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("replay statistics by shard: %w", err)
	}
	*r = m
	return nil
}
