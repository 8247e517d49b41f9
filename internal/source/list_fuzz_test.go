package source

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseList parses -properties lists: names come back trimmed, without
// blanks, commas or repeats, and joining them parses to the same list.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"input_tokens,output_tokens,model", " a , ,b ", "a,a", ",", "é,\t x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseList(s)
		if err != nil {
			return
		}
		for i, n := range names {
			if n == "" || n != strings.TrimSpace(n) || strings.Contains(n, ",") || slices.Contains(names[:i], n) {
				t.Fatalf("ParseList(%q) = %q: name %q is blank, untrimmed, holds a comma or repeats", s, names, n)
			}
		}
		if again, err := ParseList(strings.Join(names, ",")); err != nil || !slices.Equal(again, names) {
			t.Fatalf("ParseList(%q) = %q, which joined parses to %q, %v", s, names, again, err)
		}
	})
}
