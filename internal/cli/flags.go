package cli

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// envValue is a flag.Value that falls back to an environment variable when
// its flag is not given on the command line.
type envValue struct {
	flag.Value
	env string
	// fromEnv is set when Parse took the value from env.
	fromEnv bool
}

// IsBoolFlag keeps "-flag" (without "=true") working for wrapped bool flags:
// package flag looks for this method on the Value it holds.
func (v *envValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get implements flag.Getter.
func (v *envValue) Get() any {
	if g, ok := v.Value.(flag.Getter); ok {
		return g.Get()
	}
	return v.Value.String()
}

// String implements flag.Value. Package flag calls it on a zero envValue.
func (v *envValue) String() string {
	if v == nil || v.Value == nil {
		return ""
	}
	return v.Value.String()
}

// bind makes the flag name of fs fall back to the environment variable env.
// An empty env leaves the flag command-line only.
func bind(fs *flag.FlagSet, name, env string) {
	if env == "" {
		return
	}
	f := fs.Lookup(name)
	f.Value = &envValue{Value: f.Value, env: env}
}

// EnvOf returns the environment variable the flag f falls back to, or "".
func EnvOf(f *flag.Flag) string {
	if v, ok := f.Value.(*envValue); ok {
		return v.env
	}
	return ""
}

// Source names where the flag f's value came from, for error messages:
// its environment variable when Parse read it from there, else "-name".
func Source(f *flag.Flag) string {
	if v, ok := f.Value.(*envValue); ok && v.fromEnv {
		return v.env
	}
	return "-" + f.Name
}

// String defines a string flag on fs that falls back to the environment
// variable env (none when env is "").
func String(fs *flag.FlagSet, p *string, name, env, value, usage string) {
	fs.StringVar(p, name, value, usage)
	bind(fs, name, env)
}

// Bool defines a bool flag on fs that falls back to the environment variable
// env, which must hold a value strconv.ParseBool accepts.
func Bool(fs *flag.FlagSet, p *bool, name, env string, value bool, usage string) {
	fs.BoolVar(p, name, value, usage)
	bind(fs, name, env)
}

// Int defines an int flag on fs that falls back to the environment variable env.
func Int(fs *flag.FlagSet, p *int, name, env string, value int, usage string) {
	fs.IntVar(p, name, value, usage)
	bind(fs, name, env)
}

// Var defines a flag of any flag.Value type (Rate, Shard, Window, Duration…)
// on fs that falls back to the environment variable env. The default is v's
// value when Var is called.
func Var(fs *flag.FlagSet, v flag.Value, name, env, usage string) {
	fs.Var(v, name, usage)
	bind(fs, name, env)
}

// TextVar defines a flag whose type implements encoding.TextUnmarshaler,
// such as slog.Level, on fs; it falls back to the environment variable env.
func TextVar(fs *flag.FlagSet, p encoding.TextUnmarshaler, name, env string, value encoding.TextMarshaler, usage string) {
	fs.TextVar(p, name, value, usage)
	bind(fs, name, env)
}

// Parse parses args into fs, then sets each flag that args did not give from
// its environment variable, read with getenv: a flag given wins over its
// variable, which wins over the default. An empty variable counts as unset,
// as Kubernetes manifests often leave them empty. It returns the positional
// arguments; flags stop at the first one, as package flag does.
//
// Parse writes nothing: it silences fs and returns flag.ErrHelp for -h, or a
// *UsageError carrying the message for a bad flag (with a "did you mean"
// when a defined flag is close), and one *UsageError naming every bad
// variable at once. fs must use flag.ContinueOnError.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	return parse(fs, args, getenv, false)
}

// ParseInterspersed is Parse for a command without subcommands: flags may
// also follow positional arguments ("report DIR -out X"), as GNU tools and
// most CLIs allow; "--" ends the flags.
func ParseInterspersed(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	return parse(fs, args, getenv, true)
}

func parse(fs *flag.FlagSet, args []string, getenv func(string) string, intersperse bool) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &UsageError{Err: suggestFlag(fs, err)}
		}
		rest := fs.Args()
		if !intersperse || len(rest) == 0 {
			positional = append(positional, rest...)
			break
		}
		// Package flag stops at "--" (consumed) or at the first positional.
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if err := fromEnv(fs, getenv); err != nil {
		return nil, err
	}
	return positional, nil
}

// fromEnv sets each flag of fs not given on the command line from its
// environment variable.
func fromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvOf(f)
		if env == "" || given[f.Name] {
			return
		}
		s := getenv(env)
		if s == "" {
			return
		}
		// fs.Set, not f.Value.Set, so that fs.Visit reports the flag as set.
		if err := fs.Set(f.Name, s); err != nil {
			errs = append(errs, fmt.Errorf("invalid value %q for %s (-%s): %w", s, env, f.Name, err))
			return
		}
		f.Value.(*envValue).fromEnv = true
	})
	if len(errs) > 0 {
		return &UsageError{Err: errors.Join(errs...)}
	}
	return nil
}

// CheckWritable makes sure a run will be able to write the file at path
// (named by flag in the message) before it does any work: its directory
// exists and takes new files, and path is not a directory. A job that
// learns this only at the end has done the work for nothing.
func CheckWritable(flag, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return Usagef("-%s %s: is a directory, want a file", flag, path)
	}
	return checkDir(flag, filepath.Dir(path))
}

// CheckWritableDir is CheckWritable for a directory a run writes files
// into; a missing one is created, as the run would.
func CheckWritableDir(flag, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Usagef("-%s %s: %v", flag, dir, err)
	}
	return checkDir(flag, dir)
}

func checkDir(flag, dir string) error {
	f, err := os.CreateTemp(dir, ".billharness-probe-*")
	if err != nil {
		return Usagef("-%s: cannot write in %s: %v", flag, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
