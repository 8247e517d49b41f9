package billing

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzUsageJSON decodes usage answers: every quantity that decodes prints
// to a form that parses back to the same value, and survives a JSON round
// trip unchanged.
func FuzzUsageJSON(f *testing.F) {
	f.Add(`{"subscription_id":"s","meters":[{"sku_id":"k","aggregation":"Sum","quantity":"1234567"}]}`)
	f.Add(`{"meters":[{"quantity":12.5},{"quantity":"-0.000000000001"},{"quantity":1e3}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var u Usage
		if json.Unmarshal([]byte(body), &u) != nil {
			return
		}
		for i, m := range u.Meters {
			q, err := ParseQuantity(m.Quantity.String())
			if err != nil || q.Cmp(m.Quantity) != 0 {
				t.Fatalf("meters[%d].quantity %s: String does not parse back: %v, %v", i, m.Quantity, q, err)
			}
		}
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", u, err)
		}
		var back Usage
		if err := json.Unmarshal(b, &back); err != nil || len(back.Meters) != len(u.Meters) {
			t.Fatalf("Unmarshal(%s) = %v, %d meters; want %d", b, err, len(back.Meters), len(u.Meters))
		}
		for i := range u.Meters {
			if back.Meters[i].Quantity.Cmp(u.Meters[i].Quantity) != 0 {
				t.Fatalf("meters[%d].quantity: %s after a round trip, want %s", i, back.Meters[i].Quantity, u.Meters[i].Quantity)
			}
		}
	})
}

// FuzzMoneyJSON decodes money fields (_nanos): a value that decodes
// survives a JSON round trip unchanged.
func FuzzMoneyJSON(f *testing.F) {
	for _, s := range []string{`"0"`, `"-170141183460469231731687303715884105728"`, `42`, `"1.5"`, `null`, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var m Money
		if json.Unmarshal([]byte(in), &m) != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", m, err)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || back.Cmp(m) != 0 {
			t.Fatalf("round trip of %s: %s (%s), %v", in, back, b, err)
		}
	})
}

// fuzzToken stands for the API token in FuzzAPIError; the fuzzer finds it
// in the seeds.
const fuzzToken = "bsk_test_fuzzsecret"

// FuzzAPIError decodes error answers, JSON or not, with any Retry-After
// and X-Request-Id: the error never carries the token, whatever the server
// echoes, its text stays bounded for a non-JSON body, and the wait it asks
// for is between 0 and 24 hours.
func FuzzAPIError(f *testing.F) {
	f.Add(500, `{"error":{"code":"internal_error","message":"boom","request_id":"req_1"}}`, "", "req_1")
	f.Add(429, `{"error":{"code":"rate_limited","message":"slow down"}}`, "2", "")
	f.Add(422, `{"error":{"code":"invalid","message":"bad","field":"`+fuzzToken+`","request_id":"`+fuzzToken+`"}}`, "", "")
	f.Add(401, "<html>key Bearer "+fuzzToken+" is not valid</html>", "Wed, 21 Oct 2099 07:28:00 GMT", fuzzToken)
	f.Add(503, "", "-1", "")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter, requestID string) {
		now := time.Now()
		e := newAPIError(exchange{status: status, retryAfter: retryAfter, requestID: requestID}, "POST", "/v1/events", []byte(body), fuzzToken)
		if msg := e.Error(); strings.Contains(msg, fuzzToken) {
			t.Fatalf("error text %q contains the token", msg)
		}
		var env ErrorBody
		if json.Unmarshal([]byte(body), &env) != nil && len(e.Message) > 3*maxErrorSnippet {
			t.Fatalf("message of a non-JSON body is %d bytes, want it bounded", len(e.Message))
		}
		if e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour+time.Since(now) {
			t.Fatalf("Retry-After %q = %v, want within [0, 24h]", retryAfter, e.RetryAfter)
		}
	})
}
