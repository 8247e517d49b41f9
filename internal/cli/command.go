package cli

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/billharness/billharness/internal/source"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Command is a command or subcommand: its flags, the text -h prints, and
// either subcommands or the function it runs.
type Command struct {
	// Name selects the command: the program name for the root, a word such
	// as "replay" for a subcommand.
	Name string
	// Args is the usage line's synopsis of positional arguments, if any.
	Args string
	// Summary is one line, shown in the parent's list of commands.
	Summary string
	// Description is shown by -h under the usage line; it may hold several
	// paragraphs.
	Description string
	// Examples are command lines shown by -h, one per entry.
	Examples []string
	// Flags are the command's flags; nil means none. Define them with
	// String, Var and the like to give them environment fallbacks.
	Flags *flag.FlagSet
	// Subcommands are selected by the first argument after the flags and
	// listed by -h in this order.
	Subcommands []*Command
	// Exec runs the command with the arguments left after the flags. For a
	// command with subcommands, it runs only when no argument names one;
	// nil makes a missing subcommand a usage error.
	Exec func(ctx context.Context, args []string) error
	// Version, set on the root, is what -version prints after the root's
	// name. Every command gets -version, as every command gets -h.
	Version string
}

// runEnv is what a command line's run carries down to its subcommands.
type runEnv struct {
	getenv  func(string) string
	stdout  io.Writer
	root    string
	version string
}

// Run parses args (flags with environment fallbacks read through getenv),
// then runs the subcommand the next argument names, or Exec. A command
// without subcommands also takes flags after its positional arguments.
//
// On -h, or "help [command…]" in place of a subcommand, it writes the
// usage to stdout and returns flag.ErrHelp; on -version it writes the root's
// name and Version and returns nil. Errors come back prefixed with the
// command path ("reconcile replay: …"); usage errors as a *UsageError that
// also points to -h, with a "did you mean" for a mistyped flag or command.
func (c *Command) Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return c.run(ctx, c.Name, args, &runEnv{getenv: getenv, stdout: stdout, root: c.Name, version: c.Version})
}

func (c *Command) run(ctx context.Context, path string, args []string, env *runEnv) error {
	fs := c.Flags
	if fs == nil {
		fs = flag.NewFlagSet(c.Name, flag.ContinueOnError)
		c.Flags = fs
	}
	var showVersion bool
	if fs.Lookup("version") == nil {
		fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	}
	parse := ParseInterspersed
	if len(c.Subcommands) > 0 {
		parse = Parse
	}
	rest, err := parse(fs, args, env.getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c.help(path, env.stdout)
		}
		return &UsageError{Cmd: path, Err: err}
	}
	if showVersion {
		_, err := fmt.Fprintf(env.stdout, "%s %s\n", env.root, env.version)
		return err
	}
	if len(c.Subcommands) > 0 && len(rest) > 0 {
		if rest[0] == "help" {
			return c.helpFor(path, rest[1:], env.stdout)
		}
		for _, sub := range c.Subcommands {
			if sub.Name == rest[0] {
				return sub.run(ctx, path+" "+sub.Name, rest[1:], env)
			}
		}
		return &UsageError{Cmd: path, Err: errUnknownCommand(rest[0], c)}
	}
	if c.Exec == nil {
		return &UsageError{Cmd: path, Err: errors.New("missing command")}
	}
	err = c.Exec(ctx, rest)
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return err
	case errors.As(err, &ue) && ue.Cmd == "":
		return &UsageError{Cmd: path, Err: err}
	case errors.As(err, &ue):
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// help writes c's usage and returns flag.ErrHelp.
func (c *Command) help(path string, stdout io.Writer) error {
	if err := c.WriteUsage(stdout, path); err != nil {
		return fmt.Errorf("%s: write usage: %w", path, err)
	}
	return flag.ErrHelp
}

// helpFor answers "help a b": the usage of subcommand a's subcommand b.
func (c *Command) helpFor(path string, names []string, stdout io.Writer) error {
	cmd := c
	for _, name := range names {
		var next *Command
		for _, sub := range cmd.Subcommands {
			if sub.Name == name {
				next = sub
			}
		}
		if next == nil {
			return &UsageError{Cmd: path, Err: errUnknownCommand(name, cmd)}
		}
		cmd, path = next, path+" "+name
	}
	return cmd.help(path, stdout)
}

// WriteUsage writes the -h text of c, invoked as path ("reconcile replay"):
// usage line, description, commands, flags with their defaults and
// environment variables, and examples.
func (c *Command) WriteUsage(w io.Writer, path string) error {
	var b strings.Builder
	line := path
	if len(c.Subcommands) > 0 {
		line += " <command>"
	}
	if c.Flags != nil && hasFlags(c.Flags) {
		line += " [flags]"
	}
	if c.Args != "" {
		line += " " + c.Args
	}
	fmt.Fprintf(&b, "Usage:\n  %s\n", line)
	if d := strings.TrimSpace(c.Description); d != "" {
		fmt.Fprintf(&b, "\n%s\n", d)
	}
	if len(c.Subcommands) > 0 {
		b.WriteString("\nCommands:\n")
		tw := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
		for _, sub := range c.Subcommands {
			fmt.Fprintf(tw, "  %s\t%s\n", sub.Name, sub.Summary)
		}
		tw.Flush()
	}
	if c.Flags != nil && hasFlags(c.Flags) {
		b.WriteString("\nFlags:\n")
		c.Flags.VisitAll(func(f *flag.Flag) { writeFlag(&b, f) })
	}
	if len(c.Examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, ex := range c.Examples {
			fmt.Fprintf(&b, "  %s\n", ex)
		}
	}
	if len(c.Subcommands) > 0 {
		fmt.Fprintf(&b, "\nRun '%s help <command>' or '%s <command> -h' for a command's flags.\n", path, path)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// writeFlag writes one flag as package flag's PrintDefaults does, plus the
// environment variable it falls back to.
func writeFlag(b *strings.Builder, f *flag.Flag) {
	inner := *f
	if v, ok := f.Value.(*envValue); ok {
		inner.Value = v.Value // so UnquoteUsage sees the real type
	}
	name, usage := flag.UnquoteUsage(&inner)
	if name == "value" {
		name = valueName(inner.Value)
	}
	fmt.Fprintf(b, "  -%s", f.Name)
	if name != "" {
		fmt.Fprintf(b, " %s", name)
	}
	fmt.Fprintf(b, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
	var notes []string
	// A usage that explains its own default ("(default: GOMEMLIMIT…)")
	// is not followed by the flag's zero value.
	if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" && !strings.Contains(usage, "(default") {
		notes = append(notes, "default "+f.DefValue)
	}
	if env := EnvOf(f); env != "" {
		notes = append(notes, "env "+env)
	}
	if len(notes) > 0 {
		fmt.Fprintf(b, " (%s)", strings.Join(notes, "; "))
	}
	b.WriteString("\n")
}

// valueName names the argument of this package's flag.Value types in -h,
// where package flag would say "value".
func valueName(v flag.Value) string {
	switch v.(type) {
	case *Rate:
		return "rate"
	case *Duration:
		return "duration"
	case *Bytes:
		return "size"
	case *source.Shard:
		return "i/N"
	case *source.Window:
		return "from..to"
	}
	return "value"
}

// RunFunc is a command's testable entry point: its arguments (without the
// program name), environment and streams.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error

// Main is all a command's main function does: it calls run with a context
// that the first SIGINT or SIGTERM cancels (a second one kills at once)
// and exits with the exit code of run's error.
func Main(run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills at once
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(ExitCode(err))
}

// Execute runs c with args, as Run does, and prints its error (help
// aside) to stderr.
func (c *Command) Execute(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := c.Run(ctx, args, getenv, stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, err)
	}
	return err
}

// NoArgs is the Exec of a command that takes no positional arguments: it
// refuses any, naming them, and otherwise runs f.
func NoArgs(f func(ctx context.Context) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return Usagef("unexpected arguments: %s", strings.Join(args, " "))
		}
		return f(ctx)
	}
}

// Env is what a command's run hands its subcommands: the environment and
// the standard streams.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Runner is the run function of a command whose root newRoot builds from
// the environment and streams it is run with.
func Runner(newRoot func(*Env) *Command) RunFunc {
	return func(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
		return newRoot(&Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}).Execute(ctx, args, getenv, stdout, stderr)
	}
}
