package billing

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestAppendEventMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 2, 28, 14, 22, 1, 123456789, time.UTC)
	tests := []Event{
		{ID: "evt-1", EventType: "api.request", CustomerID: "c", SubscriptionID: "s", Timestamp: ts, Properties: json.RawMessage(`{"a":1}`)},
		{ID: "evt-2", EventType: "llm.completion", CustomerID: "c", Timestamp: ts},
		{ID: "q\"uote\\back\nline\ttab\x01<>&", EventType: "é ü 中文 \u2028\u2029", CustomerID: "bad\xffutf8", Timestamp: ts.Truncate(time.Second)},
	}
	for _, ev := range tests {
		got, err := appendEvent(nil, &ev)
		if err != nil {
			t.Fatalf("appendEvent(%q): %v", ev.ID, err)
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("appendEvent(%q) =\n%s\nwant (json.Marshal)\n%s", ev.ID, got, want)
		}
	}
}

func TestAppendEventRejectsBadProperties(t *testing.T) {
	for _, p := range []string{`{}, "id": "smuggled"`, `[1,2]`, `"text"`, `{"a":`} {
		ev := Event{ID: "e", EventType: "t", CustomerID: "c", Properties: json.RawMessage(p)}
		if _, err := appendEvent(nil, &ev); err == nil {
			t.Errorf("appendEvent(properties %s): no error", p)
		}
	}
}

func FuzzAppendEvent(f *testing.F) {
	f.Add("evt-1", "api.request", `{"a":1}`)
	f.Add("q\"\\\n\x00<>&\u2028", "\xff", `{}`)
	f.Fuzz(func(t *testing.T, id, typ, props string) {
		ev := Event{ID: id, EventType: typ, CustomerID: "c", Timestamp: time.Unix(1e9, 0).UTC(), Properties: json.RawMessage(props)}
		got, err := appendEvent(nil, &ev)
		if err != nil {
			return
		}
		var back Event
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendEvent output %q is not JSON: %v", got, err)
		}
		want, _ := json.Marshal(ev)
		var viaStd Event
		_ = json.Unmarshal(want, &viaStd)
		if back.ID != viaStd.ID || back.EventType != viaStd.EventType {
			t.Fatalf("round trip: got %q/%q, encoding/json gives %q/%q", back.ID, back.EventType, viaStd.ID, viaStd.EventType)
		}
	})
}

func TestDecodeEventResult(t *testing.T) {
	for _, in := range []string{
		`{"accepted":true,"event_id":"evt-1"}`,
		`{"accepted":false,"event_id":"evt-1","duplicate":true}`,
		` { "event_id" : "x" , "accepted" : true } `,
		`{"accepted":true,"event_id":"esc\"aped"}`,
		`{"accepted":true,"event_id":"ü"}`,
		`{"accepted":true,"event_id":"e","extra":{"a":[1]}}`,
		`{}`,
		`{"accepted":1}`,
		`not json`,
		`{"accepted":true,"event_id":"e"} trailing`,
	} {
		var got, want EventResult
		gotErr := decodeEventResult([]byte(in), &got)
		wantErr := json.Unmarshal([]byte(in), &want)
		if (gotErr != nil) != (wantErr != nil) || got != want {
			t.Errorf("decodeEventResult(%s) = %+v, %v; json.Unmarshal gives %+v, %v", in, got, gotErr, want, wantErr)
		}
	}
}

func FuzzDecodeEventResult(f *testing.F) {
	f.Add(`{"accepted":true,"event_id":"evt-1"}`)
	f.Add(`{"accepted":false,"event_id":"evt-1","duplicate":true}`)
	f.Fuzz(func(t *testing.T, in string) {
		var got, want EventResult
		gotErr := decodeEventResult([]byte(in), &got)
		wantErr := json.Unmarshal([]byte(in), &want)
		if (gotErr != nil) != (wantErr != nil) || (gotErr == nil && got != want) {
			t.Fatalf("decodeEventResult(%q) = %+v, %v; json.Unmarshal gives %+v, %v", in, got, gotErr, want, wantErr)
		}
	})
}
