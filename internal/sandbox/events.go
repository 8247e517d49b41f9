package sandbox

import (
	"net/http"

	"github.com/billharness/billharness/internal/jsonstr"
)

// postEvent serves POST /v1/events, the hot path: no reflection, no lock
// held across another, and one allocation per new event (its id, kept for
// ever in the dedup set).
//
// Order matters: validate, attribute, then decide drop/double and admit
// atomically per id, then store. A duplicate is answered before any fault
// applies, so a re-send never changes usage.
func (s *Server) postEvent(c *call) response {
	var ev rawEvent
	fe, err := parseEvent(c.body, &ev)
	if err != nil {
		return s.badJSON(c, err)
	}
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	ts, ok := parseTimestamp(ev.str[fTimestamp])
	if !ok {
		return s.invalid(c, "timestamp", "timestamp must be RFC 3339 (e.g. 2026-02-28T14:22:01Z) between years 1678 and 2261")
	}
	var subRef []byte
	if ev.present&(1<<fSubscriptionID) != 0 {
		subRef = ev.str[fSubscriptionID]
	}
	sub, fe := s.cat.attribute(ev.str[fCustomerID], subRef)
	if fe != nil {
		return s.fieldErr(c, fe)
	}
	subID := ""
	if sub != nil {
		subID = sub.ID
	}

	id := ev.str[fID]
	drop := s.cfg.DropRate > 0 && s.dice.ByID(saltDrop, id) < s.cfg.DropRate
	double := s.cfg.DoubleRate > 0 && s.dice.ByID(saltDouble, id) < s.cfg.DoubleRate
	switch s.dedup.admit(id, subID, drop, double) {
	case admitDuplicate:
		s.stats.duplicates.Add(1)
		return s.eventResult(http.StatusOK, id, false)
	case admitDropped:
		s.stats.drops.Add(1)
		resp := s.eventResult(http.StatusAccepted, id, true)
		resp.noTrace = true
		return resp
	}
	mult := uint32(1)
	if double {
		mult = 2
		s.stats.doubles.Add(1)
	}
	if sub != nil {
		sub.log.append(ts, c.now.Add(s.cfg.UsageLag).UnixNano(), ev.str[fEventType], ev.props, mult)
	}
	s.stats.stored.Add(1)
	return s.eventResult(http.StatusAccepted, id, true)
}

// eventResult renders billing.EventResult by hand into a pooled buffer.
func (s *Server) eventResult(status int, id []byte, accepted bool) response {
	buf := s.getBuf()
	b := *buf
	if accepted {
		b = append(b, `{"accepted":true,"event_id":`...)
		b = jsonstr.Append(b, id)
		b = append(b, '}')
	} else {
		b = append(b, `{"accepted":false,"event_id":`...)
		b = jsonstr.Append(b, id)
		b = append(b, `,"duplicate":true}`...)
	}
	*buf = b
	return response{status: status, body: b, buf: buf}
}
