package cli

import (
	"errors"
	"flag"
	"log/slog"
	"strings"
	"testing"
)

// testFlags is a flag set of every kind, all with environment fallbacks.
type testFlags struct {
	name  string
	n     int
	on    bool
	rate  Rate
	level slog.Level
}

func newTestFlags() (*flag.FlagSet, *testFlags) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	v := &testFlags{rate: 100}
	String(fs, &v.name, "name", "T_NAME", "def", "a name")
	Int(fs, &v.n, "n", "T_N", 1, "a count")
	Bool(fs, &v.on, "on", "T_ON", false, "a switch")
	Var(fs, &v.rate, "rate", "T_RATE", "a rate")
	TextVar(fs, &v.level, "log-level", "T_LEVEL", slog.LevelInfo, "a level")
	return fs, v
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want testFlags
	}{
		{name: "defaults", want: testFlags{name: "def", n: 1, rate: 100}},
		{
			name: "env",
			env:  map[string]string{"T_NAME": "e", "T_N": "7", "T_ON": "true", "T_RATE": "30/m", "T_LEVEL": "debug"},
			want: testFlags{name: "e", n: 7, on: true, rate: 0.5, level: slog.LevelDebug},
		},
		{
			name: "flags beat env",
			args: []string{"-name", "f", "-n=9", "-on", "-rate", "0", "-log-level", "warn"},
			env:  map[string]string{"T_NAME": "e", "T_N": "7", "T_ON": "false", "T_RATE": "30/m", "T_LEVEL": "debug"},
			want: testFlags{name: "f", n: 9, on: true, rate: 0, level: slog.LevelWarn},
		},
		{
			name: "empty env is unset",
			env:  map[string]string{"T_NAME": "", "T_N": ""},
			want: testFlags{name: "def", n: 1, rate: 100},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, got := newTestFlags()
			if _, err := Parse(fs, tt.args, mapEnv(tt.env)); err != nil {
				t.Fatalf("Parse(%q) = %v", tt.args, err)
			}
			if *got != tt.want {
				t.Errorf("Parse(%q) with env %v set %+v, want %+v", tt.args, tt.env, *got, tt.want)
			}
		})
	}
}

func TestParseEnvMarksFlagSet(t *testing.T) {
	fs, _ := newTestFlags()
	if _, err := Parse(fs, nil, mapEnv(map[string]string{"T_N": "3"})); err != nil {
		t.Fatal(err)
	}
	var set []string
	fs.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	if got := strings.Join(set, ","); got != "n" {
		t.Errorf("flags set after env fallback = %q, want %q", got, "n")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{name: "unknown flag", args: []string{"-nope"}, want: []string{"flag provided but not defined: -nope"}},
		{name: "bad flag value", args: []string{"-rate", "fast"}, want: []string{`invalid value "fast" for flag -rate`}},
		{
			name: "every bad env var at once",
			env:  map[string]string{"T_N": "many", "T_RATE": "fast", "T_LEVEL": "loud"},
			want: []string{`"many" for T_N (-n)`, `"fast" for T_RATE (-rate)`, `"loud" for T_LEVEL (-log-level)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := newTestFlags()
			_, err := Parse(fs, tt.args, mapEnv(tt.env))
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("Parse(%q) = %v, want a usage error", tt.args, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) = %q, want it to contain %q", tt.args, err, w)
				}
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	fs, _ := newTestFlags()
	if _, err := Parse(fs, []string{"-h"}, mapEnv(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Parse(-h) = %v, want flag.ErrHelp", err)
	}
}

func TestBoolFlagStaysBool(t *testing.T) {
	fs, v := newTestFlags()
	// "-on x": with a non-bool Value, "x" would be taken as the flag's value.
	if _, err := Parse(fs, []string{"-on", "x"}, mapEnv(nil)); err != nil || !v.on || fs.Arg(0) != "x" {
		t.Errorf("Parse(-on x) = %v, on=%v, args=%q; want nil, true, [x]", err, v.on, fs.Args())
	}
}
