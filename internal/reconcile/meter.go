package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/billharness/billharness/internal/billing"
)

// Meter is one usage meter: the events of EventType, aggregated over
// Property with Aggregation, as a metered SKU defines it [chosen].
type Meter struct {
	// Name is the SKU's name ("Input Tokens"); it labels the meter in
	// reports and selects per-meter tolerances.
	Name string `json:"name,omitempty"`
	// SKUID is the SKU the API reports the meter under; empty for meters
	// from a file.
	SKUID string `json:"sku_id,omitempty"`
	// EventType is the event_type the meter counts.
	EventType string `json:"event_type"`
	// Property is the properties key aggregated; empty for Count.
	Property string `json:"property,omitempty"`
	// Aggregation is billing.AggSum, AggCount, AggMax or AggUniqueCount.
	// Default Sum when Property is set, Count when it is not, as the API
	// defaults a SKU.
	Aggregation string `json:"aggregation,omitempty"`
}

// Label names the meter for people: its Name, or "event_type property
// (Aggregation)" when it has none.
func (m Meter) Label() string {
	if m.Name != "" {
		return m.Name
	}
	s := m.EventType
	if m.Property != "" {
		s += " " + m.Property
	}
	return s + " (" + m.Aggregation + ")"
}

// key identifies what a meter computes, whatever its name or SKU.
func (m Meter) key() string {
	return m.EventType + "\x00" + m.Property + "\x00" + m.Aggregation
}

// normalize fills the default aggregation and checks the definition.
func (m *Meter) normalize() error {
	if m.EventType == "" {
		return errors.New("event_type is required")
	}
	switch m.Aggregation {
	case "":
		m.Aggregation = billing.AggCount
		if m.Property != "" {
			m.Aggregation = billing.AggSum
		}
	case billing.AggCount:
	case billing.AggSum, billing.AggMax, billing.AggUniqueCount:
		if m.Property == "" {
			return fmt.Errorf("aggregation %s needs a property", m.Aggregation)
		}
	default:
		return fmt.Errorf("aggregation %q: want Sum, Count, Max or UniqueCount", m.Aggregation)
	}
	return nil
}

// ParseMeters reads meter definitions: a JSON array of objects with
// event_type, property, aggregation and an optional name, e.g.
//
//	[{"name":"Input Tokens","event_type":"llm.completion","property":"input_tokens","aggregation":"Sum"}]
//
// Every problem is reported at once.
func ParseMeters(r io.Reader) ([]Meter, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("meters: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt key would silently change a meter
	var ms []Meter
	if err := dec.Decode(&ms); err != nil {
		return nil, fmt.Errorf("meters: %w", err)
	}
	if dec.More() {
		return nil, errors.New("meters: data after the array")
	}
	if len(ms) == 0 {
		return nil, errors.New("meters: no meter defined")
	}
	var errs []error
	seen := map[string]int{}
	for i := range ms {
		ms[i].SKUID = ""
		if err := ms[i].normalize(); err != nil {
			errs = append(errs, fmt.Errorf("meters[%d]: %w", i, err))
			continue
		}
		if j, dup := seen[ms[i].key()]; dup {
			errs = append(errs, fmt.Errorf("meters[%d]: same event_type, property and aggregation as meters[%d]", i, j))
		}
		seen[ms[i].key()] = i
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ms, nil
}

// LoadMeters reads meter definitions from a file (see ParseMeters).
func LoadMeters(path string) ([]Meter, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ms, err := ParseMeters(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ms, nil
}

// meterGroup is the meters that apply to a set of subscriptions (one plan,
// or every subscription when the meters come from a file), indexed by the
// event type they count.
type meterGroup struct {
	meters []Meter
	// types and byType list the event types counted and, for each, its
	// meters' indexes. A plan counts a handful of types: a linear scan is
	// cheaper than hashing the type of every event, and the reader interns
	// type strings, so most comparisons stop at the pointer.
	types  []string
	byType [][]int
	// fromAPI is set when the meters are the API's own: an API meter the
	// group lacks is then a meter that appeared during the run, reported,
	// rather than one the file chose to leave out, ignored.
	fromAPI bool
}

func newMeterGroup(ms []Meter, fromAPI bool) *meterGroup {
	g := &meterGroup{meters: ms, fromAPI: fromAPI}
	for i, m := range ms {
		j := slices.Index(g.types, m.EventType)
		if j < 0 {
			j = len(g.types)
			g.types, g.byType = append(g.types, m.EventType), append(g.byType, nil)
		}
		g.byType[j] = append(g.byType[j], i)
	}
	return g
}

// of returns the indexes of the meters counting eventType.
func (g *meterGroup) of(eventType string) []int {
	for j, t := range g.types {
		if t == eventType {
			return g.byType[j]
		}
	}
	return nil
}

// find returns the index of the group's meter an API meter reports, or -1.
// A SKU id decides when both sides have one; otherwise what the meter
// computes does.
func (g *meterGroup) find(u *billing.MeterUsage) int {
	for i, m := range g.meters {
		if m.SKUID != "" && u.SKUID != "" {
			if m.SKUID == u.SKUID {
				return i
			}
			continue
		}
		if m.EventType == u.EventType && m.Property == u.Property && m.Aggregation == u.Aggregation {
			return i
		}
	}
	return -1
}

// metersOf converts a usage answer's meters into Meter definitions.
func metersOf(u *billing.Usage) ([]Meter, error) {
	ms := make([]Meter, 0, len(u.Meters))
	for _, mu := range u.Meters {
		m := Meter{Name: mu.Name, SKUID: mu.SKUID, EventType: mu.EventType, Property: mu.Property, Aggregation: mu.Aggregation}
		if err := m.normalize(); err != nil {
			return nil, fmt.Errorf("meter %q of subscription %s: %w", mu.Name, u.SubscriptionID, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}
