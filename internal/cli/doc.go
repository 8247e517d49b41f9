// Package cli is the command-line wiring shared by the billharness
// commands: flags that fall back to environment variables, subcommand
// dispatch and -h text, flag.Value types for the project's domain syntax
// (rates, durations with days, shards, time windows, relative windows
// such as last-month), the shard of a Kubernetes Indexed Job's pod, the API
// connection
// flags and token loading, the logger, and the one mapping from errors to
// exit codes.
//
// Nothing here reads the process environment or writes to os.Stdout
// directly: commands pass getenv and their output streams in, so tests run
// them in-process.
package cli
