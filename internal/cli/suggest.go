package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// suggestFlag adds "did you mean -x?" to package flag's "flag provided but
// not defined: -y" when a flag of fs is close to -y.
func suggestFlag(fs *flag.FlagSet, err error) error {
	const prefix = "flag provided but not defined: -"
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return err
	}
	typed := strings.TrimLeft(strings.TrimPrefix(msg, prefix), "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if m := closest(typed, names); m != "" {
		return fmt.Errorf("%w (did you mean -%s?)", err, m)
	}
	return err
}

// errUnknownCommand is an unknown subcommand, with a suggestion when one
// is close.
func errUnknownCommand(typed string, c *Command) error {
	names := []string{"help"}
	for _, sub := range c.Subcommands {
		names = append(names, sub.Name)
	}
	msg := fmt.Sprintf("unknown command %q", typed)
	if m := closest(typed, names); m != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", m)
	} else {
		msg += " (commands: " + strings.Join(names, ", ") + ")"
	}
	return errors.New(msg)
}

// closest returns the candidate nearest to typed, if it is near enough to be
// a typo: one edit per four letters (at least one), or a prefix of at
// least three letters. Ties go to the first candidate.
func closest(typed string, candidates []string) string {
	best, bestDist := "", -1
	limit := max(1, len(typed)/4)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(typed), c)
		if len(typed) >= 3 && strings.HasPrefix(c, strings.ToLower(typed)) {
			d = min(d, 1)
		}
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and swaps of two adjacent
// letters ("og" for "go") each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
