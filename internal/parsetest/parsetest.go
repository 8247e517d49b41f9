// Package parsetest runs the table tests of the project's parsers (rates,
// durations, shards, windows, sources, tolerances, thresholds, stages,
// money): each input, and the value or the error it must give.
package parsetest

import (
	"reflect"
	"strings"
	"testing"
)

// Case is one input and what parsing it must give: Want, or, when Err is
// set, an error whose message contains Err. Fail expects an error
// whatever its message.
type Case[T any] struct {
	In   string
	Want T
	Err  string
	Fail bool
}

// Run parses each case's input with parse, as a subtest named by the
// input, and reports every result that is not what the case wants; name
// is the parser in the messages. Results are compared with
// reflect.DeepEqual. Each then runs after a case's own checks, for more.
func Run[T any](t *testing.T, name string, parse func(string) (T, error), cases []Case[T], then ...Then[T]) {
	t.Helper()
	RunEqual(t, name, parse, func(a, b T) bool { return reflect.DeepEqual(a, b) }, cases, then...)
}

// Then is a further check of a case's result.
type Then[T any] func(t *testing.T, c Case[T], got T, err error)

// RunEqual is Run with results compared by equal.
func RunEqual[T any](t *testing.T, name string, parse func(string) (T, error), equal func(a, b T) bool, cases []Case[T], then ...Then[T]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.In, func(t *testing.T) {
			got, err := parse(c.In)
			switch {
			case c.Err != "" || c.Fail:
				if err == nil || !strings.Contains(err.Error(), c.Err) {
					t.Fatalf("%s(%q) = %v, %v, want an error containing %q", name, c.In, got, err, c.Err)
				}
			case err != nil || !equal(got, c.Want):
				t.Fatalf("%s(%q) = %v, %v, want %v", name, c.In, got, err, c.Want)
			}
			for _, f := range then {
				f(t, c, got, err)
			}
		})
	}
}
